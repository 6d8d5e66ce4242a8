"""Spreadsheet keys from what users paste: a bare key or any Google Sheets URL."""

from __future__ import annotations

import re

from sheets.workbook import WorkbookError

_URL_KEY = re.compile(r"/spreadsheets(?:/u/\d+)?/d/([A-Za-z0-9_-]+)")
_QUERY_KEY = re.compile(r"[?&#]key=([A-Za-z0-9_-]+)")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{10,}")


def sheet_key(text: str | None) -> str:
    """The spreadsheet key in `text` (a key or a docs.google.com URL); a clear error when there is none."""
    value = (text or "").strip()
    if not value:
        raise WorkbookError(
            "no Google Sheet configured — set source.sheet in config/pulse.toml to the sheet's "
            "URL or key, or pass --sheet URL_OR_KEY"
        )
    if "/" in value or "?" in value:
        match = _URL_KEY.search(value) or _QUERY_KEY.search(value)
        if match:
            return match.group(1)
        raise WorkbookError(
            f"'{value}' is not a Google Sheets URL — expected "
            f"https://docs.google.com/spreadsheets/d/<key>/edit (source.sheet or --sheet)"
        )
    if not _BARE_KEY.fullmatch(value):
        raise WorkbookError(
            f"'{value}' is not a spreadsheet key — copy the long id between /d/ and /edit in the "
            f"sheet's URL, or paste the whole URL (source.sheet or --sheet)"
        )
    return value
