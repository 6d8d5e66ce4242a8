"""Add-on authentication by Google-signed identity tokens, over real HTTP: signature against the (local) certificate
endpoint, audience, issuer, expiry, verified e-mail, allow-list by e-mail or domain; admin-only digest posting."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.context import build_context
from config import parse_settings
from tests.bot.addon.conftest import SHEET
from tests.bot.conftest import TODAY
from tests.fakes.google_identity import CLIENT_ID, FakeGoogleCerts


@pytest.fixture
def google(monkeypatch):
    with FakeGoogleCerts() as fake:
        monkeypatch.setenv("PULSE_GOOGLE_CERTS_URL", fake.url)
        yield fake


def settings(**addon):
    base = {"spreadsheet_id": SHEET, "oauth_client_id": CLIENT_ID, "allowed_emails": ["ana@example.com"], "allowed_domains": ["pulse.test"]}
    return parse_settings({"addon": {**base, **addon}})


@pytest.fixture
def server(demo_workbook, serve_addon, google, monkeypatch):
    def start(with_secret: bool = False, **addon):
        if not with_secret:
            monkeypatch.delenv("PULSE_ADDON_SECRET", raising=False)
        client, _ = serve_addon(build_context(settings(**addon), workbook=str(demo_workbook), today=TODAY))
        return client
    return start


def bearer(client, path: str, token: str, payload: dict | None = None) -> httpx.Response:
    body = json.dumps({"spreadsheet_id": SHEET, **(payload or {})}).encode()
    return client.raw(path, body, {"content-type": "application/json", "authorization": f"Bearer {token}"})


def test_a_valid_token_from_an_allowed_email_or_domain_is_let_in(server, google):
    client = server()
    assert bearer(client, "/addon/issues", google.token("ana@example.com")).status_code == 200
    assert bearer(client, "/addon/issues", google.token("Bo@Pulse.test")).status_code == 200
    assert google.fetches == 1  # the certificates are fetched once and cached


@pytest.mark.parametrize(
    "claims, reason",
    [
        ({"aud": "someone-elses-client.apps.googleusercontent.com"}, "identity token refused"),
        ({"iss": "https://evil.example.com"}, "not issued by Google"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "identity token refused"),
        ({"email_verified": False}, "no verified e-mail"),
        ({"email": "eve@example.com"}, "eve@example.com may not use this add-on"),
        ({"email": "eve@notpulse.test"}, "may not use this add-on"),  # a domain matches whole, not as a suffix
    ],
)
def test_tokens_that_fail_a_check_are_refused(server, google, claims, reason):
    client = server()
    email = claims.pop("email", "ana@example.com")
    response = bearer(client, "/addon/issues", google.token(email, **claims))
    assert response.status_code == 401 and response.headers["content-type"].startswith("application/problem+json")
    assert reason in response.json()["detail"]


def test_a_token_signed_by_another_key_is_refused(server, google):
    client = server()
    response = bearer(client, "/addon/issues", google.token(key=google.other_key()))
    assert response.status_code == 401 and "identity token refused" in response.json()["detail"]


def test_without_a_secret_only_identity_tokens_are_accepted(server):
    client = server()
    response = client.signed("/addon/issues", {"spreadsheet_id": SHEET})
    assert response.status_code == 401 and response.json()["detail"] == "missing Authorization: Bearer <identity token>"


def test_hmac_stays_an_option_next_to_identity_tokens(server, google):
    client = server(with_secret=True)
    assert client.signed("/addon/issues", {"spreadsheet_id": SHEET}).status_code == 200
    assert bearer(client, "/addon/issues", google.token()).status_code == 200


def test_posting_the_digest_is_for_admins(server, google, monkeypatch):
    client = server(with_secret=True, admins=["boss@pulse.test"], allowed_emails=["ana@example.com"])
    refused = bearer(client, "/addon/digest", google.token("ana@example.com"), {"action": "post"})
    assert refused.status_code == 403 and "ana@example.com is not one of them" in refused.json()["detail"]
    anonymous = client.signed("/addon/digest", {"spreadsheet_id": SHEET, "action": "post"})
    assert anonymous.status_code == 403 and "use identity tokens" in anonymous.json()["detail"]
    allowed = bearer(client, "/addon/digest", google.token("Boss@pulse.test"), {"action": "post"})
    assert allowed.status_code == 200 and allowed.json()["status"] == "no_channel"  # admitted; no channel configured
    # Previewing is not admin-only.
    assert bearer(client, "/addon/digest", google.token("ana@example.com"), {"action": "preview"}).status_code == 200
