"""The Web API client against the local Slack fake over real HTTP: base URL, 429 retry, errors, files_upload_v2."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import DEFAULT_API_URL, resolve_api_url, web_client
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
def slack_api():
    with FakeSlackAPI() as fake:
        yield fake


def test_api_url_gets_its_trailing_slash_and_defaults_to_slack(monkeypatch):
    assert resolve_api_url() == DEFAULT_API_URL
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    assert resolve_api_url() == "http://127.0.0.1:9/api/"


def test_env_base_url_is_used(monkeypatch, slack_api):
    monkeypatch.setenv("SLACK_API_URL", slack_api.base_url.rstrip("/"))
    assert web_client(slack_api.token).auth_test()["team_id"] == "T0G9PQBBK"
    assert [c.method for c in slack_api.calls] == ["auth.test"]


def test_post_message_sends_blocks_as_json(slack_api):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    resp = web_client(slack_api.token, slack_api.base_url).chat_postMessage(channel="C1", text="hi", blocks=blocks)
    assert resp["ok"] and resp["channel"] == "C1" and resp["message"]["blocks"] == blocks
    (call,) = slack_api.messages("C1")
    assert call.json_param("blocks") == blocks
    assert call.headers["Authorization"] == f"Bearer {slack_api.token}"


def test_rate_limited_call_is_retried_after_retry_after(slack_api):
    slack_api.fail("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    resp = web_client(slack_api.token, slack_api.base_url).chat_postMessage(channel="C1", text="hi")
    assert resp["ok"]
    calls = slack_api.calls_to("chat.postMessage")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9


def test_server_error_and_bad_token_surface_as_slack_api_errors(slack_api):
    slack_api.fail("chat.postMessage", status=500, error="internal_error")
    with pytest.raises(SlackApiError) as err:
        web_client(slack_api.token, slack_api.base_url).chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 500
    with pytest.raises(SlackApiError) as err:
        web_client("xoxb-wrong", slack_api.base_url).chat_postMessage(channel="C1", text="hi")
    assert err.value.response["error"] == "invalid_auth"
    slack_api.fail("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as err:
        web_client(slack_api.token, slack_api.base_url).chat_postMessage(channel="C1", text="hi")
    assert err.value.response["error"] == "not_in_channel"


def test_files_upload_v2_round_trip(slack_api):
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    resp = web_client(slack_api.token, slack_api.base_url).files_upload_v2(
        channel="C0DIGEST1", file=data, filename="trend.png", title="Trend", initial_comment="Weekly digest"
    )
    assert resp["ok"] and resp["file"]["title"] == "Trend" and resp["file"]["channels"] == ["C0DIGEST1"]
    assert [c.method for c in slack_api.calls] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert slack_api.calls[0].params["filename"] == "trend.png" and slack_api.calls[0].params["length"] == str(len(data))
    assert slack_api.uploads[resp["file"]["id"]] == data
    assert slack_api.calls[2].params["initial_comment"] == "Weekly digest"


def test_completing_an_upload_that_never_happened_fails(slack_api):
    with pytest.raises(SlackApiError) as err:
        web_client(slack_api.token, slack_api.base_url).files_completeUploadExternal(files=[{"id": "F404", "title": "x"}], channel_id="C1")
    assert err.value.response["error"] == "file_not_found"


def test_fake_rejects_blocks_slack_would_reject(slack_api):
    client = web_client(slack_api.token, slack_api.base_url)
    too_long_header = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    too_many = [{"type": "divider"}] * 51
    too_big = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900}}] * 5
    for blocks, error in ((too_long_header, "invalid_blocks"), (too_many, "invalid_blocks"), (too_big, "msg_blocks_too_long")):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C1", text="t", blocks=blocks)
        assert err.value.response["error"] == error
    assert slack_api.messages() == []
