"""Pick the workbook backend from the command line or config: a local .xlsx, a Google Sheet, a DuckDB file
(`[source] kind = "sql"`), or the demo workbook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from config.settings import DEMO_WORKBOOK, Settings
from sheets.output import open_google, open_output
from sheets.workbook import Workbook

__all__ = ["open_output", "open_workbook"]


def open_workbook(settings: Settings, workbook: str | None = None, sheet: str | None = None) -> Workbook:
    """`--workbook`/`--sheet` win over `[source]`; with nothing configured, the demo workbook (created if missing)."""
    from sheets.local import LocalWorkbook

    if workbook:
        return LocalWorkbook(Path(workbook).expanduser())
    if sheet:
        return open_google(settings, sheet)
    if settings.source.kind == "sql":
        from sheets.warehouse.source import open_sql_workbook

        return open_sql_workbook(settings)
    if settings.source.workbook:
        return LocalWorkbook(Path(settings.source.workbook).expanduser())
    if settings.source.sheet:
        return open_google(settings, settings.source.sheet)
    from sheets.demo import ensure_demo_workbook

    return LocalWorkbook(ensure_demo_workbook(DEMO_WORKBOOK, date.today()))
