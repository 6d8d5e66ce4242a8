"""Issue 14.1: no mention, link, formatting or hidden control from the sheet reaches Slack live — in any field of
the posted digest (message `text`, blocks, header, file title) or of an alert. Everything goes through the real
posting path (slack_sdk WebClient over HTTP) into the Slack Web API fake, and every string it received is checked."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

from bot.alerts.run import evaluate_and_notify, slack_poster
from bot.context import Context
from bot.digest.post import post_now
from bot.render import safe
from config import parse_settings
from sheets.local import LocalWorkbook
from tests.bot.digest.conftest import context_at, utc
from tests.workbooks import write_source_workbook

# Every kind of hostile text at once: broadcast and user mentions, a link, the four mrkdwn markers, a
# right-to-left override, a zero-width space and a byte-order mark.
HOSTILE = "<!channel> <!here> <@U123> <http://evil.example|click> *bold* _it_ ~gone~ `code` \u202eevil\u202c zero\u200bwidth\ufeff"
# What must never arrive: a live `<…>` token, a formatting marker pair from the cell, a bidi or zero-width character
# (written out here, independently of bot.render.safe).
LIVE = ("<!channel>", "<!here>", "<@U123>", "<http://", "*bold*", "_it_", "~gone~", "`code`")
INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]")


def strings(value: Any, plain: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string leaf of a decoded Slack API parameter (JSON-encoded blocks are decoded first), and whether it
    sits in a plain_text object (where Slack applies no formatting, so only `<…>` and controls matter)."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            yield value, plain
            return
        if isinstance(decoded, (list, dict)):
            yield from strings(decoded, plain)
        else:
            yield value, plain
    elif isinstance(value, dict):
        plain = plain or value.get("type") == "plain_text"
        for v in value.values():
            yield from strings(v, plain)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, plain)


def assert_inert(params: dict[str, Any]) -> None:
    """No live token or marker pair outside plain_text (shown verbatim, never parsed), and no invisible control anywhere."""
    for field, value in params.items():
        for s, plain in strings(value):
            for token in () if plain else LIVE:
                assert token not in s, f"{field}: {token!r} arrived live in {s[:200]!r}"
            assert not INVISIBLE.search(s), f"{field}: an invisible control arrived in {s[:200]!r}"


def test_escaping_rules():
    assert safe.mrkdwn("<!here> & *b* _i_ ~s~ `c`") == "&lt;!here&gt; &amp; \u2217b\u2217 \u02cdi\u02cd \u223cs\u223c \u02cbc\u02cb"
    assert safe.plain("a\u202eb\u200bc\ufeff<x>*y*") == "abc<x>*y*"  # plain_text is shown verbatim, never parsed
    assert safe.markup("`/nps` <metric>\u200b") == "`/nps` &lt;metric&gt;"
    assert safe.code("```x``` _y_") == "\u02cb\u02cb\u02cbx\u02cb\u02cb\u02cb _y_"
    assert safe.mrkdwn(7) == "7"


def test_digest_posts_nothing_live_in_text_blocks_or_file_title(tmp_path, slack):
    d = datetime
    path = write_source_workbook(
        tmp_path / "hostile.xlsx",
        {
            "Customers": [["customer_id", "signup_date", "region"], [HOSTILE, d(2025, 12, 1), HOSTILE], ["C2", d(2025, 12, 1), "North"]],
            "Orders": [["customer_id", "order_date", "amount"], [HOSTILE, d(2026, 3, 16), 100.0], ["C2", d(2026, 3, 17), 50.0]],
            "Responses": [
                ["date", "survey", "score", "customer_id", "comment"],
                [d(2026, 3, 16), "NPS", 10, HOSTILE, "praise " + HOSTILE],
                [d(2026, 3, 18), "NPS", 2, "C2", "complaint " + HOSTILE],
            ],
        },
    )
    ctx, _ = context_at({"digest": {"channels": [{"channel": "C1"}]}, "surveys": {"min_n": 1}}, path, utc(2026, 3, 23, 8))
    (result,) = post_now(ctx)
    assert result.outcome == "posted", result.error
    (message,) = slack.messages("C1")
    text = message.params["text"]
    # Both comments and the customer id are there, as inert text, in the notification fallback and in the blocks.
    assert "praise &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt;" in text and "complaint &lt;!channel&gt;" in text
    assert "\u2217bold\u2217" in text and "customer &lt;!channel&gt;" in text
    assert "praise &lt;!channel&gt;" in json.dumps(message.json_param("blocks"), ensure_ascii=False)
    assert_inert(message.params)
    for call in slack.calls:
        assert_inert(call.params)


class Clock:
    def __init__(self, day: date):
        self.now = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_alert_posts_nothing_live(tmp_path, slack):
    day = date(2026, 3, 2) - timedelta(days=3)
    # 10 answers in the segment, all detractors → NPS −100, below the target 30: the rule fires on the first run.
    path = write_source_workbook(
        tmp_path / "crm.xlsx",
        {
            "Customers": [("customer_id", "signup_date", "region")] + [(f"C{i}", "2025-01-01", HOSTILE) for i in range(5)],
            "Orders": [("customer_id", "order_date", "amount"), ("C0", "2025-02-01", 10)],
            "Responses": [("date", "survey", "score", "customer_id")] + [(day.isoformat(), "NPS", 2, f"C{i % 5}") for i in range(10)],
        },
    )
    rule = {"name": "NPS " + HOSTILE, "metric": "nps", "window_days": 7, "condition": "crosses_target", "channel": "C_ALERTS",
            "segment": "region=" + HOSTILE}
    settings = parse_settings({"targets": {"nps": 30}, "surveys": {"min_n": 1}, "source": {"cache_seconds": 0}, "alerts": [rule]})
    ctx = Context(settings=settings, workbook=LocalWorkbook(path), clock=Clock(date(2026, 3, 2)))
    events = evaluate_and_notify(ctx, slack_poster())
    assert [(e.kind, e.posted) for e in events] == [("fired", True)]
    (post,) = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C_ALERTS"]
    assert "NPS &lt;!channel&gt;" in post.params["text"]
    assert "for region=&lt;!channel&gt;" in json.dumps(post.json_param("blocks"), ensure_ascii=False)
    assert_inert(post.params)
