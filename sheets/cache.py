"""The last good snapshot, in memory and on disk: fresh answers cost no reads; stale ones refresh in the
background (a server) or are read again before answering (a one-shot command, `background=False`).

A snapshot is stale when the source's change marker (e.g. a local file's modification time and size) differs from
the one it was read at; a source without a marker (or whose marker cannot be had) is stale after `cache_seconds`.
One refresh runs at a time (single flight).
When a refresh fails, answers keep coming from the last good snapshot with a note saying how old it is and why
the sheet could not be read. On disk the snapshot is Arrow IPC + JSON (`sheets.snapshot_store`), never a
format that runs code; a damaged file is moved aside with a warning and the snapshot is read again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheets.workbook import WorkbookError

if TYPE_CHECKING:
    from config import Settings
    from sheets.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedSnapshot:
    """A snapshot and how it was obtained: `fresh` within cache_seconds; `note` set when the last read failed."""

    snapshot: Snapshot
    fresh: bool
    loaded_at: datetime
    note: str | None = None
    error: str | None = None


@dataclass
class _Entry:
    snapshot: Any
    loaded_at: float
    marker: str | None = None
    from_disk: bool = False


class SnapshotCache:
    """Serve snapshots from `loader` at most once per `cache_seconds`, surviving failures and restarts.

    `background=True` (the server) answers a stale snapshot at once and refreshes behind it; `background=False`
    (one-shot commands, which exit before a background read could finish) reads again before answering and
    falls back to the stale snapshot, with the note, only when the read fails. In that mode a snapshot this
    process read itself stays current for the rest of the process, so one command reads the source at most once.
    `marker` returns the source's change marker (None when it has none); `key` names the source and parse
    settings inside the disk file, so a file written for anything else is never used; `on_damaged` hears the
    sentence logged when a damaged file was moved aside (the bot puts it in `Pulse Log`).
    """

    def __init__(
        self,
        loader: Callable[[], Snapshot],
        cache_seconds: int,
        state_path: Path | None = None,
        clock: Callable[[], float] = time.time,
        failure_backoff: float | None = None,
        *,
        background: bool = True,
        marker: Callable[[], str | None] | None = None,
        key: str = "",
        on_damaged: Callable[[str], None] | None = None,
    ):
        self._loader = loader
        self._ttl = cache_seconds
        self._path = state_path
        self._clock = clock
        self._backoff = max(cache_seconds, 5) if failure_backoff is None else failure_backoff
        self._background = background
        self._marker = marker
        self._key = key
        self._on_damaged = on_damaged
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._loading = False
        self._generation = 0
        self._entry: _Entry | None = self._load_disk()
        self._error: str | None = None
        self._failed_at: float | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> CachedSnapshot:
        """The current snapshot: fresh → no load; stale → refresh (in the background, or now for a one-shot
        command); none → load now."""
        with self._lock:
            entry = self._entry
            if entry is not None:
                if self._is_fresh(entry) or self._backing_off():
                    return self._answer(entry)
                if self._background and not (entry.from_disk and self._changed(entry)):
                    if not self._loading:
                        self._start_background()
                    return self._answer(entry)
        return self._load_now(force=False)

    def refresh(self, force: bool = True) -> CachedSnapshot:
        """Load now (`pulse refresh`); without `force` only when stale. A failure falls back to the last snapshot."""
        with self._lock:
            if not force and self._entry is not None and self._is_fresh(self._entry):
                return self._answer(self._entry)
        return self._load_now(force=force)

    def current(self) -> Snapshot | None:
        """The snapshot answers come from now, without reading anything (None before the first read)."""
        with self._lock:
            return None if self._entry is None else self._entry.snapshot

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no refresh is running (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._loading:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._done.wait(remaining)
        return True

    @property
    def last_error(self) -> str | None:
        with self._lock:
            return self._error

    # ---- internals ---------------------------------------------------------------------------
    def _is_fresh(self, entry: _Entry) -> bool:
        if not self._background and not entry.from_disk:
            return True
        current = self._current_marker() if entry.marker is not None else None
        if current is not None:
            return current == entry.marker  # a change marker decides alone: an unchanged source is never re-read
        return self._clock() - entry.loaded_at < self._ttl

    def _changed(self, entry: _Entry) -> bool:
        """True when the source's marker is known and differs from the entry's: the source was edited since.
        A disk snapshot of an edited source is never answered, not even while a server refreshes behind it."""
        current = self._current_marker() if entry.marker is not None else None
        return current is not None and current != entry.marker

    def _current_marker(self) -> str | None:
        """The source's change marker now; None (unknown) when it cannot be had cheaply."""
        try:
            return self._marker() if self._marker is not None else None
        except Exception as err:  # noqa: BLE001 — a marker we cannot read never blocks an answer
            log.debug("change marker unavailable: %s", err)
            return None

    def _backing_off(self) -> bool:
        return self._failed_at is not None and self._clock() - self._failed_at < self._backoff

    def _answer(self, entry: _Entry) -> CachedSnapshot:
        loaded = datetime.fromtimestamp(entry.loaded_at, tz=UTC)
        note = None
        if self._error is not None:
            note = f"data as of {_as_of(entry.snapshot, loaded)} — the sheet could not be read: {self._error}"
        return CachedSnapshot(entry.snapshot, self._is_fresh(entry), loaded, note, self._error)

    def _start_background(self) -> None:
        self._loading = True
        self._thread = threading.Thread(target=self._run_loader, name="snapshot-refresh", daemon=True)
        self._thread.start()

    def _load_now(self, force: bool) -> CachedSnapshot:
        with self._lock:
            start_gen = self._generation
            while self._loading:
                self._done.wait()
            if self._generation != start_gen and not force:
                if self._entry is None:
                    raise WorkbookError(self._error or "the workbook could not be read")
                return self._answer(self._entry)
            self._loading = True
        self._run_loader()
        with self._lock:
            if self._entry is None:
                raise WorkbookError(self._error or "the workbook could not be read")
            return self._answer(self._entry)

    def _run_loader(self) -> None:
        """Call the loader once (the caller has set _loading) and record its outcome."""
        marker = self._current_marker()
        try:
            snapshot = self._loader()
        except Exception as err:  # noqa: BLE001 — any failure keeps the last snapshot and becomes the note
            reason = str(err) if isinstance(err, WorkbookError) else f"{type(err).__name__}: {err}"
            log.warning("snapshot refresh failed: %s", reason)
            with self._lock:
                self._error, self._failed_at = reason, self._clock()
                self._finish()
            return
        entry = _Entry(snapshot, self._clock(), marker)
        with self._lock:
            self._entry, self._error, self._failed_at = entry, None, None
            self._finish()
        self._save_disk(entry)

    def _finish(self) -> None:
        self._loading = False
        self._generation += 1
        self._done.notify_all()

    def _load_disk(self) -> _Entry | None:
        """The snapshot saved by an earlier process, if it was written for this key; a damaged file is moved aside."""
        from sheets.snapshot_store import DamagedCache, ForeignCache, read_file

        if self._path is None or not self._path.exists():
            return None
        try:
            stored = read_file(self._path, key=self._key)
        except ForeignCache as err:
            log.info("not using the snapshot cache %s: %s", self._path, err)
            return None
        except (DamagedCache, OSError) as err:
            self._move_aside(err)
            return None
        return _Entry(stored.snapshot, stored.loaded_at, stored.marker, from_disk=True)

    def _move_aside(self, err: Exception) -> None:
        """Keep a damaged cache file for inspection under a new name; the snapshot is then read again."""
        from config import move_aside

        assert self._path is not None
        try:
            aside = move_aside(self._path)
        except OSError as move_err:
            log.warning("snapshot cache %s is damaged (%s) and could not be moved aside: %s", self._path, err, move_err)
            return
        message = (
            f"the snapshot cache {self._path.name} was damaged ({str(err)[:200]}); moved aside to {aside.name}, "
            "reading the source again"
        )
        log.warning("%s", message)
        if self._on_damaged is not None:
            self._on_damaged(message)

    def _save_disk(self, entry: _Entry) -> None:
        from config import write_state_file
        from sheets.snapshot_store import dump_parts

        if self._path is None:
            return
        try:
            write_state_file(
                self._path, dump_parts(entry.snapshot, key=self._key, loaded_at=entry.loaded_at, marker=entry.marker)
            )
        except Exception as err:  # noqa: BLE001 — the disk copy is a convenience; memory still serves
            log.warning("could not save the snapshot cache to %s: %s", self._path, err)


def _as_of(snapshot: Any, loaded: datetime) -> str:
    read_at = getattr(snapshot, "read_at", None)
    stamp = read_at if isinstance(read_at, datetime) else loaded
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def cache_key(source: str, settings: Settings | None = None) -> str:
    """What a cached snapshot depends on: the source, the settings that shape parsing, and the snapshot layout
    (canonical columns and Snapshot fields), so changing any of them never answers from an old file."""
    import dataclasses

    from metrics.schema import COLUMNS
    from sheets.snapshot import Snapshot
    from sheets.snapshot_store import FORMAT

    parse = {}
    if settings is not None:
        parse = {
            "tabs": settings.tabs.model_dump(),
            "columns": settings.columns,
            "date_order": settings.date_order,
            "scales": {k: v.model_dump() for k, v in settings.surveys.scales.items()},
        }
    layout = {tab: [(c.name, c.kind, str(c.dtype), c.required) for c in cols] for tab, cols in COLUMNS.items()}
    fields = [f.name for f in dataclasses.fields(Snapshot)]
    text = json.dumps([FORMAT, source, parse, layout, fields], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_cache_path(source: str, settings: Settings | None = None) -> Path:
    """The cache file for one source (sheet key or workbook path) and parse settings in the state directory
    (`PULSE_STATE_DIR`)."""
    from config import state_dir

    return state_dir() / f"snapshot-{cache_key(source, settings)[:24]}.arrows"
