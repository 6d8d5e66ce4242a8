"""The analyses end to end on the demo workbook: why (mix/rate + correlations), forecast, survival (+ chart),
the new seed metrics through `pulse ask --json` and the summary tabs, and the digest's what-moved hook."""

import json
import math
import struct
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import config
from bot.analyses import what_moved_line
from bot.charts import survival_chart
from bot.cli import main
from bot.context import build_context
from bot.query import answer
from bot.render.analysis import what_moved
from bot.render.json import render_json
from bot.render.text import render_text
from bot.replies import ErrorReply, MetricReply, TableReply
from metrics.analysis import trailing_months
from metrics.decompose import Driver, explanation, mix_rate
from metrics.engine import compute, resolve_options, segment_tables
from metrics.periods import parse_period
from metrics.registry import METRICS
from metrics.survival import kaplan_meier
from sheets.demo import DROP_REGION, build_demo_rows
from sheets.local import LocalWorkbook
from tests.bot.conftest import TODAY
from tests.workbooks import write_source_workbook

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def ctx(demo_master):
    """One read-only context over the demo workbook for the whole module."""
    return build_context(config.parse_settings({}), workbook=str(demo_master), today=TODAY)


@pytest.fixture(scope="module")
def raw(ctx):
    """The demo's source rows as generated (header first), for hand counts independent of the metrics code."""
    return build_demo_rows(TODAY)


@pytest.fixture(scope="module")
def asked(ctx):
    """Answers by command text, computed once per module."""
    cache: dict[str, object] = {}

    def ask(text: str):
        if text not in cache:
            cache[text] = answer(text, ctx)
        return cache[text]

    return ask


def run_json(capsys, workbook, text, *extra):
    code = main(["ask", text, "--json", "--workbook", str(workbook), "--today", TODAY.isoformat(), *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def tables(ctx):
    return ctx.tables(ctx.snapshot().snapshot)


def parts_sum(data) -> float:
    return sum(p["total"] for p in data["parts"]) + data["residual"]


# ---- why ------------------------------------------------------------------------------------------------------


def test_why_nps_by_region_json_parts_add_up_and_name_the_dropping_region(demo_master, ctx, capsys):
    code, data, err = run_json(capsys, demo_master, "why nps last-quarter by region")
    assert code == 0, err
    assert data["metric"] == "nps" and data["by"] == "region"
    assert data["period"]["label"] == "2026-Q3" and data["previous_period"]["label"] == "2026-Q2"
    assert {p["segment"] for p in data["parts"]} == {"North", "South", "East", "West"}
    for p in data["parts"]:
        assert set(p) >= {"segment", "mix", "rate", "total"}
        assert p["mix"] + p["rate"] == pytest.approx(p["total"], abs=1e-12)
    assert math.isclose(parts_sum(data), data["change"], abs_tol=1e-9)
    assert data["change"] == pytest.approx(data["after"] - data["before"], abs=1e-12)
    # The demo pulls South's scores down from the start of the latest full quarter.
    assert data["parts"][0]["segment"] == DROP_REGION and data["parts"][0]["rate"] < 0
    assert DROP_REGION in data["sentence"] and "fell" in data["sentence"]
    assert data["sentence"] in data["notes"]
    assert [c["metric"] for c in data["correlations"]] == ["nps", "csat", "complaints", "repeat"]
    for c in data["correlations"]:
        assert 0 < c["n"] <= 12 * 4
        assert c["rho"] is None or (-1 <= c["rho"] <= 1 and 0 <= c["p_value"] <= 1)
    # The overall values are the NPS of each quarter, as `/pulse nps` reports them.
    o = ctx.options()
    t = tables(ctx)
    assert data["after"] == pytest.approx(compute("nps", t, parse_period("2026-Q3", TODAY), o).value)
    assert data["before"] == pytest.approx(compute("nps", t, parse_period("2026-Q2", TODAY), o).value)


def test_why_nps_parts_match_a_hand_split_of_the_segment_scores(asked, ctx):
    """mix = Δw·((v₀+v₁)/2 − V̄) and rate = Δv·(w₀+w₁)/2, from the per-region NPS and answer counts of
    `nps … by region` (V̄: the mean of the two periods' answer-weighted averages)."""
    data = render_json(asked("why nps last-quarter by region"))
    after = {s.segment: s for s in answer("nps 2026-Q3 by region", ctx).result.breakdown}
    before = {s.segment: s for s in answer("nps 2026-Q2 by region", ctx).result.breakdown}
    n1, n0 = sum(s.n for s in after.values()), sum(s.n for s in before.values())
    v1 = sum(s.n / n1 * s.value for s in after.values())
    v0 = sum(s.n / n0 * s.value for s in before.values())
    centre = (v0 + v1) / 2
    for p in data["parts"]:
        a, b = after[p["segment"]], before[p["segment"]]
        w1, w0 = a.n / n1, b.n / n0
        assert p["mix"] == pytest.approx((w1 - w0) * ((b.value + a.value) / 2 - centre), abs=1e-9)
        assert p["rate"] == pytest.approx((a.value - b.value) * (w0 + w1) / 2, abs=1e-9)
    explained = v1 - v0
    # Answers without a customer id belong to no region: that part of the change is the residual.
    assert data["residual"] == pytest.approx(data["change"] - explained, abs=1e-9)
    assert abs(data["residual"]) > 0


def test_why_correlations_are_spearman_over_months_and_segments(asked, ctx):
    data = render_json(asked("why nps last-quarter by region"))
    t, o = tables(ctx), resolve_options(tables(ctx), ctx.options())
    months = trailing_months(date(2026, 10, 1), 12)
    assert [m.label for m in months] == data["correlation_months"]
    assert months[0].label == "2025-10" and months[-1].label == "2026-09"
    pairs = []
    for region in ("North", "South", "East", "West"):
        part = segment_tables(t, "region", region)
        for m in months:
            pairs.append((METRICS["retention"].fn(part, m, o).value, METRICS["nps"].fn(part, m, o).value))
    pairs = [(r, n) for r, n in pairs if r is not None and n is not None]
    rho, p = sps.spearmanr([r for r, _ in pairs], [n for _, n in pairs])
    nps = next(c for c in data["correlations"] if c["metric"] == "nps")
    assert nps["n"] == len(pairs)
    assert nps["rho"] == pytest.approx(rho, abs=1e-12) and nps["p_value"] == pytest.approx(p, rel=1e-9)
    assert any(n.startswith("Spearman correlation with retention") for n in data["notes"])


def test_why_churn_without_by_picks_the_dimension_that_explains_most(asked, ctx):
    reply = asked("why churn last-month")
    assert isinstance(reply, TableReply), reply
    data = render_json(reply)
    assert data["period"]["label"] == "2026-10"
    assert math.isclose(parts_sum(data), data["change"], abs_tol=1e-9)
    # "Explains most": the segment whose part strays furthest from its weight's share of the change.
    stray = {}
    for dim in tables(ctx).dimensions:
        split = render_json(asked(f"why churn last-month by {dim}"))
        explained = sum(p["total"] for p in split["parts"])
        stray[dim] = max(abs(p["total"] - (p["weight_before"] + p["weight_after"]) / 2 * explained) for p in split["parts"])
    assert stray[data["by"]] == max(stray.values())
    assert ("rose" if data["change"] > 0 else "fell") in data["sentence"]


def test_why_churn_by_segment_uses_the_workbooks_churn_rule_in_every_segment(asked, ctx):
    """Churn mode is decided on the whole workbook: a segment without churn dates must not switch to inactivity."""
    data = render_json(asked("why churn last-month by plan"))
    t = tables(ctx)
    explicit = replace(ctx.options(), churn_mode="explicit")
    october = parse_period("2026-10", TODAY)
    for p in data["parts"]:
        expected = METRICS["churn"].fn(segment_tables(t, "plan", p["segment"]), october, explicit).value
        assert p["value_after"] == pytest.approx(expected, abs=1e-12), p["segment"]
    # Every customer has a plan, so the segments explain the whole change.
    assert abs(data["residual"]) < 1e-9


def test_why_revenue_splits_a_total_into_each_segments_own_change(asked, ctx):
    reply = asked("why revenue")
    data = render_json(reply)
    assert data["period"]["label"] == "2026-10"
    by_plan = {s.segment: s for s in answer(f"revenue 2026-10 by {data['by']}", ctx).result.breakdown}
    for p in data["parts"]:
        assert p["mix"] == pytest.approx(0, abs=1e-6)
        assert p["value_after"] == pytest.approx(by_plan[p["segment"]].value, rel=1e-12)
        assert p["value_before"] == pytest.approx(by_plan[p["segment"]].previous, rel=1e-12)
        assert p["total"] == pytest.approx(p["value_after"] - p["value_before"], rel=1e-9)
    assert math.isclose(parts_sum(data), data["change"], rel_tol=1e-12, abs_tol=1e-9)
    assert data["sentence"].startswith("Revenue rose ") and " ;" not in data["sentence"] and "USD;" in data["sentence"]


def test_why_nps_without_by_finds_the_region_that_moved_on_its_own(asked):
    """NPS fell in every plan and region, but only South fell beyond its share: region explains the change."""
    data = render_json(asked("why nps last-quarter"))
    assert data["by"] == "region" and data["parts"][0]["segment"] == DROP_REGION


def test_why_clv_is_refused_clearly(demo_master, capsys):
    code, data, _ = run_json(capsys, demo_master, "why clv")
    assert code == 1
    assert "clv" in data["error"] and "why revenue" in data["error"]


def test_why_with_vs_and_where(asked):
    data = render_json(asked("why nps 2026-Q3 vs 2026-Q1 by region"))
    assert data["previous_period"]["label"] == "2026-Q1"
    assert math.isclose(parts_sum(data), data["change"], abs_tol=1e-9)
    scoped = render_json(asked(f"why nps last-quarter where region={DROP_REGION}"))
    assert scoped["by"] != "region"
    assert math.isclose(parts_sum(scoped), scoped["change"], abs_tol=1e-9)


# ---- forecast -------------------------------------------------------------------------------------------------


def test_forecast_revenue_json_three_points_and_backtested_mape(asked, ctx):
    reply = asked("forecast revenue")
    assert isinstance(reply, TableReply), reply
    data = json.loads(json.dumps(render_json(reply)))
    assert [p["period"] for p in data["forecast"]] == ["2026-11", "2026-12", "2027-01"]
    for p in data["forecast"]:
        assert p["low"] < p["value"] < p["high"]
    widths = [p["high"] - p["low"] for p in data["forecast"]]
    assert widths == sorted(widths)
    assert isinstance(data["mape"], float) and math.isfinite(data["mape"]) and data["mape"] > 0
    assert len(data["backtest"]) == 6 and data["backtest"][-1]["period"] == "2026-10"
    recomputed = 100 * sum(abs(b["actual"] - b["forecast"]) / abs(b["actual"]) for b in data["backtest"]) / 6
    assert data["mape"] == pytest.approx(recomputed, rel=1e-12)
    # History: the full months the data covers (it starts on 2024-11-25, so December 2024 is the first).
    months = list(data["history"])
    assert months[0] == "2024-12" and months[-1] == "2026-10" and len(months) == 23
    october = compute("revenue", tables(ctx), parse_period("2026-10", TODAY), ctx.options()).value
    assert data["history"]["2026-10"] == pytest.approx(october)
    text = render_text(reply)
    assert f"backtested MAPE {data['mape']:.1f}%" in text and "80% interval" in text


def test_forecast_is_refused_below_twelve_months(tmp_path):
    customers = [["Customer ID", "Signup Date", "Region"]] + [[f"C{i}", date(2026, 3, 1 + i), "North"] for i in range(6)]
    orders = [["Order ID", "Customer ID", "Order Date", "Amount"]] + [
        [f"O{m}-{i}", f"C{i}", date(2026, m, 5 + i), 10.0 * (i + 1)] for m in range(3, 11) for i in range(6)
    ]
    path = write_source_workbook(tmp_path / "short.xlsx", {"Customers": customers, "Orders": orders})
    small = build_context(config.parse_settings({}), workbook=str(path), today=TODAY)
    reply = answer("forecast revenue", small)
    assert isinstance(reply, ErrorReply)
    # Orders start on 5 March: April–October are the 7 full months, March is partial and left out.
    assert "at least 12" in reply.message and "has 7" in reply.message and "revenue" in reply.message


# ---- survival -------------------------------------------------------------------------------------------------


def test_survival_by_plan_json_medians_logrank_and_chart(demo_master, raw, capsys, tmp_path):
    chart = tmp_path / "out.png"
    code, data, err = run_json(capsys, demo_master, "survival by plan", "--chart", str(chart))
    assert code == 0, err
    assert "attachments" not in data
    assert data["by"] == "plan" and data["as_of"] == TODAY.isoformat()
    medians = {m["segment"]: m for m in data["medians"]}
    assert set(medians) == {"all customers", "Basic", "Pro", "Enterprise"}
    for m in medians.values():
        assert set(m) >= {"median_days", "median_low", "median_high", "n", "events"}
        if m["median_days"] is not None and m["median_low"] is not None:
            assert m["median_low"] <= m["median_days"]
        if m["median_days"] is not None and m["median_high"] is not None:
            assert m["median_days"] <= m["median_high"]
    overall = medians.pop("all customers")
    assert sum(m["n"] for m in medians.values()) == overall["n"]
    assert sum(m["events"] for m in medians.values()) == overall["events"]
    assert overall["n"] == len({row[0] for row in raw["Customers"][1:]})
    assert 0 <= data["logrank_p"] <= 1 and data["logrank_statistic"] >= 0
    png = chart.read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert "chart written" in err


def test_survival_chart_is_a_phone_sized_png(ctx):
    t = tables(ctx)
    result = kaplan_meier(t, TODAY, resolve_options(t, ctx.options()), by="region")
    png = survival_chart(result)
    assert png.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (960, 768)
    assert 10_000 < len(png) < 1_000_000


def test_chart_option_on_an_answer_without_a_chart(demo_master, capsys, tmp_path):
    chart = tmp_path / "none.png"
    code = main(["ask", "nps", "--workbook", str(demo_master), "--today", TODAY.isoformat(), "--chart", str(chart)])
    _, err = capsys.readouterr()
    assert code == 0 and not chart.exists() and "no chart" in err


def test_survival_text_flags_a_median_that_rests_on_few_customers(asked):
    reply = asked("survival")
    payload = render_json(reply)
    overall = payload["medians"][0]
    text = render_text(reply)
    if overall["median_days"] is not None and overall["at_risk_at_median"] < 20:
        assert "unreliable" in text
    assert reply.attachments and reply.attachments[0][0] == "survival.png"


# ---- seed metrics, summary and survival tabs ------------------------------------------------------------------


def _cjk(text: str) -> date:
    y, rest = text.split("年")
    m, rest = rest.split("月")
    return date(int(y), int(m), int(rest.rstrip("日")))


def _october(d) -> bool:
    return isinstance(d, date) and date(2026, 10, 1) <= d < date(2026, 11, 1)


@pytest.mark.parametrize("metric", ["growth", "renewal", "resolution", "refunds"])
def test_new_seed_metrics_answer_with_value_period_and_n(metric, asked):
    reply = asked(f"{metric} last-quarter")
    assert isinstance(reply, MetricReply), reply
    data = render_json(reply)
    assert data["metric"] == metric and data["period"]["label"] == "2026-Q3"
    assert data["value"] is not None and math.isfinite(data["value"])
    assert data["n"] and data["n"] > 0
    assert data["value"] == pytest.approx(100 * data["numerator"] / data["denominator"])


def test_renewal_through_the_cli_matches_a_hand_count(demo_master, raw, capsys):
    code, data, err = run_json(capsys, demo_master, "renewal last-quarter")
    assert code == 0, err
    contracts = raw["Subscriptions"][1:]
    starts = {}
    for cid, start, *_ in contracts:
        starts.setdefault(cid, []).append(start)
    ending = [(cid, end) for cid, _, end, *_ in contracts if date(2026, 7, 1) <= end < date(2026, 10, 1)]
    renewed = [1 for cid, end in ending if any(end < s <= end + timedelta(days=30) for s in starts[cid])]
    assert (data["numerator"], data["denominator"]) == (len(renewed), len(ending))


def test_refunds_and_resolution_match_hand_counts(asked, raw):
    orders = [r for r in raw["Orders"][1:] if _october(r[2]) and isinstance(r[3], float)]
    refunds = sum(1 for r in orders if r[3] < 0)
    sales = len({r[0] for r in orders if r[3] > 0})
    data = render_json(asked("refunds 2026-10"))
    assert (data["numerator"], data["denominator"]) == (refunds, sales)
    complaints = [r for r in raw["Complaints"][1:] if _october(_cjk(r[0]))]
    resolved = sum(1 for r in complaints if r[4] in ("已解决", "已关闭"))
    data = render_json(asked("resolution 2026-10"))
    assert (data["numerator"], data["denominator"]) == (resolved, len(complaints))


def test_growth_is_the_change_of_the_active_base(asked):
    growth = render_json(asked("growth 2026-10"))
    retention = render_json(asked("retention 2026-10"))
    customers = render_json(asked("customers 2026-10"))
    assert growth["denominator"] == retention["denominator"]  # |S|, active at the start
    assert growth["numerator"] + growth["denominator"] == customers["value"]  # |E|, active on the last day


def test_refresh_writes_seed_metric_columns_and_the_survival_tab(demo_workbook, capsys):
    code = main(["refresh", "--workbook", str(demo_workbook), "--today", TODAY.isoformat()])
    out, err = capsys.readouterr()
    assert code == 0, err
    wb = LocalWorkbook(demo_workbook)
    summary = wb.read_owned("Pulse Summary")
    header, last = summary[0], summary[-1]
    assert last[0] == "2026-10"
    assert isinstance(last[header.index("Customer-base growth %")], float)  # growth: a value, no interval
    for heading in ("Renewal rate %", "Resolution rate %", "Refund rate %"):  # rates: value, n and 95% interval
        assert {heading, f"{heading} n", f"{heading} low", f"{heading} high"} <= set(header)
        assert isinstance(last[header.index(heading)], float)
    survival = wb.read_owned("Pulse Survival")
    assert survival[0] == ["Segment", "Days since signup", "Survival", "Low (95%)", "High (95%)"]
    curves: dict[str, list] = {}
    for segment, day, s, low, high in survival[1:]:
        curves.setdefault(segment, []).append((day, s, low, high))
    assert "all customers" in curves and len(curves) > 1
    for points in curves.values():
        assert points[0][0] == 0 and 0.9 < points[0][1] <= 1
        assert all(a[1] >= b[1] for a, b in zip(points, points[1:]))
        assert all(low <= s <= high for _, s, low, high in points)


# ---- the digest's what-moved line -----------------------------------------------------------------------------


def test_what_moved_line_names_the_region_behind_a_large_move(ctx):
    line = what_moved_line(ctx, "nps", parse_period("2026-Q3", TODAY))
    assert line is not None and DROP_REGION in line and line.startswith("Net Promoter Score fell")
    # churn barely moved in October: no line
    assert what_moved_line(ctx, "churn", parse_period("2026-10", TODAY)) is None


def test_digest_hook_meets_what_moved_line(ctx):
    from bot.digest import builder

    lines = builder.what_moved(ctx, parse_period("2026-Q3", TODAY), {})
    assert any(DROP_REGION in line for line in lines)
    scoped = builder.what_moved(ctx, parse_period("2026-Q3", TODAY), {"region": DROP_REGION})
    assert all("from North" not in line and "from East" not in line for line in scoped)


def test_sentence_shows_tiny_changes_and_no_stray_space():
    """Regression: a churn change of −0.015 points read "fell 0.0 points"; a unitless total ended in " ;"."""
    frame = lambda rows: pd.DataFrame(rows, columns=["segment", "weight", "value"])  # noqa: E731
    d = mix_rate(frame([("Pro", 50, 0.89), ("Basic", 50, 0.0)]), frame([("Pro", 50, 0.86), ("Basic", 50, 0.0)]))
    # (0.86 − 0.89) × (0.5 + 0.5)/2 = −0.015: Pro's own value, the whole change.
    assert explanation(d).amount == pytest.approx(0.015)
    assert explanation(d).drivers == (Driver("Pro", pytest.approx(0.015), "own_value"),)
    churn = what_moved("Customer churn", "percent", "USD", explanation(d), "plan")
    assert churn.startswith("Customer churn fell 0.015 points; 0.015 from Pro")
    d = mix_rate(frame([("A", 1, 10.0)]), frame([("A", 1, 25.0)]))
    assert (
        what_moved("Orders", "count", "USD", explanation(d), "plan")
        == "Orders rose 15.0; 15.0 from A (its own value moved)."
    )


def test_what_moved_in_english_for_every_shape_of_sentence():
    """The renderer words the parts exactly as metrics.decompose.explain did (English byte-identical)."""
    frame = lambda rows: pd.DataFrame(rows, columns=["segment", "weight", "value"])  # noqa: E731
    same = explanation(mix_rate(frame([("A", 1, 10.0)]), frame([("A", 1, 10.0)])))
    assert what_moved("Net Promoter Score", "nps", "USD", same, "region") == "Net Promoter Score did not change."
    residual = mix_rate(frame([("A", 1, 10.0)]), frame([("A", 1, 10.0)]), total_before=10.0, total_after=12.5)
    assert what_moved("Revenue", "money", "USD", explanation(residual), "plan") == (
        "Revenue rose 2.5 USD; no single plan stands out."
    )
    # A 50→20 at 10, B 50→80 at 30: rose 6 = 3.9 (A's share shrank) + 2.1 (B's share grew), see test_decompose.
    shift = explanation(mix_rate(frame([("A", 50, 10.0), ("B", 50, 30.0)]), frame([("A", 20, 10.0), ("B", 80, 30.0)])))
    assert what_moved("CSAT", "percent", "USD", shift, "plan") == (
        "CSAT rose 6.0 points; 3.9 from A (its share shrank) and 2.1 from B (its share grew)."
    )


def test_weight_moving_between_segments_of_equal_value_is_no_mix():
    """Regression: mix was measured from zero, so CSAT (≈80%) "fell 1.4 points; 7.5 from Basic (its share shrank)"."""
    frame = lambda rows: pd.DataFrame(rows, columns=["segment", "weight", "value"])  # noqa: E731
    d = mix_rate(frame([("A", 50, 80.0), ("B", 50, 80.0)]), frame([("A", 20, 80.0), ("B", 80, 80.0)]))
    assert d.total == pytest.approx(0) and all(p.mix == pytest.approx(0, abs=1e-12) for p in d.parts)
    # A shift towards the better segment: each side's mix is its shift times its distance from the average.
    d = mix_rate(frame([("A", 50, 70.0), ("B", 50, 90.0)]), frame([("A", 20, 70.0), ("B", 80, 90.0)]))
    parts = {p.segment: p for p in d.parts}
    assert d.total == pytest.approx(6.0)
    assert parts["A"].mix == pytest.approx(-0.3 * (70 - 83)) and parts["B"].mix == pytest.approx(0.3 * (90 - 83))


# ---- helpers --------------------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.dates(date(2001, 1, 1), date(2090, 12, 31)), st.integers(1, 30))
def test_trailing_months_are_the_last_full_months(end, count):
    months = trailing_months(end, count)
    assert len(months) == count
    assert all(m.end <= end for m in months)
    assert all(a.end == b.start for a, b in zip(months, months[1:]))
    assert (end - months[-1].end).days < 31


def test_sentence_amounts_read_the_same_whichever_order_the_sum_was_added_in():
    """A segment's revenue change of 170,026.36 − 137,529.31 = 32,497.05 exactly, summed by numpy in memory
    (32,497.050000000017) or by PostgreSQL (32,497.049999999843): both read 32,497.1, half up as by hand."""
    from bot.render.analysis import amount

    assert amount(32497.050000000017) == amount(32497.049999999843) == amount(-32497.05) == "32,497.1"
    assert amount(0.25) == "0.3" and amount(1234.04) == "1,234.0" and amount(0.012) == "0.012"
