"""Google Sheets as a workbook: credentials from the environment, the real gspread client, retries, write-back."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sheets.google.auth import CredentialsError, GoogleCredentials, load_credentials
from sheets.google.keys import sheet_key
from sheets.google.retry import RetryPolicy
from sheets.google.workbook import GoogleWorkbook

if TYPE_CHECKING:
    from config.settings import Settings

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
TIMEOUT_VAR = "PULSE_SHEETS_TIMEOUT_SECONDS"
# Drive's "has the sheet changed" answer is reused this long (at most [source] cache_seconds, at least 1 s), so a
# burst of questions costs one files.get and an edit shows within these seconds.
MARKER_MAX_AGE = 10.0


def open_google_workbook(
    settings: Settings,
    sheet: str | None = None,
    *,
    retry: RetryPolicy | None = None,
    credentials: GoogleCredentials | None = None,
) -> GoogleWorkbook:
    """The sheet named by `sheet` (key or URL; `--sheet`) or `settings.source.sheet`. No request is sent yet."""
    import gspread

    from sheets.google.transport import api_url, build_session

    key = sheet_key(sheet or settings.source.sheet)
    creds = credentials or load_credentials()
    session = build_session(creds.credentials, api_url())
    client = gspread.Client(auth=creds.credentials, session=session)
    client.set_timeout(timeouts())
    sources = settings.tabs.model_dump().values()
    return GoogleWorkbook(
        client,
        key,
        account=creds.account,
        retry=retry or RetryPolicy.from_env(),
        source_tabs=sources,
        marker_max_age=min(MARKER_MAX_AGE, max(1.0, float(settings.source.cache_seconds))),
    )


def timeouts(env: dict[str, str] | None = None) -> tuple[float, float]:
    """(connect, read) seconds per request; PULSE_SHEETS_TIMEOUT_SECONDS sets the read timeout (default 60)."""
    raw = ((env if env is not None else os.environ).get(TIMEOUT_VAR) or "").strip()
    if not raw:
        return CONNECT_TIMEOUT, READ_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{TIMEOUT_VAR}={raw!r} is not a number of seconds") from None
    if not seconds > 0:
        raise ValueError(f"{TIMEOUT_VAR}={raw!r} must be a positive number of seconds")
    return min(CONNECT_TIMEOUT, seconds), seconds


__all__ = ["CredentialsError", "GoogleWorkbook", "RetryPolicy", "load_credentials", "open_google_workbook", "sheet_key"]
