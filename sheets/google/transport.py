"""The authorized requests session gspread talks through, optionally redirected to an emulator or test fake.

gspread builds its URLs from module constants imported by value, so the redirect happens at the session:
a transport adapter rewrites https://sheets.googleapis.com (and the Drive v3 base) to PULSE_SHEETS_API_URL.
"""

from __future__ import annotations

import os
from typing import Any

from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

API_URL_VAR = "PULSE_SHEETS_API_URL"
SHEETS_BASE = "https://sheets.googleapis.com"
DRIVE_BASE = "https://www.googleapis.com/drive/v3"


class RedirectAdapter(HTTPAdapter):
    """Send requests for Google's API hosts to `base` instead (same paths and query strings)."""

    def __init__(self, base: str, **kwargs: Any):
        super().__init__(**kwargs)
        base = base.rstrip("/")
        self.prefixes = ((SHEETS_BASE, base), (DRIVE_BASE, base + "/drive/v3"))

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        url = request.url or ""
        for google, local in self.prefixes:
            if url == google or url.startswith(google + "/") or url.startswith(google + "?"):
                request.url = local + url[len(google) :]
                break
        return super().send(request, **kwargs)


def api_url(env: dict[str, str] | None = None) -> str | None:
    """The overriding API base URL, if any (PULSE_SHEETS_API_URL)."""
    value = ((env if env is not None else os.environ).get(API_URL_VAR) or "").strip()
    return value or None


def build_session(credentials: Credentials, base_url: str | None = None) -> AuthorizedSession:
    """An AuthorizedSession (token refresh on 401 built in), redirected to `base_url` when given."""
    session = AuthorizedSession(credentials)
    if base_url:
        adapter = RedirectAdapter(base_url)
        session.mount(SHEETS_BASE, adapter)
        session.mount("https://www.googleapis.com", adapter)
    return session
