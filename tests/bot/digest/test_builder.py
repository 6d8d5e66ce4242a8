"""Digest content on a small hand-made workbook, every expectation computed by hand from the rows below."""

from datetime import date

import pytest

from bot.digest import builder
from bot.digest.builder import build_digest
from bot.digest.render import SLACK, PLAIN, render_blocks, render_text, sections
from tests.bot.digest.conftest import CUSTOMERS, ORDERS, RESPONSES, D, context_at, utc, write_workbook

W12 = date(2026, 3, 16)


@pytest.fixture
def small(tmp_path):
    path = write_workbook(tmp_path / "small.xlsx", {"Customers": CUSTOMERS, "Orders": ORDERS, "Responses": RESPONSES})
    settings = {"targets": {"nps": 40, "churn": 5}, "surveys": {"min_n": 4}}
    ctx, _ = context_at(settings, path, utc(2026, 3, 25, 9))
    return ctx


def test_week_kpis_surveys_and_comments(small):
    d = build_digest(small)  # default: the last full week before 25 March
    assert (d.week.label, d.week.start, d.week.end) == ("2026-W12", W12, date(2026, 3, 23))
    assert (d.trailing.start, d.trailing.end) == (date(2025, 12, 22), date(2026, 3, 23))
    assert not d.quiet and d.new_rows["orders"] == 2 and d.new_rows["responses"] == 6
    # Complaints and Spend are missing: their metrics are left out, not shown as zero
    assert [k.metric for k in d.kpis] == ["revenue", "orders", "aov", "new", "customers", "retention", "churn", "repeat", "nps", "csat"]
    revenue = d.kpi("revenue")
    assert revenue.week.value == 150.0 and revenue.week.previous.value == 30.0 and revenue.trailing.value == 200.0
    nps = d.kpi("nps").week
    # 10, 9, 3, 8, 6 → 2 promoters, 1 passive, 2 detractors of 5 → NPS 0; margin 1.96·100·sqrt(0.8/5) = 78.4
    assert nps.value == 0 and (nps.details["promoters"], nps.details["passives"], nps.details["detractors"]) == (2, 1, 2)
    assert nps.details["margin"] == pytest.approx(78.4)
    assert (d.responses, d.commented, d.comment_rate) == (6, 4, pytest.approx(200 / 3))
    assert (d.since, d.new_promoters, d.new_detractors) == (W12, 2, 2)
    assert [(c.customer_id, c.score, c.text) for c in d.promoter_comments] == [("C1", 10, "Great <b>service</b>   & fast")]
    assert [(c.customer_id, c.text) for c in d.detractor_comments] == [("C3", "Slow <!channel>")]


def test_new_since_the_last_digest_reaches_back_and_lists_newest_first(small):
    d = build_digest(small, W12, since=date(2026, 3, 9))
    assert (d.new_promoters, d.new_detractors) == (3, 3)
    assert [c.text for c in d.promoter_comments] == ["Great <b>service</b>   & fast", "Old praise"]
    assert [c.text for c in d.detractor_comments] == ["Slow <!channel>", "Old complaint"]


def test_targets_render_as_text_progress_bars(small):
    d = build_digest(small, W12)
    # trailing NPS: 10 9 3 8 6 10 0 → 3 promoters, 3 detractors of 7 → 0, target 40
    nps = d.kpi("nps").trailing
    assert nps.value == 0 and nps.target.met is False
    # churn (inactivity, 90 days): all 6 active on 22 Dec; only C1–C3 ordered since → 3 of 6 = 50%, target 5%
    churn = d.kpi("churn").trailing
    assert churn.value == pytest.approx(50.0) and churn.target.met is False
    (heading, lines), = [s for s in sections(d, PLAIN) if s[0].startswith("Targets")]
    assert lines == [
        "Customer churn 50.0% / target 5.0%  ▰▱▱▱▱▱▱▱▱▱ 10%  ✗ missed (+45.0 pts)",
        "Net Promoter Score 0 / target +40  ▱▱▱▱▱▱▱▱▱▱ 0%  ✗ missed (-40 pts)",
    ]


def test_movers_rank_by_change_and_respect_min_n(small):
    d = build_digest(small, W12)
    # NPS by region, trailing 13 weeks vs the 13 before: South -100 → -50 (n 4); North +100 → +66.7 (n 3, below min_n 4)
    assert [(m.metric, m.dimension, m.segment, m.previous, m.change, m.n) for m in d.movers] == [
        ("nps", "region", "South", -100.0, 50.0, 4)
    ]
    small.settings.surveys.min_n = 1
    d = build_digest(small, W12)
    nps_movers = [(m.segment, round(m.change, 1)) for m in d.movers if m.metric == "nps"]
    assert nps_movers == [("South", 50.0), ("North", -33.3)]


def test_segment_filter_scopes_everything(small):
    d = build_digest(small, W12, "region=South")
    assert d.segment == {"region": "South"}
    assert d.kpi("revenue").week.value == 50.0
    assert d.responses == 3 and (d.new_promoters, d.new_detractors) == (1, 2)
    assert all(m.dimension != "region" for m in d.movers)
    assert "region=South" in d.label


def test_values_from_the_sheet_are_escaped_for_slack_only(small):
    d = build_digest(small, W12)
    slack = "\n".join(line for _, lines in sections(d, SLACK) for line in lines)
    assert "“Great &lt;b&gt;service&lt;/b&gt; &amp; fast” — customer C1, score 10, 2026-03-16" in slack
    assert "<!channel>" not in slack and "Slow &lt;!channel&gt;" in slack
    blocks = str(render_blocks(d))
    assert "<!channel>" not in blocks and "<b>" not in blocks
    text = render_text(d)
    assert "“Great <b>service</b> & fast” — customer C1" in text


def test_a_week_without_new_rows_says_so_in_one_line(small):
    small.clock.now = utc(2026, 4, 1, 9)
    d = build_digest(small, date(2026, 3, 23))
    assert d.quiet and d.kpis == [] and d.trend == []
    text = render_text(d)
    assert "No new rows dated in 2026-W13 (23 Mar – 29 Mar 2026) — nothing changed since the last digest." in text
    assert "Revenue" not in text
    blocks = render_blocks(d)
    assert [b["type"] for b in blocks] == ["header", "section", "context"]


def test_unknown_segment_is_a_clear_error(small):
    from metrics.engine import MetricError

    with pytest.raises(MetricError, match="no customers with region = 'West'"):
        build_digest(small, W12, "region=West")


def test_a_segment_without_churn_dates_keeps_the_whole_books_churn_rule(tmp_path):
    """Only C1 (North) has a churned_on date, so the whole book uses the explicit rule (METRICS.md): South's churn in
    2026-W12 is 0 lost of its 3 active customers (C2, C3, C6) — in the trend as in the headline. Deciding the rule on
    South's rows alone switched it to the inactivity rule, whose figure for that week came out n/a."""
    customers = [["customer_id", "signup_date", "churned_on", "region"]] + [
        [row[0], row[1], D(2026, 3, 18) if row[0] == "C1" else None, row[2]] for row in CUSTOMERS[1:]
    ]
    path = write_workbook(tmp_path / "churn.xlsx", {"Customers": customers, "Orders": ORDERS, "Responses": RESPONSES})
    ctx, _ = context_at({"churn": {"after_days": 70}}, path, utc(2026, 3, 25, 9))
    d = build_digest(ctx, W12, "region=South")
    assert d.kpi("churn").week.value == 0.0
    assert d.trend[-1].values["churn"] == 0.0  # the report week's point
