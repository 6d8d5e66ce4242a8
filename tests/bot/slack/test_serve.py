"""`serve` starts whichever parts are configured (Slack, add-on API, scheduler), says at start which are on and why
the others are off, and refuses only when nothing is configured or Socket Mode was asked for without its token."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import httpx
import pytest

from bot.addon.auth import sign
from bot.serve import NothingToServe, build_server, serve
from bot.slack.app import SlackConfigError
from tests.bot.slack.conftest import with_slack
from tests.fakes.live_server import LiveServer

SHEET = "1ServeSheet_abcdefghijklmnopqrstuvwxyz"


def bound(ctx):
    """The demo context with the add-on bound to SHEET."""
    return replace(ctx, settings=ctx.settings.model_copy(update={"addon": ctx.settings.addon.model_copy(update={"spreadsheet_id": SHEET})}))


def signed_issues(url: str, secret: str) -> httpx.Response:
    body = json.dumps({"spreadsheet_id": SHEET, "nonce": "n1"}).encode()
    ts = str(int(time.time()))
    return httpx.post(url + "/addon/issues", content=body, headers={"content-type": "application/json", "x-pulse-timestamp": ts, "x-pulse-signature": sign(secret, ts, body)})


def test_only_the_add_on_api_starts_without_slack_variables(demo_ctx, monkeypatch, caplog):
    monkeypatch.setenv("PULSE_ADDON_SECRET", "s3cret")
    with caplog.at_level(logging.INFO, logger="bot.serve"):
        server = build_server(bound(demo_ctx), scheduler=False)
    assert server.parts == {
        "Slack": "off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set",
        "add-on API": "on: /addon/ (HMAC-signed requests)",
        "scheduler": "off: --no-scheduler (run `pulse scheduler` in one process instead)",
    }
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.serve"]
    assert logged == [f"{name} {state}" for name, state in server.parts.items()]
    assert "s3cret" not in " ".join(logged)
    with LiveServer(server.api) as live:
        assert httpx.post(live.url + "/slack/events", content=b"{}").status_code == 404
        assert signed_issues(live.url, "s3cret").status_code == 200


def test_only_the_scheduler(demo_ctx):
    server = build_server(demo_ctx, scheduler=True)
    try:
        assert server.parts["scheduler"] == "on"
        assert server.parts["add-on API"] == "off: PULSE_ADDON_SECRET is not set and identity tokens are off (addon.oauth_client_id is not set)"
        with LiveServer(server.api) as live:
            assert httpx.get(live.url + "/healthz").json()["status"] == "ok"
            assert httpx.post(live.url + "/addon/kpis", content=b"{}").status_code == 404
    finally:
        server.close()


def test_a_half_configured_slack_is_off_and_names_the_missing_variable(demo_ctx, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("PULSE_ADDON_SECRET", "s3cret")
    server = build_server(bound(with_slack(demo_ctx)), scheduler=False)
    assert server.parts["Slack"] == "off: SLACK_SIGNING_SECRET is not set (the other Slack variable is)"


def test_an_add_on_secret_without_a_spreadsheet_leaves_the_api_off(demo_ctx, monkeypatch):
    monkeypatch.setenv("PULSE_ADDON_SECRET", "s3cret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing")
    server = build_server(with_slack(demo_ctx), scheduler=False)
    assert server.parts["Slack"] == "on: HTTP at /slack/events"
    assert server.parts["add-on API"] == "off: no spreadsheet to serve: set addon.spreadsheet_id (or source.sheet) in the config"
    with LiveServer(server.api) as live:
        assert httpx.post(live.url + "/slack/events", content=b"{}").status_code == 401  # bolt checks the signature


def test_nothing_configured_refuses_and_says_why_for_each_part(demo_ctx):
    with pytest.raises(NothingToServe) as err:
        serve(with_slack(demo_ctx), port=0, socket_mode=False, host="127.0.0.1", scheduler=False)
    assert str(err.value) == (
        "nothing to serve: Slack off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set; "
        "add-on API off: PULSE_ADDON_SECRET is not set and identity tokens are off (addon.oauth_client_id is not set); scheduler off: --no-scheduler (run `pulse scheduler` in one process instead)"
    )


def test_socket_mode_needs_an_app_token_not_a_signing_secret(demo_ctx, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
        serve(with_slack(demo_ctx), port=0, socket_mode=True, host="127.0.0.1", scheduler=False)


def test_pulse_serve_with_nothing_configured_exits_with_the_reasons(demo_workbook, capsys):
    from bot.cli import main

    assert main(["serve", "--no-scheduler", "--workbook", str(demo_workbook)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing to serve: Slack off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set;")


def test_identity_tokens_alone_turn_the_add_on_api_on(demo_ctx):
    ctx = bound(demo_ctx)
    addon = ctx.settings.addon.model_copy(update={"oauth_client_id": "1-x.apps.googleusercontent.com", "allowed_domains": ["example.com"]})
    server = build_server(replace(ctx, settings=ctx.settings.model_copy(update={"addon": addon})), scheduler=False)
    assert server.parts["add-on API"] == "on: /addon/ (Google identity tokens)"
