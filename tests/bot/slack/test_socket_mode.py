"""Socket Mode end to end: the real bolt SocketModeHandler dials a local Socket Mode endpoint and acks envelopes."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from bot.serve import connect_socket_mode
from bot.slack.app import build_app
from bot.slack.runtime import SlackRuntime
from tests.bot.slack.conftest import with_slack
from tests.fakes.slack_api import block_problems, wait_for
from tests.fakes.slack_requests import block_action_body, slash_command_body
from tests.fakes.slack_socket_mode import FakeSocketMode


@pytest.fixture
def socket_app(slack_api, demo_ctx):
    with FakeSocketMode() as sockets:
        slack_api.socket_url = sockets.url
        ctx = with_slack(demo_ctx)
        runtime = SlackRuntime(ctx)
        app = build_app(ctx, token=slack_api.token, api_url=slack_api.base_url, socket_mode=True, runtime=runtime)
        handler = connect_socket_mode(app, slack_api.app_token)
        sockets.wait_connected()
        yield sockets
        handler.close()
        runtime.runner.shutdown()


def test_slash_command_over_socket_mode_is_acked_with_the_answer(socket_app, slack_api, hooks):
    assert [c.method for c in slack_api.calls] == ["apps.connections.open"]
    assert slack_api.calls[0].headers["Authorization"] == f"Bearer {slack_api.app_token}"
    payload = dict(parse_qsl(slash_command_body("/nps", "last-quarter by region", response_url=hooks.url())))
    envelope_id = socket_app.send("slash_commands", payload)
    ack = wait_for(lambda: socket_app.ack(envelope_id), what="the Socket Mode ack")["payload"]
    if ack["text"].startswith(":hourglass"):
        ack = wait_for(lambda: hooks.to(payload["response_url"]), what="the deferred answer")[0].payload
    assert ack["response_type"] == "ephemeral" and block_problems(ack["blocks"]) is None
    assert ack["blocks"][0]["text"]["text"].endswith("— 2026-Q3")


def test_share_button_over_socket_mode_posts_to_the_channel(socket_app, slack_api, hooks):
    body = block_action_body("share_in_channel", json.dumps({"command": "/churn", "text": ""}), response_url=hooks.url(), channel_id="C0SOCKET01")
    envelope_id = socket_app.send("interactive", json.loads(dict(parse_qsl(body))["payload"]))
    wait_for(lambda: socket_app.ack(envelope_id), what="the Socket Mode ack")
    (post,) = wait_for(lambda: slack_api.messages("C0SOCKET01"), what="chat.postMessage")
    assert "Shared by <@U0USER0001>" in json.dumps(post.json_param("blocks"))


def test_socket_mode_refuses_a_bot_token_in_place_of_the_app_token(slack_api, demo_ctx):
    from slack_sdk.errors import SlackApiError

    slack_api.socket_url = "ws://127.0.0.1:9/never"
    ctx = with_slack(demo_ctx)
    app = build_app(ctx, token=slack_api.token, api_url=slack_api.base_url, socket_mode=True)
    with pytest.raises(SlackApiError) as err:
        connect_socket_mode(app, slack_api.token)
    assert err.value.response["error"] == "not_allowed_token_type"
