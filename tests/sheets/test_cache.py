"""SnapshotCache: fresh answers cost no loads, stale ones refresh once in the background, failures fall back."""

from __future__ import annotations

import logging
import pickle
import stat
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import parse_settings
from sheets.cache import SnapshotCache, default_cache_path
from sheets.snapshot import Snapshot
from sheets.snapshot_store import FORMAT, MAGIC
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


class SnapLoader(Loader):
    """Like Loader, but returns real Snapshots (one customer per load: "c1", "c2", …) so they can be saved."""

    def __call__(self) -> Snapshot:
        snap = super().__call__()
        frame = pd.DataFrame({"customer_id": pd.array([f"c{snap.n}"], dtype="string"), "row": [2]})
        return Snapshot(frames={"customers": frame}, read_at=snap.read_at, source="test")


def customer(cache: SnapshotCache) -> str:
    return cache.get().snapshot.frames["customers"]["customer_id"][0]


def test_disk_copy_survives_a_restart(tmp_path, clock):
    loader = SnapLoader(clock)
    path = tmp_path / "state" / "snap.arrows"
    SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock).get()
    assert path.exists()
    clock.t += 30
    restarted = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock)
    assert customer(restarted) == "c1"
    assert loader.calls == 1
    clock.t += 31
    loader.fail = WorkbookError("offline")
    restarted.get()
    restarted.wait_idle()
    assert "could not be read: offline" in restarted.get().note


def test_the_disk_copy_is_arrow_and_json_readable_by_its_owner_only(tmp_path, clock):
    path = tmp_path / "state" / "snap.arrows"
    SnapshotCache(SnapLoader(clock), cache_seconds=60, state_path=path, clock=clock).get()
    data = path.read_bytes()
    assert data.startswith(MAGIC) and b"ARROW1" in data  # Arrow IPC file magic for the frames
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["snap.arrows"]  # no temporary copy left behind


class _Planted:
    """A pickle that, if ever loaded, creates the file `target` (what an attacker with write access would plant)."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_planted_pickle_is_never_run_but_moved_aside_and_rebuilt(tmp_path, clock, caplog):
    path = tmp_path / "snap.arrows"
    target = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Planted(str(target))))
    loader = SnapLoader(clock)
    heard: list[str] = []
    with caplog.at_level(logging.WARNING, logger="sheets.cache"):
        cache = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, on_damaged=heard.append)
    assert not target.exists()
    assert "snap.arrows was damaged" in caplog.text and "moved aside to snap.arrows.damaged-" in caplog.text
    assert heard and heard[0] in caplog.text
    assert len(list(tmp_path.glob("snap.arrows.damaged-*"))) == 1
    assert customer(cache) == "c1" and loader.calls == 1  # read from the source, then saved anew
    assert path.read_bytes().startswith(MAGIC)


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # truncated mid-frame
    lambda data: data[:40],  # truncated mid-header
    lambda data: b"garbage",
    lambda data: data.replace(b"ARROW1", b"ARROWX", 1),
    lambda data: data.replace(b"c1", b"c9"),  # one customer id changed on disk
    lambda data: data.replace(f"\"format\": {FORMAT}".encode(), b"\"format\": 99", 1),
])
def test_a_damaged_disk_copy_is_moved_aside_and_rebuilt(tmp_path, clock, damage):
    path = tmp_path / "snap.arrows"
    loader = SnapLoader(clock)
    SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock).get()
    path.write_bytes(damage(path.read_bytes()))
    restarted = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock)
    assert customer(restarted) == "c2" and loader.calls == 2
    assert len(list(tmp_path.glob("snap.arrows.damaged-*"))) == 1
    assert customer(SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock)) == "c2"


def test_a_disk_copy_written_for_another_key_is_not_used(tmp_path, clock):
    path = tmp_path / "snap.arrows"
    loader = SnapLoader(clock)
    SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, key="sheet A").get()
    other = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, key="sheet B")
    assert customer(other) == "c2" and loader.calls == 2
    assert not list(tmp_path.glob("*.damaged-*"))


def test_one_shot_reads_a_stale_disk_copy_again_before_answering(tmp_path, clock):
    path = tmp_path / "snap.arrows"
    loader = SnapLoader(clock)
    SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, background=False).get()
    clock.t += 59  # younger than cache_seconds: answered from disk, no read
    assert customer(SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, background=False)) == "c1"
    assert loader.calls == 1
    clock.t += 1  # now 60 s old: read again before answering, no thread left behind
    one_shot = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, background=False)
    answer = one_shot.get()
    assert answer.snapshot.frames["customers"]["customer_id"][0] == "c2" and answer.fresh and answer.note is None
    assert loader.calls == 2 and one_shot._thread is None
    clock.t += 600  # the rest of this process keeps what it read: one command reads the source at most once
    assert customer(one_shot) == "c2" and loader.calls == 2


def test_one_shot_falls_back_to_the_stale_copy_with_a_note_only_when_the_read_fails(tmp_path, clock):
    path = tmp_path / "snap.arrows"
    loader = SnapLoader(clock)
    SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, background=False).get()
    clock.t += 61
    loader.fail = WorkbookError("Google Sheets answered 503")
    one_shot = SnapshotCache(loader, cache_seconds=60, state_path=path, clock=clock, background=False)
    answer = one_shot.get()
    assert answer.snapshot.frames["customers"]["customer_id"][0] == "c1" and not answer.fresh
    assert answer.note == "data as of 2027-01-15 08:00 UTC — the sheet could not be read: Google Sheets answered 503"
    assert one_shot.get().note == answer.note and loader.calls == 2  # backing off: the same command does not retry


def test_a_changed_marker_makes_the_snapshot_stale(clock, loader):
    marker = {"value": "v1"}
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock, marker=lambda: marker["value"])
    assert cache.get().snapshot.n == 1
    assert cache.get().fresh and loader.calls == 1
    marker["value"] = "v2"  # e.g. the workbook file was saved again
    assert not cache.get().fresh
    assert cache.wait_idle()
    now = cache.get()
    assert (now.snapshot.n, now.fresh) == (2, True)


def test_cache_paths_differ_per_source_and_parse_settings():
    assert default_cache_path("KEY_A") != default_cache_path("KEY_B")
    assert default_cache_path("KEY_A") == default_cache_path("KEY_A")
    renamed = parse_settings({"tabs": {"orders": "Sales"}})
    assert default_cache_path("KEY_A", renamed) != default_cache_path("KEY_A", parse_settings({}))


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


def test_an_unchanged_marker_keeps_the_snapshot_fresh_past_cache_seconds(clock, loader):
    """A source with a change marker (a local file's mtime and size) is never read again while it is unchanged,
    however old the snapshot (issue 16: `pulse serve` re-read the unchanged 1M-row file every 60 s)."""
    marker = {"value": "v1"}
    cache = SnapshotCache(loader, cache_seconds=60, clock=clock, marker=lambda: marker["value"])
    cache.get()
    clock.t += 3600
    assert cache.get().fresh and cache.wait_idle() and loader.calls == 1
    marker["value"] = "v2"
    assert not cache.get().fresh  # changed: stale at once, read again in the background
    assert cache.wait_idle() and loader.calls == 2
