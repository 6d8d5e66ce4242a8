"""A live add-on API server on 127.0.0.1 over a private copy of the demo workbook, and a request signer."""

import json
import time
import uuid

import httpx
import pytest

from bot.addon.api import install
from bot.addon.auth import sign
from bot.context import build_context
from bot.server import create_app
from config import parse_settings
from tests.bot.conftest import TODAY
from tests.fakes.live_server import LiveServer

SECRET = "addon-test-secret"
SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


class Client:
    """Sends signed add-on requests the way the Apps Script does."""

    def __init__(self, base: str, secret: str = SECRET):
        self.base, self.secret = base, secret
        self.http = httpx.Client(timeout=60)

    def signed(self, path: str, payload: dict, *, secret: str | None = None, timestamp: int | None = None):
        body = json.dumps({"nonce": uuid.uuid4().hex, **payload}).encode()
        ts = str(timestamp if timestamp is not None else int(time.time()))
        headers = {"content-type": "application/json", "x-pulse-timestamp": ts, "x-pulse-signature": sign(secret or self.secret, ts, body)}
        return self.http.post(self.base + path, content=body, headers=headers)

    def raw(self, path: str, body: bytes, headers: dict):
        return self.http.post(self.base + path, content=body, headers=headers)


def make_settings(**addon):
    return parse_settings({"addon": {"spreadsheet_id": SHEET, "refresh_debounce_seconds": 6, **addon}})


@pytest.fixture
def serve_addon(monkeypatch):
    """Start a live add-on server over a given context; returns (client, server app). Stopped after the test."""
    monkeypatch.setenv("PULSE_ADDON_SECRET", SECRET)
    servers = []

    def start(ctx):
        api = create_app(ctx)
        install(api, ctx)
        servers.append(LiveServer(api).start())
        return Client(servers[-1].url), api

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def addon(demo_workbook, serve_addon):
    """(client, server app, context) for a running server."""
    ctx = build_context(make_settings(), workbook=str(demo_workbook), today=TODAY)
    client, api = serve_addon(ctx)
    yield client, api, ctx
