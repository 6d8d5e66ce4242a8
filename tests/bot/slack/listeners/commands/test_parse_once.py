"""A slash command's text is parsed into a Command once and passed on (issue 15): the access check and the answer
read the same parse; a button's query likewise. The spy counts calls to the tokenizer every parse starts with."""

from __future__ import annotations

import pytest

import bot.grammar
from tests.bot.slack.conftest import with_slack
from tests.fakes.slack_api import wait_for


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = bot.grammar._tokens

    def counting(text: str):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(bot.grammar, "_tokens", counting)
    return calls


def test_a_slash_command_is_parsed_once(start_slack, demo_ctx, parses):
    slack = start_slack(with_slack(demo_ctx))
    answer = slack.answer(slack.command("/pulse", "nps 2026-Q3"))
    assert "NPS" in answer["text"] or "Net Promoter" in answer["text"]
    assert parses == ["nps 2026-Q3"]


def test_a_share_button_is_parsed_once(start_slack, demo_ctx, parses):
    slack = start_slack(with_slack(demo_ctx))
    slack.click_share("/nps", "2026-Q3", channel_id="C0TEAM0001")
    wait_for(lambda: slack.api.messages("C0TEAM0001"), what="chat.postMessage to C0TEAM0001")
    assert parses == ["2026-Q3"]
