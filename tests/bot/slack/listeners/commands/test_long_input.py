"""Issue 14.7: whatever the user types, the ack comes well inside Slack's 3 s and every reply of ours fits Slack's limits."""

from __future__ import annotations

import pytest

from bot.slack.answering import apology, computing
from tests.fakes.slack_api import block_problems, wait_for
from tests.fakes.slack_requests import app_mention_body, signed_json_headers

EIGHT_KB = ("nps " + "x " * 4094)[:-1] + "x"  # 8,192 characters: before, about 5 s of parsing (twice) before the ack


def test_an_8_kb_command_is_acked_at_once_with_the_length_limit(slack):
    sent = slack.command("/pulse", EIGHT_KB)
    assert sent.response.status_code == 200
    assert sent.acked_at - sent.sent_at < 2.0, sent.acked_at - sent.sent_at
    assert "8,192 characters long; commands are at most 1,000" in sent.ack["text"]
    assert block_problems(sent.ack["blocks"]) is None


def test_a_40_kb_mention_gets_the_length_limit_privately(slack):
    body = app_mention_body("nps " + "y" * 40_000, event_id="Ev0PULSE0LONG")
    assert slack.post(body, signed_json_headers(body)).status_code == 200
    (reply,) = wait_for(lambda: slack.api.calls_to("chat.postEphemeral"), timeout=10, what="the private reply")
    assert "commands are at most 1,000" in reply.params["text"] and block_problems(reply.params["blocks"]) is None


@pytest.mark.parametrize("typed", ["x" * 2_990, "&" * 10_000, "<!channel> " * 1_000], ids=["2990-chars", "10k-ampersands", "mentions"])
@pytest.mark.parametrize("message", [computing, lambda c, t: apology("ab12cd34", c, t)], ids=["computing", "apology"])
def test_our_own_replies_quote_long_input_within_slack_limits(message, typed):
    payload = message("/pulse", typed)
    assert block_problems(payload["blocks"]) is None
    section = payload["blocks"][0]["text"]["text"]
    # the quote is cut to 200 typed characters (each `&` becomes 5 escaped ones): at most 200 × 5 + our wording
    assert len(section) <= 1_000 + 200 and "…" in section
    assert "<!channel>" not in section
