"""The last good snapshot, in memory and on disk: fresh answers cost no reads, stale ones refresh in the background.

One refresh runs at a time (single flight). When a refresh fails, answers keep coming from the last good
snapshot with a note saying how old it is and why the sheet could not be read.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sheets.workbook import WorkbookError

if TYPE_CHECKING:
    from sheets.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedSnapshot:
    """A snapshot and how it was obtained: `fresh` within cache_seconds; `note` set when the last read failed."""

    snapshot: "Snapshot"
    fresh: bool
    loaded_at: datetime
    note: str | None = None
    error: str | None = None


@dataclass
class _Entry:
    snapshot: Any
    loaded_at: float


class SnapshotCache:
    """Serve snapshots from `loader` at most once per `cache_seconds`, surviving failures and restarts."""

    def __init__(self, loader: Callable[[], "Snapshot"], cache_seconds: int, state_path: Path | None = None,
                 clock: Callable[[], float] = time.time, failure_backoff: float | None = None):
        self._loader = loader
        self._ttl = cache_seconds
        self._path = state_path
        self._clock = clock
        self._backoff = max(cache_seconds, 5) if failure_backoff is None else failure_backoff
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._loading = False
        self._generation = 0
        self._entry: _Entry | None = self._load_disk()
        self._error: str | None = None
        self._failed_at: float | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> CachedSnapshot:
        """The current snapshot: fresh → no load; stale → answer now, refresh in the background; none → load now."""
        with self._lock:
            entry = self._entry
            if entry is not None:
                if self._is_fresh(entry):
                    return self._answer(entry)
                if not self._loading and not self._backing_off():
                    self._start_background()
                return self._answer(entry)
        return self._load_now(force=False)

    def refresh(self, force: bool = True) -> CachedSnapshot:
        """Load now (`pulse refresh`); without `force` only when stale. A failure falls back to the last snapshot."""
        with self._lock:
            if not force and self._entry is not None and self._is_fresh(self._entry):
                return self._answer(self._entry)
        return self._load_now(force=force)

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
        return self._clock() - entry.loaded_at < self._ttl

    def _backing_off(self) -> bool:
        return self._failed_at is not None and self._clock() - self._failed_at < self._backoff

    def _answer(self, entry: _Entry) -> CachedSnapshot:
        loaded = datetime.fromtimestamp(entry.loaded_at, tz=timezone.utc)
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
        try:
            snapshot = self._loader()
        except Exception as err:  # noqa: BLE001 — any failure keeps the last snapshot and becomes the note
            reason = str(err) if isinstance(err, WorkbookError) else f"{type(err).__name__}: {err}"
            log.warning("snapshot refresh failed: %s", reason)
            with self._lock:
                self._error, self._failed_at = reason, self._clock()
                self._finish()
            return
        entry = _Entry(snapshot, self._clock())
        with self._lock:
            self._entry, self._error, self._failed_at = entry, None, None
            self._finish()
        self._save_disk(entry)

    def _finish(self) -> None:
        self._loading = False
        self._generation += 1
        self._done.notify_all()

    def _load_disk(self) -> _Entry | None:
        if self._path is None or not self._path.exists():
            return None
        try:
            with self._path.open("rb") as fh:
                entry = pickle.load(fh)
            return entry if isinstance(entry, _Entry) else None
        except Exception as err:  # noqa: BLE001 — a stale or foreign cache file is ignored, never fatal
            log.info("ignoring unreadable snapshot cache %s: %s", self._path, err)
            return None

    def _save_disk(self, entry: _Entry) -> None:
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_name(f"{self._path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(entry, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path)
        except Exception as err:  # noqa: BLE001 — the disk copy is a convenience; memory still serves
            log.warning("could not save the snapshot cache to %s: %s", self._path, err)


def _as_of(snapshot: Any, loaded: datetime) -> str:
    read_at = getattr(snapshot, "read_at", None)
    stamp = read_at if isinstance(read_at, datetime) else loaded
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def default_cache_path(source: str) -> Path:
    """The cache file for one source (sheet key or workbook path) in the state directory (`PULSE_STATE_DIR`)."""
    import hashlib

    from config import state_dir

    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    return state_dir() / f"snapshot-{digest}.pickle"
