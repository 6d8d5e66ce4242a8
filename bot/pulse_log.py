"""The `Pulse Log` tab: an append-only history of refreshes, digests and alerts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

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
    """Append one entry on its own (digests and alerts; a refresh writes its entry with its batch), after any
    entries queued by `defer_log`."""
    pending = deferred()
    workbook.write_owned({LOG_TAB: log_tab(workbook, [*pending, (when, event, detail, outcome)])})
    forget_deferred(len(pending))


# Entries noted where no workbook is at hand (a state file healed at start-up); written with the next entry.
_deferred: list[tuple[datetime, str, str, str]] = []
_deferred_lock = threading.Lock()


def defer_log(event: str, detail: str, outcome: str) -> None:
    """Queue an entry for `Pulse Log`, written by the next refresh, `append_log` or `flush_deferred` of this process."""
    with _deferred_lock:
        _deferred.append((datetime.now(UTC), event, detail, outcome))


def flush_deferred(workbook: Workbook) -> None:
    """Write the queued entries now; they stay queued when the workbook cannot be written."""
    pending = deferred()
    if not pending:
        return
    workbook.write_owned({LOG_TAB: log_tab(workbook, pending)})
    forget_deferred(len(pending))


def deferred() -> list[tuple[datetime, str, str, str]]:
    """The queued entries, oldest first (a refresh writes them in its own batch)."""
    with _deferred_lock:
        return list(_deferred)


def forget_deferred(count: int) -> None:
    """Drop the `count` oldest queued entries once they are in `Pulse Log`."""
    with _deferred_lock:
        del _deferred[:count]
