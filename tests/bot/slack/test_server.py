"""The ASGI server: health, request signing (401s), and no Slack call before the first request."""

from __future__ import annotations

import time

import pytest
import requests

from bot.server import create_app
from bot.slack.app import SlackConfigError, build_app
from tests.bot.slack.conftest import with_slack
from tests.fakes.live_server import LiveServer
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_command_body


def test_healthz(slack):
    resp = requests.get(f"{slack.url}/healthz", timeout=5)
    assert resp.status_code == 200 and resp.json() == {"status": "ok", "slack": "http"}


def test_bad_signature_is_refused_with_401_and_nothing_runs(slack):
    body = slash_command_body("/nps", "", response_url=slack.hooks.url())
    resp = slack.post(body, signed_headers(body, secret="not-the-signing-secret"))
    assert resp.status_code == 401
    tampered = body.replace("user_id=U0USER0001", "user_id=U0ADMIN")
    resp = slack.post(tampered, signed_headers(body))
    assert resp.status_code == 401
    time.sleep(0.3)
    assert slack.hooks.deliveries == [] and slack.api.calls == []


def test_timestamp_older_than_five_minutes_is_refused(slack):
    body = slash_command_body("/nps", "", response_url=slack.hooks.url())
    old = int(time.time()) - 6 * 60
    resp = slack.post(body, signed_headers(body, timestamp=old))
    assert resp.status_code == 401
    fresh = slack.post(body, signed_headers(body, timestamp=int(time.time()) - 60))
    assert fresh.status_code == 200


def test_no_slack_call_at_startup(start_slack, demo_ctx, slack_api):
    harness = start_slack(with_slack(demo_ctx))
    assert requests.get(f"{harness.url}/healthz", timeout=5).ok
    assert slack_api.calls == []
    sent = harness.command("/pulse", "help")
    assert sent.response.status_code == 200
    assert [c.method for c in slack_api.calls] == ["auth.test"]


def test_missing_tokens_are_named(demo_ctx, monkeypatch):
    ctx = with_slack(demo_ctx)
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        build_app(ctx)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        build_app(ctx)
    assert build_app(ctx, socket_mode=True).client.token == "xoxb-from-env"


def test_server_without_slack_serves_health_only(demo_ctx):
    with LiveServer(create_app(with_slack(demo_ctx))) as server:
        assert requests.get(f"{server.url}/healthz", timeout=5).json()["slack"] == "off"
        body = slash_command_body("/nps", "", response_url="http://127.0.0.1:9/x")
        assert requests.post(f"{server.url}/slack/events", data=body, headers=signed_headers(body, secret=SIGNING_SECRET), timeout=5).status_code in (404, 405)
