"""Block Kit rendering: content, escaping of sheet values, and Slack's limits (validated by slack_sdk's models)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.render.blocks import SHARE_ACTION_ID, render_blocks, shared_by_block
from bot.render.limits import MAX_BLOCKS, MAX_TOTAL_CHARS
from bot.replies import ErrorReply, MetricReply, OverviewReply, TableReply, TextReply
from metrics.periods import Period
from metrics.result import Comparison, Interval, MetricResult, SegmentValue, TargetStatus

Q3 = Period(date(2026, 7, 1), date(2026, 10, 1), "2026-Q3", "quarter")
Q2 = Period(date(2026, 4, 1), date(2026, 7, 1), "2026-Q2", "quarter")
AS_OF = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)


def nps_result(**kw) -> MetricResult:
    base = dict(
        metric="nps", label="NPS", unit="nps", period=Q3, value=32.4, n=312, interval=Interval(26.0, 38.8),
        previous=Comparison(Q2, 28.0, 4.4, True, 0.03), target=TargetStatus(30.0, "higher", True, 2.4),
        details={"promoters": 150, "passives": 101, "detractors": 61, "margin": 6.4},
    )
    base.update(kw)
    return MetricResult(**base)


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def check_limits(blocks: list[dict]) -> None:
    """Slack's limits, and every block re-validated through slack_sdk's models."""
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert len(texts(blocks)) <= MAX_TOTAL_CHARS
    for d in blocks:
        model = Block.parse(d)
        assert model is not None, d
        assert model.to_dict() == d
        if d["type"] == "section" and "text" in d:
            assert len(d["text"]["text"]) <= 3000
        if d["type"] == "header":
            assert len(d["text"]["text"]) <= 150


def test_metric_answer_has_headline_change_n_target_and_as_of():
    blocks = render_blocks(MetricReply(nps_result(), AS_OF, [], "last-quarter"), command="/nps")
    check_limits(blocks)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "NPS — 2026-Q3", "emoji": True}}
    section = blocks[1]
    assert section["text"]["text"] == "*+32*  ± 6.4\n▲ 4 pts vs 2026-Q2 (significant)"
    fields = [f["text"] for f in section["fields"]]
    assert fields == ["*2026-Q2*\n+28", "*n*\n312", "*Target*\n+30 ✓ met (+2 pts)", "*Promoters / passives / detractors*\n150 / 101 / 61"]
    assert blocks[-2]["elements"][0]["text"] == "data as of 2026-11-02 09:30 UTC · `/nps last-quarter`"


def test_share_button_carries_command_and_typed_text():
    blocks = render_blocks(MetricReply(nps_result(), AS_OF, [], "last-quarter"), command="/nps", text="last-quarter")
    button = blocks[-1]["elements"][0]
    assert blocks[-1]["type"] == "actions"
    assert button["action_id"] == SHARE_ACTION_ID
    assert json.loads(button["value"]) == {"command": "/nps", "text": "last-quarter"}
    assert all(b["type"] != "actions" for b in render_blocks(MetricReply(nps_result(), AS_OF), share_button=False))


def test_percent_and_money_rounding():
    churn = MetricResult("churn", "Churn", "percent", Q3, 4.26, n=900, numerator=38, denominator=892,
                         previous=Comparison(Q2, 5.0, -0.74, False))
    text = texts(render_blocks(MetricReply(churn, AS_OF)))
    assert "*4.3%*" in text and "▼ 0.7 pts vs 2026-Q2 (within noise)" in text
    # The counts behind the rate read as a sentence, not as a field labelled "of".
    assert "38 of 892 customers churned" in text and "*of*" not in text
    rev = MetricResult("revenue", "Revenue", "money", Q3, 12345.678, n=40)
    assert "*€12,345.68*" in texts(render_blocks(MetricReply(rev, AS_OF), currency="EUR"))


def test_top_three_movers_by_absolute_change_then_count_of_the_rest():
    segs = [SegmentValue("EU", 40, 100, change=5.0), SegmentValue("US", 20, 80, change=-7.0),
            SegmentValue("APAC", 33, 50, change=1.0), SegmentValue("LATAM", 10, 12, change=0.5)]
    blocks = render_blocks(MetricReply(nps_result(breakdown=segs, by="region"), AS_OF))
    movers = blocks[2]["text"]["text"].split("\n")
    assert movers[0] == "*Top movers by region*"
    assert [m.split(":")[0] for m in movers[1:4]] == ["• US", "• EU", "• APAC"]
    assert movers[1] == "• US: +20 (n = 80) ▼ 7 pts"  # NPS changes are whole points, like the headline
    assert movers[4] == "…and 1 more segment"


def test_sheet_values_are_escaped_so_nobody_is_pinged():
    segs = [SegmentValue("<!channel> & friends", 40, 100, change=5.0)]
    r = nps_result(breakdown=segs, by="region", notes=["comment: <!here> <@U123|bob> <http://evil|click>"])
    table = TableReply("Data issues", ["tab", "value"], [["Responses", "<!everyone>"]], AS_OF, ["<!subteam^S1>"])
    for reply in (MetricReply(r, AS_OF, ["<!channel>"]), table, TextReply("<!channel>", [("a<b", "x>y & <!here>")])):
        blocks = render_blocks(reply)
        check_limits(blocks)
        for b in blocks:
            if b["type"] == "actions":
                continue
            for text in _strings(b):
                assert "<" not in text and ">" not in text, text
    out = texts(render_blocks(MetricReply(r, AS_OF)))
    assert "&lt;!channel&gt; &amp; friends" in out and "&lt;!here&gt;" in out
    header = render_blocks(TextReply("<!channel>", []))[0]
    assert header["text"] == {"type": "plain_text", "text": "<!channel>", "emoji": True}


def _strings(obj) -> list[str]:
    """Every mrkdwn string in a block (plain_text, e.g. headers, cannot mention anyone and is shown verbatim)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        if obj.get("type") == "plain_text":
            return []
        return [s for k, v in obj.items() if k not in ("type", "action_id", "block_id") for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def test_error_reply_is_specific_with_suggestion_and_no_button():
    blocks = render_blocks(ErrorReply("unknown period 'last-quater'", "last-quarter"))
    check_limits(blocks)
    assert blocks[0]["text"]["text"] == ":warning: unknown period 'last-quater'"
    assert "Did you mean `last-quarter`?" in blocks[1]["elements"][0]["text"]
    assert all(b["type"] != "actions" for b in blocks)


def test_overview_splits_fields_ten_per_section():
    results = [MetricResult(f"m{i}", f"Metric {i}", "count", Q3, float(i * 1000), n=i) for i in range(13)]
    blocks = render_blocks(OverviewReply(results, Q3, AS_OF, [], "overview"), command="/overview")
    check_limits(blocks)
    sections = [b for b in blocks if b["type"] == "section"]
    assert [len(s["fields"]) for s in sections] == [10, 3]
    assert sections[1]["fields"][2]["text"] == "*Metric 12*\n12,000"


def test_long_table_is_cut_with_a_count_of_the_rest():
    rows = [[f"row {i}", "x" * 80, i] for i in range(2000)]
    blocks = render_blocks(TableReply("Customers at risk", ["id", "name", "n"], rows, AS_OF, query="risk"))
    check_limits(blocks)
    said = texts(blocks)
    assert "more rows" in said
    shown = said.count("row ")
    assert f"…and {2000 - shown} more rows" in said


def test_shared_by_names_the_user():
    assert shared_by_block("U0USER0001")["elements"][0]["text"] == "Shared by <@U0USER0001>"
    assert "&lt;" in shared_by_block("<!channel>")["elements"][0]["text"]


cell = st.text(alphabet=st.sampled_from(list("ab<>&!@|^ 中文`*_~\n")), max_size=400)


@settings(max_examples=40, deadline=None)
@given(segments=st.lists(cell, max_size=60), notes=st.lists(cell, max_size=30), label=cell)
def test_any_sheet_content_stays_within_limits_and_escaped(segments, notes, label):
    breakdown = [SegmentValue(s, float(i), i, change=float(i % 7 - 3)) for i, s in enumerate(segments)]
    r = nps_result(label=label or "NPS", breakdown=breakdown, by=label or "region", notes=notes)
    rows = [[s, n] for s, n in zip(segments, notes)]
    for reply in (MetricReply(r, AS_OF, notes, label), TableReply(label or "t", ["a", "b"], rows, AS_OF, notes),
                  TextReply(label or "t", [(s, n) for s, n in zip(segments, notes)])):
        blocks = render_blocks(reply)
        check_limits(blocks)
        for b in blocks:
            if b["type"] != "actions":
                assert all("<" not in t and ">" not in t for t in _strings(b))


def test_a_change_that_rounds_to_zero_says_no_change():
    # −0.04 pts shows as 0.0 at one decimal: "▼ 0.0 pts" would claim a fall that is not there.
    churn = MetricResult("churn", "Churn", "percent", Q3, 4.26, n=900, previous=Comparison(Q2, 4.30, -0.04, False))
    text = texts(render_blocks(MetricReply(churn, AS_OF)))
    assert "no change vs 2026-Q2" in text and "0.0 pts" not in text
    # $0.004 is $0.00 at two decimals; $0.01 is a real change.
    rev = MetricResult("revenue", "Revenue", "money", Q3, 100.0, n=4, previous=Comparison(Q2, 99.996, 0.004, None))
    assert "no change vs 2026-Q2" in texts(render_blocks(MetricReply(rev, AS_OF)))
    rev = MetricResult("revenue", "Revenue", "money", Q3, 100.0, n=4, previous=Comparison(Q2, 99.99, 0.01, None))
    assert "▲ $0.01 vs 2026-Q2" in texts(render_blocks(MetricReply(rev, AS_OF)))


def test_help_keeps_its_code_formatting_in_blocks_and_fallback():
    from bot.help import help_reply
    from bot.slack.answering import message_for
    from config import parse_settings

    message = message_for(help_reply(parse_settings({})), command="/pulse", text="help")
    assert "`/nps last-quarter by region`" in message["text"]
    assert "`/nps last-quarter by region`" in json.dumps(message["blocks"])
    assert "\u02cb" not in message["text"] + json.dumps(message["blocks"])  # no look-alike backticks in our own wording
