"""Breakdown rows carry the headline's fields (issue 13 item 7, METRICS.md "Breakdowns"): the 95% interval,
n, the previous value, the change, whether it is beyond the noise and a small-sample flag — in JSON, text
and Slack — so "Enterprise 0.0% n=3 −42.9 pts" no longer reads as news."""

import json
from datetime import date

import pytest

import config
from bot.context import build_context
from bot.query import answer
from bot.render.blocks import render_blocks
from bot.render.json import render_json
from bot.render.text import render_text
from tests.workbooks import write_source_workbook

TODAY = date(2026, 11, 25)


def plan_book(path):
    """CSAT (1–5, satisfied ≥ 4) by plan, October 2026 vs September 2026.

    Enterprise (E1–E3): October 3 answers of 2 → 0 of 3; September 7 answers 5, 5, 4, 2, 2, 2, 1 → 3 of 7.
    Pro (P01–P30, 10 answers each a month): October P01–P15 answer 5, P16–P30 answer 2 → 150 of 300;
    September P01–P21 answer 4, P22–P30 answer 1 → 210 of 300.
    NPS in October: Enterprise 10, 9, 3 → 2 promoters, 1 detractor of 3; none in September."""
    customers = [["Customer ID", "Signup Date", "Plan"]]
    customers += [[f"E{i}", date(2025, 1, 1), "Enterprise"] for i in range(1, 4)]
    customers += [[f"P{i:02d}", date(2025, 1, 1), "Pro"] for i in range(1, 31)]
    responses = [["Date", "Survey", "Score", "Customer ID"]]
    responses += [[date(2026, 10, 5), "CSAT", 2, f"E{i}"] for i in range(1, 4)]
    september = [("E1", 5), ("E1", 5), ("E2", 4), ("E2", 2), ("E3", 2), ("E3", 2), ("E3", 1)]
    responses += [[date(2026, 9, 5 + k), "CSAT", score, cid] for k, (cid, score) in enumerate(september)]
    for i in range(1, 31):
        for day in range(1, 11):
            responses.append([date(2026, 10, day), "CSAT", 5 if i <= 15 else 2, f"P{i:02d}"])
            responses.append([date(2026, 9, day), "CSAT", 4 if i <= 21 else 1, f"P{i:02d}"])
    responses += [[date(2026, 10, 7), "NPS", score, cid] for cid, score in (("E1", 10), ("E2", 9), ("E3", 3))]
    return write_source_workbook(path, {"Customers": customers, "Responses": responses})


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    path = plan_book(tmp_path_factory.mktemp("breakdowns") / "plans.xlsx")
    return build_context(config.parse_settings({}), workbook=str(path), today=TODAY)


def test_breakdown_rows_carry_interval_change_significance_and_small_sample(ctx):
    """Wilson, z = 1.96, z² = 3.8416:
    Enterprise 0 of 3: low 0; high = (z²/n) / (1 + z²/n) = 1.28053 / 2.28053 = 56.151%.
      Change 0 − 3/7 = −42.857 pts; pooled p = 3/10, SE = √(0.3·0.7·(1/3 + 1/7)) = √0.1 = 0.31623,
      z = −0.42857 / 0.31623 = −1.3553, p = 0.1753 ≥ 0.05 → within noise; n = 3 < 30 → small sample.
    Pro 150 of 300: centre 0.5; half = 1.96·√(0.25/300 + 3.8416/360000) / (1 + 3.8416/300)
      = 1.96·0.0290517 / 1.0128053 = 0.0562215 → 44.378%–55.622%.
      Change 50 − 70 = −20 pts; pooled 360/600 = 0.6, SE = √(0.24·2/300) = 0.04, z = −5, p = 5.7e−7 → significant."""
    data = render_json(answer("csat 2026-10 by plan", ctx))
    rows = {s["segment"]: s for s in data["breakdown"]}
    ent, pro = rows["Enterprise"], rows["Pro"]
    assert [s["segment"] for s in data["breakdown"]] == ["Pro", "Enterprise"]
    assert (ent["value"], ent["n"], ent["numerator"], ent["denominator"]) == (0.0, 3, 0, 3)
    assert ent["interval"]["low"] == 0.0 and ent["interval"]["high"] == pytest.approx(56.151, abs=1e-3)
    assert ent["previous"] == pytest.approx(300 / 7) and ent["change"] == pytest.approx(-300 / 7)
    assert ent["p_value"] == pytest.approx(0.1753, abs=1e-4) and ent["significant"] is False
    assert ent["small_sample"] is True
    assert (pro["value"], pro["n"]) == (50.0, 300)
    assert pro["interval"]["low"] == pytest.approx(44.378, abs=1e-3) and pro["interval"]["high"] == pytest.approx(55.622, abs=1e-3)
    assert pro["previous"] == pytest.approx(70.0) and pro["change"] == pytest.approx(-20.0)
    assert pro["p_value"] == pytest.approx(5.733e-7, rel=1e-3) and pro["significant"] is True
    assert pro["small_sample"] is False


def test_nps_breakdown_interval_is_the_margin_clipped(ctx):
    """Enterprise NPS: 2 promoters, 1 detractor of 3 → 33.3; SE = 100·√((2/3 + 1/3 − (1/3)²)/3) = 54.433,
    margin 1.96 × 54.433 = 106.689 → 33.333 − 106.689 = −73.356, 33.333 + 106.689 clipped to 100.
    No September answers: previous, change and significance are unknown (None), never 0."""
    data = render_json(answer("nps 2026-10 by plan", ctx))
    ent = {s["segment"]: s for s in data["breakdown"]}["Enterprise"]
    assert ent["value"] == pytest.approx(100 / 3)
    assert ent["interval"]["low"] == pytest.approx(-73.356, abs=1e-3) and ent["interval"]["high"] == 100.0
    assert ent["previous"] is None and ent["change"] is None and ent["significant"] is None
    assert ent["small_sample"] is True


def test_text_flags_small_samples_and_calls_only_real_changes_significant(ctx):
    text = render_text(answer("csat 2026-10 by plan", ctx))
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith(("Pro ", "Enterprise "))}
    assert "44.4%–55.6%" in lines["Pro"] and "70.0%" in lines["Pro"] and "significant" in lines["Pro"]
    assert "within noise" not in lines["Pro"] and "small sample" not in lines["Pro"]
    assert "0.0%–56.2%" in lines["Enterprise"] and "42.9%" in lines["Enterprise"]
    assert "within noise" in lines["Enterprise"] and "small sample" in lines["Enterprise"]


def test_slack_movers_show_noise_and_small_sample(ctx):
    """Pro's −20 pts is beyond the noise and leads; Enterprise's larger −42.9 pts on 3 answers follows, marked."""
    blocks = render_blocks(answer("csat 2026-10 by plan", ctx))
    section = next(b["text"]["text"] for b in blocks if b["type"] == "section" and "by plan" in b["text"]["text"])
    lines = section.split("\n")
    assert lines[1].startswith("• Pro: 50.0%") and "significant" in lines[1] and "44.4%–55.6%" in lines[1]
    assert lines[2].startswith("• Enterprise: 0.0%") and "within noise" in lines[2] and "small sample" in lines[2]
    assert "significant" not in lines[2]
    assert json.dumps(blocks)


def test_digest_movers_carry_interval_and_verdict_and_rank_real_changes_first(ctx):
    """Movers over October vs September (figures as above). With min_n = 30 only Pro's −20 pts is eligible;
    with min_n = 1 Enterprise's larger −42.9 pts (within noise) comes after Pro's significant −20 pts."""
    from bot.digest.builder import movers
    from bot.digest.render import PLAIN, mover_line
    from metrics.periods import parse_period

    t, o = ctx.tables(ctx.snapshot().snapshot), ctx.options()
    october = parse_period("2026-10", TODAY)
    (pro,) = movers(t, october, o, exclude=set(), min_n=30)
    assert (pro.segment, pro.n, pro.significant, pro.small_sample) == ("Pro", 300, True, False)
    assert pro.interval.low == pytest.approx(44.378, abs=1e-3) and pro.interval.high == pytest.approx(55.622, abs=1e-3)
    assert mover_line(pro, PLAIN) == (
        "• CSAT, plan = Pro: 70.0% → 50.0% (▼ 20.0 pts, n = 300, 95% CI 44.4%–55.6%, significant)"
    )
    both = movers(t, october, o, exclude=set(), min_n=1)
    assert [(m.segment, m.significant) for m in both] == [("Pro", True), ("Enterprise", False)]
    assert mover_line(both[1], PLAIN).endswith("(▼ 42.9 pts, n = 3, 95% CI 0.0%–56.2%, within noise · small sample)")
