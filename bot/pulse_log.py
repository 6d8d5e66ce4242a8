"""The `Pulse Log` tab: an append-only history of refreshes, digests and alerts."""

from __future__ import annotations

from datetime import datetime

from sheets.workbook import Cell, OwnedTab, Workbook

LOG_TAB = "Pulse Log"
LOG_HEADER = ["Time (UTC)", "Event", "Detail", "Outcome"]
MAX_ROWS = 5000


def log_tab(workbook: Workbook, entries: list[tuple[datetime, str, str, str]]) -> OwnedTab:
    """The log tab with `entries` appended to what is there (oldest rows dropped past MAX_ROWS)."""
    existing = workbook.read_owned(LOG_TAB) or []
    rows: list[list[Cell]] = [list(r) for r in existing[1:]] if existing else []
    rows += [[when.strftime("%Y-%m-%d %H:%M:%S"), event, detail, outcome] for when, event, detail, outcome in entries]
    return OwnedTab(LOG_TAB, LOG_HEADER, rows[-MAX_ROWS:])


def append_log(workbook: Workbook, when: datetime, event: str, detail: str, outcome: str) -> None:
    """Append one entry on its own (digests and alerts; a refresh writes its entry with its batch)."""
    workbook.write_owned({LOG_TAB: log_tab(workbook, [(when, event, detail, outcome)])})
