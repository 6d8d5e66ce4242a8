"""Turn Sheets API and auth failures into WorkbookErrors that say what happened and what to do.

This is the one mapping every surface uses: the CLI prints the message, Slack shows "title: message", the
add-on answers problem+json with the error's title, message and status (502 refused or unreachable, 503
rate-limited, 504 no answer in time).
"""

from __future__ import annotations

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError

from sheets.google.auth import DOCS
from sheets.google.retry import RetryExhausted, status_of
from sheets.workbook import WorkbookError

Timeout = float | tuple[float, float] | None


def explain(
    error: BaseException,
    *,
    key: str,
    account: str | None,
    doing: str = "read the sheet",
    writing: bool = False,
    timeout: Timeout = None,
) -> WorkbookError:
    """A user-facing WorkbookError for `error`, raised while trying to `doing` spreadsheet `key`.

    `timeout` is the client's (connect, read) timeout, quoted when Google did not answer in time.
    """
    if isinstance(error, WorkbookError):
        return error
    cannot = "crm-pulse cannot write the summary tabs" if writing else "crm-pulse cannot read the sheet"
    if isinstance(error, RetryExhausted):
        return _exhausted(error, doing, cannot, timeout)
    if isinstance(error, auth_exceptions.RefreshError):
        who = account or "the configured Google account"
        reason = str(error.args[0]) if error.args else type(error).__name__
        return WorkbookError(
            f"could not sign in to Google as {who}: {reason} — the key may have been deleted or "
            f"revoked, or the machine's clock is wrong; create a new key (see {DOCS})",
            title="crm-pulse cannot sign in to Google",
        )
    status = status_of(error)
    message = error.error.get("message", "") if isinstance(error, APIError) else str(error)
    if status == 403:
        if "scope" in message.lower():
            return WorkbookError(
                f"Google refused to {doing}: the credentials lack the spreadsheets scope ({message})", title=cannot
            )
        if writing and account:
            return WorkbookError(
                f"crm-pulse may read but not edit the sheet, so it could not {doing} — share it with "
                f"{account} as Editor (summary tabs need Editor; reads need only Viewer)",
                title=cannot,
            )
        if account:
            return WorkbookError(
                f"the sheet is not shared with the service account — share it with {account} "
                f"(Viewer for reads, Editor for summary tabs); Google said: {message}",
                title=cannot,
            )
        return WorkbookError(
            f"the signed-in Google account cannot open spreadsheet {key} — share the sheet with it "
            f"(Viewer for reads, Editor for summary tabs)",
            title=cannot,
        )
    if status == 404:
        return WorkbookError(
            f"no spreadsheet with key {key} — check source.sheet (or --sheet): paste the sheet's "
            f"full URL or the id between /d/ and /edit",
            title="crm-pulse cannot find the sheet",
        )
    if status == 401:
        return WorkbookError(
            f"Google rejected the credentials while trying to {doing} (401: {message}) — check the key (see {DOCS})",
            title="crm-pulse cannot sign in to Google",
        )
    if status is not None:
        return WorkbookError(f"Google Sheets refused to {doing}: HTTP {status}: {message}", title=cannot)
    return WorkbookError(f"could not {doing}: {type(error).__name__}: {error}", title=cannot)


def _exhausted(error: RetryExhausted, doing: str, cannot: str, timeout: Timeout) -> WorkbookError:
    status = status_of(error.error)
    tail = f"after {error.attempts} attempts over {error.waited:.0f} s"
    if status == 429:
        return WorkbookError(
            f"Google Sheets quota exhausted: still rate-limited (HTTP 429) {tail} trying to {doing} — "
            f"try again in a minute; the service account shares one per-minute quota (raise "
            f"source.cache_seconds if it keeps happening)",
            status=503,
            title="Google is rate-limiting crm-pulse",
            retry_after=60,
        )
    if status is not None:
        return WorkbookError(
            f"Google Sheets kept failing (HTTP {status}) {tail} trying to {doing} — "
            f"Google may be having trouble; try again later",
            title=cannot,
        )
    if isinstance(error.error, requests.Timeout):
        connect = isinstance(error.error, requests.ConnectTimeout)
        limit = _seconds(timeout, connect)
        within = f" within {limit:g} s" if limit is not None else " in time"
        verb = "could not connect to Google" if connect else "Google did not answer"
        return WorkbookError(
            f"{verb}{within} ({error.attempts} attempts) trying to {doing} — Google Sheets may be "
            f"slow or down; try again in a few minutes",
            status=504,
            title="Google Sheets did not answer in time",
        )
    return WorkbookError(
        f"could not reach Google Sheets {tail} trying to {doing} "
        f"({type(error.error).__name__}) — check the network (or PULSE_SHEETS_API_URL)",
        title="crm-pulse cannot reach Google Sheets",
    )


def _seconds(timeout: Timeout, connect: bool) -> float | None:
    """The connect or read part of a requests-style timeout."""
    if isinstance(timeout, tuple):
        return timeout[0] if connect else timeout[1]
    return timeout
