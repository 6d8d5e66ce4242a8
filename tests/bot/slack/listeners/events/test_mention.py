"""`@crm-pulse …` mentions: answered in the thread, Events API retries answered once, refusals private."""

from __future__ import annotations

import json
import time

from bot.slack.listeners.events.mention import mention_text
from bot.slack.runtime import EventDeduper
from tests.bot.slack.conftest import with_slack
from tests.fakes.slack_api import block_problems, wait_for
from tests.fakes.slack_requests import app_mention_body, signed_json_headers


def test_mention_is_answered_in_its_thread_and_a_retry_is_not_answered_twice(slack):
    body = app_mention_body("nps last-quarter", event_id="Ev0PULSE0001", channel_id="C0TEAM0001")
    assert slack.post(body, signed_json_headers(body)).status_code == 200
    (post,) = wait_for(lambda: slack.api.messages("C0TEAM0001"), what="the threaded answer")
    assert post.params["thread_ts"] == "1763290000.000100"
    blocks = post.json_param("blocks")
    assert block_problems(blocks) is None and blocks[0]["text"]["text"].endswith("— 2026-Q3")
    assert all(b["type"] != "actions" for b in blocks)

    assert slack.post(body, signed_json_headers(body, retry_num=1)).status_code == 200
    other = app_mention_body("churn", event_id="Ev0PULSE0002", channel_id="C0TEAM0001", ts="1763290001.000200")
    assert slack.post(other, signed_json_headers(other)).status_code == 200
    wait_for(lambda: len(slack.api.messages("C0TEAM0001")) == 2, what="the second, different mention's answer")
    time.sleep(0.5)
    assert [m.params["thread_ts"] for m in slack.api.messages("C0TEAM0001")] == ["1763290000.000100", "1763290001.000200"]


def test_mention_mistake_and_refusal_go_only_to_the_asker(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, allowed_channels=["C0CHAN0001"]))
    wrong = app_mention_body("nps last-quater", event_id="Ev0PULSE0003")
    elsewhere = app_mention_body("nps", event_id="Ev0PULSE0004", channel_id="C0OTHER001")
    for body in (wrong, elsewhere):
        assert slack.post(body, signed_json_headers(body)).status_code == 200
    ephemerals = wait_for(lambda: len(slack.api.calls_to("chat.postEphemeral")) == 2 and slack.api.calls_to("chat.postEphemeral"), what="two private replies")
    said = {c.params["channel"]: c.params["text"] for c in ephemerals}
    assert "last-quarter" in said["C0CHAN0001"] and "isn't enabled in this channel" in said["C0OTHER001"]
    assert all(c.params["user"] == "U0USER0001" for c in ephemerals)
    assert slack.api.messages() == []


def test_url_verification_challenge_is_echoed(slack):
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"})
    resp = slack.post(body, signed_json_headers(body))
    assert resp.status_code == 200 and resp.json()["challenge"].startswith("3eZbrw1a")


def test_mention_text_drops_the_bot_mention_and_reads_entities():
    assert mention_text("<@W23456789> nps where region=R&amp;D") == "nps where region=R&D"
    assert mention_text("<@W23456789|pulse>   churn") == "churn"
    assert mention_text("<@W23456789>") == ""


def test_deduper_forgets_after_its_ttl():
    now = [0.0]
    seen = EventDeduper(ttl=60, clock=lambda: now[0])
    assert seen.first_time("Ev1") and not seen.first_time("Ev1")
    now[0] = 61.0
    assert seen.first_time("Ev2") and seen.first_time("Ev1")
