"""The `Pulse Log` tab: an append-only history of refreshes, digests and alerts."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sheets.workbook import LOG_TAB, Cell, OwnedTab, Workbook

if TYPE_CHECKING:
    from bot.state_pg import PgLogQueue

log = logging.getLogger(__name__)

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
# With `[state] url`: the queue shared by the instances (`share_queue`), and the ids of the shared entries that the
# last `deferred()` returned after this process's own (`forget_deferred` deletes them once written).
_shared: PgLogQueue | None = None
_taken: list[int] = []


def share_queue(url: str | None) -> None:
    """Queue entries in the PostgreSQL state at `url` (whichever instance writes `Pulse Log` next writes them);
    None: in this process only."""
    global _shared
    if url is None:
        _shared = None
        return
    import os
    import socket
    import uuid

    from bot.state_pg import PgLogQueue

    _shared = PgLogQueue(url, f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")


def defer_log(event: str, detail: str, outcome: str) -> None:
    """Queue an entry for `Pulse Log`, written by the next refresh, `append_log` or `flush_deferred` (of any instance
    with a shared queue; kept in this process when the database cannot take it)."""
    entry = (datetime.now(UTC), event, detail, outcome)
    if _shared is not None:
        try:
            _shared.put(*entry)
            return
        except Exception as err:  # noqa: BLE001 - the note is kept here rather than lost
            log.warning("could not queue the Pulse Log entry in the shared state (%s); kept in this process", err)
    with _deferred_lock:
        _deferred.append(entry)


def flush_deferred(workbook: Workbook) -> None:
    """Write the queued entries now; they stay queued when the workbook cannot be written."""
    pending = deferred()
    if not pending:
        return
    workbook.write_owned({LOG_TAB: log_tab(workbook, pending)})
    forget_deferred(len(pending))


def deferred() -> list[tuple[datetime, str, str, str]]:
    """The queued entries: this process's, then the shared queue's (now taken by this writer), oldest first (a
    refresh writes them in its own batch)."""
    with _deferred_lock:
        own = list(_deferred)
    shared: list[tuple[int, tuple[datetime, str, str, str]]] = []
    if _shared is not None:
        try:
            shared = _shared.take()
        except Exception as err:  # noqa: BLE001 - the shared entries wait for the next writer
            log.warning("could not read the shared Pulse Log queue: %s", err)
    with _deferred_lock:
        _taken[:] = [entry_id for entry_id, _entry in shared]
    return own + [entry for _id, entry in shared]


def forget_deferred(count: int) -> None:
    """Drop the `count` oldest entries `deferred()` returned once they are in `Pulse Log`."""
    with _deferred_lock:
        own = min(count, len(_deferred))
        del _deferred[:own]
        done, _taken[:] = _taken[: count - own], []
    if _shared is not None and done:
        try:
            _shared.done(done)
        except Exception as err:  # noqa: BLE001 - taken entries are offered again later (they may repeat once)
            log.warning("could not clear the shared Pulse Log queue: %s", err)
