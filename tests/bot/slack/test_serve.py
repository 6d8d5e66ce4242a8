"""`serve` refuses to start without the secrets its mode needs, before opening any port or calling Slack."""

from __future__ import annotations

import pytest

from bot.serve import serve
from bot.slack.app import SlackConfigError
from tests.bot.slack.conftest import with_slack


def test_http_mode_needs_token_and_signing_secret(demo_ctx, monkeypatch):
    ctx = with_slack(demo_ctx)
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        serve(ctx, port=0, socket_mode=False, host="127.0.0.1", scheduler=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        serve(ctx, port=0, socket_mode=False, host="127.0.0.1", scheduler=False)


def test_socket_mode_needs_an_app_token_not_a_signing_secret(demo_ctx, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
        serve(with_slack(demo_ctx), port=0, socket_mode=True, host="127.0.0.1", scheduler=False)
