"""Where summary tabs go besides the source: the `[output]` workbook of a SQL source, and opening a Google Sheet.

Kept apart from `sheets.open` so the SQL source can open its output without importing the module that opens it."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from sheets.workbook import Workbook


def open_output(settings: Settings) -> Workbook | None:
    """The `[output]` workbook a SQL source's summary tabs go to (an .xlsx created when missing), else None."""
    from sheets.local import LocalWorkbook, create_empty_workbook

    if settings.output.sheet:
        return open_google(settings, settings.output.sheet)
    if settings.output.workbook:
        path = Path(settings.output.workbook).expanduser()
        if not path.exists():
            create_empty_workbook(path)
        return LocalWorkbook(path)
    return None


def open_google(settings: Settings, sheet: str) -> Workbook:
    """A Google Sheet by URL or key (the Google client is imported only when one is opened)."""
    from sheets.google import open_google_workbook

    return open_google_workbook(settings, sheet)
