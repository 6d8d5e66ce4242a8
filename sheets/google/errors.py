"""Turn Sheets API and auth failures into WorkbookErrors that say what happened and what to do."""

from __future__ import annotations

from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError

from sheets.google.auth import DOCS
from sheets.google.retry import RetryExhausted, status_of
from sheets.workbook import WorkbookError


def explain(error: BaseException, *, key: str, account: str | None, doing: str = "read the sheet",
            writing: bool = False) -> WorkbookError:
    """A user-facing WorkbookError for `error`, raised while trying to `doing` spreadsheet `key`."""
    if isinstance(error, WorkbookError):
        return error
    if isinstance(error, RetryExhausted):
        return _exhausted(error, doing)
    if isinstance(error, auth_exceptions.RefreshError):
        who = account or "the configured Google account"
        reason = str(error.args[0]) if error.args else type(error).__name__
        return WorkbookError(f"could not sign in to Google as {who}: {reason} — the key may have been deleted or "
                             f"revoked, or the machine's clock is wrong; create a new key (see {DOCS})")
    status = status_of(error)
    message = error.error.get("message", "") if isinstance(error, APIError) else str(error)
    if status == 403:
        if "scope" in message.lower():
            return WorkbookError(f"Google refused to {doing}: the credentials lack the spreadsheets scope ({message})")
        if writing and account:
            return WorkbookError(f"crm-pulse may read but not edit the sheet, so it could not {doing} — share it with "
                                 f"{account} as Editor (summary tabs need Editor; reads need only Viewer)")
        if account:
            return WorkbookError(f"the sheet is not shared with the service account — share it with {account} "
                                 f"(Viewer for reads, Editor for summary tabs); Google said: {message}")
        return WorkbookError(f"the signed-in Google account cannot open spreadsheet {key} — share the sheet with it "
                             f"(Viewer for reads, Editor for summary tabs)")
    if status == 404:
        return WorkbookError(f"no spreadsheet with key {key} — check source.sheet (or --sheet): paste the sheet's "
                             f"full URL or the id between /d/ and /edit")
    if status == 401:
        return WorkbookError(f"Google rejected the credentials while trying to {doing} (401: {message}) — "
                             f"check the key (see {DOCS})")
    if status is not None:
        return WorkbookError(f"Google Sheets refused to {doing}: HTTP {status}: {message}")
    return WorkbookError(f"could not {doing}: {type(error).__name__}: {error}")


def _exhausted(error: RetryExhausted, doing: str) -> WorkbookError:
    status = status_of(error.error)
    tail = f"after {error.attempts} attempts over {error.waited:.0f} s"
    if status == 429:
        return WorkbookError(f"Google Sheets quota exhausted: still rate-limited (HTTP 429) {tail} trying to {doing} — "
                             f"the service account shares one per-minute read quota; wait a minute or raise "
                             f"source.cache_seconds")
    if status is not None:
        return WorkbookError(f"Google Sheets kept failing (HTTP {status}) {tail} trying to {doing} — "
                             f"Google may be having trouble; try again later")
    return WorkbookError(f"could not reach Google Sheets {tail} trying to {doing} "
                         f"({type(error.error).__name__}) — check the network (or PULSE_SHEETS_API_URL)")
