"""The "Share in channel" button: the query is recomputed and posted visibly, naming who shared it."""

from __future__ import annotations

import json

from tests.bot.slack.conftest import with_slack
from tests.fakes.slack_api import block_problems, wait_for


def test_share_posts_the_answer_to_the_channel(slack):
    sent = slack.click_share("/nps", "last-quarter by region", user_id="U0SHARER01", channel_id="C0TEAM0001")
    assert sent.response.status_code == 200
    (post,) = wait_for(lambda: slack.api.messages("C0TEAM0001"), what="chat.postMessage to C0TEAM0001")
    blocks = post.json_param("blocks")
    assert block_problems(blocks) is None
    assert blocks[0]["text"]["text"].endswith("— 2026-Q3")
    assert blocks[-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "Shared by <@U0SHARER01>"}]}
    assert all(b["type"] != "actions" for b in blocks)
    assert "link_names" not in post.params and "parse" not in post.params
    assert post.params["text"].startswith("Net Promoter Score")


def test_share_falls_back_to_a_visible_reply_when_the_bot_is_not_in_the_channel(slack):
    slack.api.fail("chat.postMessage", error="not_in_channel")
    sent = slack.click_share("/churn", "", channel_id="C0PRIVATE1")
    (reply,) = slack.delivered(sent)
    assert reply.payload["response_type"] == "in_channel" and reply.payload["replace_original"] is False
    assert block_problems(reply.payload["blocks"]) is None
    assert "Shared by <@U0USER0001>" in json.dumps(reply.payload["blocks"])
    assert slack.api.messages() == []


def test_share_is_refused_outside_the_allow_list(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, **{"allowed_channels": ["C0CHAN0001"]}))
    sent = slack.click_share("/nps", "", channel_id="C0ELSEWHERE")
    (reply,) = slack.delivered(sent)
    assert reply.payload["response_type"] == "ephemeral" and "isn't enabled in this channel" in reply.payload["text"]
    assert slack.api.messages() == []


def test_a_tampered_button_value_is_not_run(slack):
    from tests.fakes.slack_requests import block_action_body, signed_headers

    url = slack.hooks.url()
    body = block_action_body("share_in_channel", json.dumps({"command": "/not-ours", "text": "x"}), response_url=url)
    assert slack.post(body, signed_headers(body)).status_code == 200
    (reply,) = wait_for(lambda: slack.hooks.to(url), what="a reply to the tampered click")
    assert "out of date" in reply.payload["text"]
    assert slack.api.messages() == []


def test_sharing_a_user_error_stays_private(slack):
    sent = slack.click_share("/nps", "last-quater")
    (reply,) = slack.delivered(sent)
    assert reply.payload["response_type"] == "ephemeral" and "last-quarter" in reply.payload["text"]
    assert slack.api.messages() == []
