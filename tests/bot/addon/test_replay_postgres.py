"""With `[state] url` (PostgreSQL) two server instances share the seen-request store: a signed add-on request
accepted by one is refused when replayed to the other, and so is a Slack request."""

import hashlib
import hmac
import time

import pytest

from bot.context import build_context
from bot.replay import MemorySeen, seen_store
from bot.errors import RequestRefused
from bot.slack.signing import SlackRequestCheck
from bot.state_pg import PgSeen
from config import parse_settings
from tests.bot.addon.conftest import SHEET, make_settings
from tests.bot.addon.test_api import problem
from tests.bot.conftest import TODAY


def test_an_addon_request_replayed_to_the_other_instance_is_refused(state_url, demo_workbook, serve_addon):
    a, _ = serve_addon(build_context(make_settings(), workbook=str(demo_workbook), today=TODAY))
    b, _ = serve_addon(build_context(make_settings(), workbook=str(demo_workbook), today=TODAY))
    first = a.signed("/addon/issues", {"spreadsheet_id": SHEET})
    assert first.status_code == 200, first.text
    headers = {k: first.request.headers[k] for k in ("x-pulse-timestamp", "x-pulse-signature", "content-type")}
    assert problem(b.raw("/addon/issues", first.request.content, headers), 401)["detail"] == "replayed request"
    fresh = b.signed("/addon/issues", {"spreadsheet_id": SHEET})  # a new request is still welcome on the other instance
    assert fresh.status_code == 200, fresh.text


def slack_headers(secret: str, body: bytes, ts: int) -> dict[str, str]:
    """Headers exactly as Slack signs a request."""
    sig = "v0=" + hmac.new(secret.encode(), b"v0:" + str(ts).encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": str(ts), "x-slack-signature": sig}


def test_a_slack_request_replayed_to_the_other_instance_is_refused(state_url):
    settings = parse_settings({})
    one, two = (SlackRequestCheck("signing-secret", seen=seen_store(settings)) for _ in range(2))
    assert isinstance(one.seen, PgSeen)
    body = b"command=%2Fpulse&text=nps"
    headers = slack_headers("signing-secret", body, int(time.time()))
    assert one(headers, body) == body.decode()
    with pytest.raises(RequestRefused) as refused:
        two(headers, body)
    assert (refused.value.status, refused.value.detail) == (401, "replayed request")


def test_seen_keys_expire_and_are_forgotten(state_url):
    """A key is refused until its expiry, accepted again after it (the freshness check refuses such a request anyway)."""
    now = [1_000.0]
    a, b = PgSeen(state_url, clock=lambda: now[0]), PgSeen(state_url, clock=lambda: now[0])
    assert a.first_time("k", expires_at=1_300.0) is True
    assert b.first_time("k", expires_at=1_300.0) is False
    now[0] = 1_300.5  # past the expiry: forgotten, and swept from the table
    assert b.first_time("k", expires_at=1_600.0) is True
    assert a.first_time("k", expires_at=1_600.0) is False


def test_without_a_state_url_the_store_stays_in_memory(monkeypatch):
    monkeypatch.delenv("PULSE_STATE_URL", raising=False)
    assert isinstance(seen_store(parse_settings({})), MemorySeen)


def test_an_unreachable_seen_store_refuses_with_503_not_500(state_url, tmp_path):
    """PostgreSQL gone: the request is neither accepted unchecked nor answered with a stack trace, but 503 problem+json."""
    from fastapi.testclient import TestClient

    from bot.server import create_app, guard

    check = SlackRequestCheck("signing-secret", seen=seen_store(parse_settings({})))
    check.seen.url = "postgresql://pulse@127.0.0.1:1/gone"  # nothing listens on port 1
    api = create_app(build_context(parse_settings({}), workbook=str(tmp_path / "none.xlsx")))
    guard(api, "/slack/events", check)
    body = b"command=%2Fpulse&text=nps"
    response = TestClient(api).post("/slack/events", content=body, headers=slack_headers("signing-secret", body, int(time.time())))
    assert response.status_code == 503 and response.headers["content-type"].startswith("application/problem+json")
    assert "cannot connect to the PostgreSQL state" in response.json()["detail"] and "gone" not in response.json()["detail"]
