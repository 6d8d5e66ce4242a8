"""The digest of the demo workbook: Slack's limits, copyable numbers, JSON, and the chart image."""

import dataclasses
import io
import json
from datetime import date

import pytest
from slack_sdk.models.blocks import Block

from bot.digest.builder import Mover, RiskHighlights, build_digest
from bot.digest.chart import render_chart
from bot.digest.render import render_blocks, render_text, size
from bot.render.limits import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, MAX_TOTAL_CHARS
from bot.render import format as fmt
from tests.bot.digest.conftest import DEMO_TODAY, context_at, utc


@pytest.fixture(scope="module")
def demo_digest(demo_path):
    ctx, _ = context_at({"targets": {"nps": 10, "churn": 2, "revenue": 50000}}, demo_path, utc(2026, 11, 25, 9))
    return build_digest(ctx)


def check_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    assert size(blocks) <= MAX_TOTAL_CHARS
    for b in blocks:
        Block.parse(b).validate_json()  # slack_sdk's own checks of each block
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= MAX_HEADER
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= MAX_SECTION


def test_demo_digest_covers_the_last_full_week(demo_digest):
    d = demo_digest
    assert d.week.label == "2026-W47" and d.week.start == date(2026, 11, 16)
    assert not d.quiet and d.kpis and d.responses > 0 and len(d.trend) == 13
    assert d.issues > 0  # the demo carries deliberately bad rows


def test_blocks_stay_within_slack_limits_and_every_number_is_text(demo_digest):
    blocks = render_blocks(demo_digest)
    check_limits(blocks)
    text = json.dumps(blocks, ensure_ascii=False)
    for k in demo_digest.kpis:
        assert fmt.number(k.week.value, k.unit, demo_digest.currency) in text
    nps = demo_digest.kpi("nps").week
    assert f"± {nps.details['margin']:.1f}" in text and f"{nps.details['promoters']:,} promoters" in text
    assert f"Data issues: {demo_digest.issues:,}" in text


def test_an_oversized_digest_is_cut_to_fit_with_a_note(demo_digest):
    long_text = "very long comment " * 400
    movers = [Mover("nps", "Net Promoter Score", "nps", "region", f"R{i} " + "x" * 200, 10.0, 0.0, 10.0, 50) for i in range(60)]
    big = dataclasses.replace(demo_digest, movers=movers, what_moved=[long_text] * 5, notes=[long_text] * 3)
    blocks = render_blocks(big)
    check_limits(blocks)
    assert "left out to fit Slack's limits" in json.dumps(blocks)
    assert blocks[0]["type"] == "header" and "data as of" in blocks[-1]["elements"][0]["text"]


def test_text_and_json_renderings(demo_digest):
    text = render_text(demo_digest)
    assert text.startswith("Weekly pulse — 2026-W47") and "Headline KPIs" in text and "&lt;" not in text
    out = json.loads(json.dumps(demo_digest.to_json()))
    assert out["week"] == {"start": "2026-11-16", "end": "2026-11-23", "label": "2026-W47"}
    assert {k["metric"] for k in out["kpis"]} >= {"revenue", "nps", "churn"}
    assert out["surveys"]["responses"] == demo_digest.responses
    assert len(out["trend"]) == 13


def test_chart_is_a_phone_sized_png(demo_digest):
    png = render_chart(demo_digest)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 <= len(png) <= 1_000_000
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.verify()
    width, height = Image.open(io.BytesIO(png)).size
    assert width >= 800 and 600 <= height <= 2000


def test_trend_matches_weekly_metrics(demo_digest, demo_path):
    from metrics.registry import METRICS

    ctx, _ = context_at({}, demo_path, utc(2026, 11, 25, 9))
    t = ctx.tables(ctx.snapshot().snapshot)
    last = demo_digest.trend[-1]
    assert last.week == demo_digest.week
    assert last.values["revenue"] == pytest.approx(METRICS["revenue"].fn(t, demo_digest.week, ctx.options()).value)
    assert demo_digest.trend[0].week.start == date(2026, 8, 24)
    assert DEMO_TODAY.isocalendar()[1] == 48


def test_churn_risk_highlights_render_with_customer_ids_only(demo_digest):
    risk = RiskHighlights(at_risk=42, value_at_stake=12345.5, top=[("C0042", 0.123, 900.0), ("<!here>", 0.2, 10.0)])
    d = dataclasses.replace(demo_digest, risk=risk)
    text = render_text(d)
    assert "Churn risk\n42 customers likely to churn · $12,345.50 at stake\n• customer C0042: P(alive) 0.12 · $900.00 at stake" in text
    blocks = json.dumps(render_blocks(d), ensure_ascii=False)
    assert "customer &lt;!here&gt;" in blocks and "<!here>" not in blocks
