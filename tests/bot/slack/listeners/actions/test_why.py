"""The alert's "Why did it move?" button runs the matching `/pulse why …` query and answers privately."""

from __future__ import annotations

import json

from bot.alerts.message import WHY_ACTION
from tests.fakes.slack_api import block_problems, wait_for
from tests.fakes.slack_requests import block_action_body, signed_headers


def click(slack, text: str):
    url = slack.hooks.url()
    body = block_action_body(WHY_ACTION, json.dumps({"command": "/pulse", "text": text}), response_url=url)
    assert slack.post(body, signed_headers(body)).status_code == 200
    return wait_for(lambda: slack.hooks.to(url), timeout=60, what="the why answer")


def test_why_button_answers_privately_with_the_decomposition(slack):
    (reply,) = click(slack, "why nps last-90-days")
    assert reply.payload["response_type"] == "ephemeral"
    assert block_problems(reply.payload["blocks"]) is None
    text = json.dumps(reply.payload["blocks"])
    assert "Why nps moved" in text and "Net Promoter Score" in text
    assert slack.api.messages() == []


def test_a_tampered_why_value_is_not_run(slack):
    url = slack.hooks.url()
    body = block_action_body(WHY_ACTION, "not json", response_url=url)
    assert slack.post(body, signed_headers(body)).status_code == 200
    (reply,) = wait_for(lambda: slack.hooks.to(url), what="a reply to the tampered click")
    assert "out of date" in reply.payload["text"]
