"""SnapshotCache: fresh answers cost no loads, stale ones refresh once in the background, failures fall back."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets.cache import SnapshotCache, default_cache_path
from sheets.workbook import WorkbookError


@dataclass
class Snap:
    n: int
    read_at: datetime


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Loader:
    """Returns Snap(1), Snap(2), …; can be told to fail or to block until released."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.calls = 0
        self.fail: Exception | None = None
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Snap:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return Snap(n, datetime.fromtimestamp(self.clock.t, tz=timezone.utc))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def loader(clock: Clock) -> Loader:
    return Loader(clock)


def test_cold_start_loads_once_then_fresh_answers_cost_nothing(clock, loader):
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock)
    first = cache.get()
    assert (first.snapshot.n, first.fresh, first.note) == (1, True, None)
    clock.t += 59
    for _ in range(5):
        assert cache.get().snapshot.n == 1
    assert loader.calls == 1


def test_stale_snapshot_is_returned_at_once_and_refreshed_in_background(clock, loader):
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock)
    cache.get()
    clock.t += 60
    loader.gate = threading.Event()
    stale = cache.get()
    assert (stale.snapshot.n, stale.fresh) == (1, False)
    assert cache.get().snapshot.n == 1  # still loading: no second refresh starts
    loader.gate.set()
    assert cache.wait_idle()
    assert loader.calls == 2
    now = cache.get()
    assert (now.snapshot.n, now.fresh) == (2, True)


def test_single_flight_on_cold_start(clock, loader):
    loader.gate = threading.Event()
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get().snapshot.n)) for _ in range(8)]
    for t in threads:
        t.start()
    loader.gate.set()
    for t in threads:
        t.join(10)
    assert results == [1] * 8
    assert loader.calls == 1


def test_failure_keeps_last_snapshot_with_a_note_and_backs_off(clock, loader):
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock, failure_backoff=30)
    cache.get()
    clock.t += 61
    loader.fail = WorkbookError("Google Sheets answered 503")
    cache.get()
    cache.wait_idle()
    answer = cache.get()
    assert answer.snapshot.n == 1 and not answer.fresh
    assert answer.note == ("data as of 2027-01-15 08:00 UTC — the sheet could not be read: Google Sheets answered 503")
    calls = loader.calls
    clock.t += 29
    cache.get()
    cache.wait_idle()
    assert loader.calls == calls  # backing off: no new attempt yet
    clock.t += 2
    loader.fail = None
    cache.get()
    cache.wait_idle()
    recovered = cache.get()
    assert (recovered.snapshot.n, recovered.fresh, recovered.note) == (loader.calls, True, None)


def test_cold_start_failure_raises_the_reason(clock, loader):
    loader.fail = WorkbookError("no spreadsheet with key X")
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock)
    with pytest.raises(WorkbookError, match="no spreadsheet with key X"):
        cache.get()


def test_unexpected_loader_errors_become_the_note(clock, loader):
    cache = SnapshotCache(loader, cache_seconds=0, clock=clock)
    cache.get()
    loader.fail = ConnectionError("connection refused")
    answer = cache.refresh(force=True)
    assert answer.snapshot.n == 1
    assert answer.error == "ConnectionError: connection refused"
    assert "could not be read: ConnectionError: connection refused" in answer.note


def test_forced_refresh_loads_even_when_fresh(clock, loader):
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock)
    cache.get()
    assert cache.refresh(force=False).snapshot.n == 1
    assert cache.refresh(force=True).snapshot.n == 2
    assert loader.calls == 2


def test_disk_copy_survives_a_restart(tmp_path, clock, loader):
    path = tmp_path / "state" / "snap.pickle"
    SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock).get()
    assert path.exists()
    clock.t += 30
    restarted = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock)
    assert restarted.get().snapshot.n == 1
    assert loader.calls == 1
    clock.t += 31
    loader.fail = WorkbookError("offline")
    restarted.get()
    restarted.wait_idle()
    assert "could not be read: offline" in restarted.get().note


def test_unreadable_disk_copy_is_ignored(tmp_path, clock, loader):
    path = tmp_path / "snap.pickle"
    path.write_bytes(b"not a pickle")
    assert SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock).get().snapshot.n == 1


def test_cache_paths_differ_per_source():
    assert default_cache_path("KEY_A") != default_cache_path("KEY_B")
    assert default_cache_path("KEY_A") == default_cache_path("KEY_A")


@settings(max_examples=50, deadline=None)
@given(steps=st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=30))
def test_loads_happen_only_when_stale(steps):
    """With synchronous refreshes, the loader runs exactly once per expiry observed by a get()."""
    clock = Clock()
    loader = Loader(clock)
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock)
    expected, loaded_at = 0, None
    for dt in steps:
        clock.t += dt
        cache.get()
        cache.wait_idle()
        if loaded_at is None or clock.t - loaded_at >= 60:
            expected += 1
            loaded_at = clock.t
    assert loader.calls == expected
