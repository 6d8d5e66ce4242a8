"""Charts with answers (survival curves, forecast, cohort heat map) through the real bolt app and the Slack fake: the
text answer comes first and complete; the chart goes privately to the asker's DM, or under a shared answer."""

from __future__ import annotations

import pytest

from tests.fakes.slack_api import wait_for

PNG = b"\x89PNG\r\n\x1a\n"


def uploads_to(slack, channel: str):
    return [c for c in slack.api.calls_to("files.completeUploadExternal") if c.params.get("channel_id") == channel]


@pytest.mark.parametrize("text, name", [("survival by plan", "survival.png"), ("cohorts", "cohorts.png")])
def test_a_private_answer_s_chart_goes_to_the_askers_direct_message(slack, text, name):
    sent = slack.command("/pulse", text, user_id="U0ASKER001", channel_id="C0TEAM0001")
    answer = slack.answer(sent, timeout=60)
    assert answer["response_type"] == "ephemeral" and "Sorry" not in answer["text"]
    (opened,) = wait_for(lambda: slack.api.calls_to("conversations.open"), timeout=60, what="the DM to be opened")
    assert opened.params["users"] == "U0ASKER001"
    (done,) = wait_for(lambda: uploads_to(slack, "D0ASKER001"), timeout=60, what="the chart upload to the DM")
    file_id = done.json_param("files")[0]["id"]
    assert slack.api.uploads[file_id][:8] == PNG and slack.api._names[file_id] == name
    assert done.params["initial_comment"] == f"Chart for `/pulse {text}`"
    assert uploads_to(slack, "C0TEAM0001") == []  # never into the channel, where everyone would see it


def test_an_answer_without_a_chart_uploads_nothing(slack):
    answer = slack.answer(slack.command("/nps", "last-quarter"), timeout=60)
    assert "Net Promoter Score" in answer["text"]
    assert slack.api.calls_to("files.getUploadURLExternal") == [] and slack.api.calls_to("conversations.open") == []


def test_a_shared_answer_s_chart_goes_under_the_shared_message(slack):
    slack.click_share("/pulse", "survival", user_id="U0SHARER01", channel_id="C0TEAM0001")
    (post,) = wait_for(lambda: [m for m in slack.api.messages("C0TEAM0001") if not m.params.get("files")] and
                       slack.api.calls_to("chat.postMessage"), timeout=60, what="the shared answer")
    (done,) = wait_for(lambda: uploads_to(slack, "C0TEAM0001"), timeout=60, what="the chart upload to the channel")
    assert done.params.get("thread_ts") and slack.api.calls_to("conversations.open") == []
