"""The snapshot cache file: the demo workbook's snapshot comes back with equal frames, dtypes, fields and derived
arrays, and every metric answers the same from it (arrays restored, not rebuilt) as from the workbook (a cache
hit and a miss give identical answers)."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from config import Settings
from metrics.arrays import export_arrays
from sheets.cache import SnapshotCache
from sheets.demo import write_demo_workbook
from sheets.local import LocalWorkbook
from sheets.snapshot import load_snapshot
from sheets.snapshot_store import DamagedCache, ForeignCache, dump, load

TODAY = date(2026, 11, 25)
EVERY_METRIC = (
    "nps csat csi retention churn growth customers new lapsed nrr grr revenue orders purchasers aov frequency "
    "repeat returning refunds complaints resolution renewal cac clv net-clv ltv-cac"
).split()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = write_demo_workbook(tmp_path_factory.mktemp("demo") / "demo.xlsx", TODAY)
    snap = load_snapshot(LocalWorkbook(path), Settings())
    # what a bot process saves: the snapshot with the arrays its tables built (the miss below rebuilds them)
    arrays = export_arrays(_context(path, snap).tables(snap))
    saved = dataclasses.replace(snap, arrays=arrays)
    return path, snap, load(dump(saved, key="demo", loaded_at=1.5, marker="m"), key="demo")


def test_the_demo_snapshot_round_trips_exactly(demo):
    _, snap, stored = demo
    back = stored.snapshot
    assert (stored.loaded_at, stored.marker) == (1.5, "m")
    assert list(back.frames) == list(snap.frames)
    for name, frame in snap.frames.items():
        pd.testing.assert_frame_equal(back.frames[name], frame, check_exact=True, check_index_type=True,
                                      check_column_type=True)
    for f in dataclasses.fields(snap):
        if f.name not in ("frames", "arrays"):
            assert getattr(back, f.name) == getattr(snap, f.name), f.name
    saved = export_arrays(_context(demo[0], snap).tables(snap))
    assert sorted(back.arrays) == sorted(saved) and len(saved) > 20
    for name, values in saved.items():
        assert back.arrays[name].dtype == values.dtype, name
        np.testing.assert_array_equal(back.arrays[name], values, strict=True, err_msg=name)
    assert back.issues and back.excluded["orders"] == 4  # the demo's deliberately bad rows come back too


def _context(path, snapshot) -> Context:
    cache = SnapshotCache(lambda: snapshot, cache_seconds=3600)
    return Context(settings=Settings(), workbook=LocalWorkbook(path), cache=cache,
                   clock=lambda: pd.Timestamp("2026-11-25 12:00", tz="UTC").to_pydatetime())


@pytest.mark.parametrize("query", [f"{m} last-quarter by region" for m in EVERY_METRIC]
                         + ["overview last-month", "risk", "cohorts 2026", "issues"])
def test_every_answer_from_the_cache_equals_the_answer_from_the_workbook(demo, query):
    path, snap, stored = demo
    assert render_json(answer(query, _context(path, stored.snapshot))) == render_json(answer(query, _context(path, snap)))


def test_a_file_for_another_key_is_foreign_and_damage_is_detected(demo):
    _, snap, _ = demo
    data = dump(snap, key="a", loaded_at=1.0)
    with pytest.raises(ForeignCache):
        load(data, key="b")
    with pytest.raises(DamagedCache, match="checksum"):
        load(data[:-1] + bytes([data[-1] ^ 1]), key="a")


def test_a_mapped_file_reads_as_its_bytes_do(demo, tmp_path):
    """`read_file` maps the file and releases its pages as it goes (issue 16); the snapshot is the same as from
    the bytes, and an empty or truncated file is damaged, not a crash."""
    from sheets.snapshot_store import dump_parts, read_file

    _, snap, stored = demo
    path = tmp_path / "snapshot.arrows"
    path.write_bytes(b"".join(dump_parts(stored.snapshot, key="demo", loaded_at=1.5, marker="m")))
    mapped = read_file(path, key="demo")
    assert (mapped.loaded_at, mapped.marker) == (1.5, "m")
    for name, frame in snap.frames.items():
        pd.testing.assert_frame_equal(mapped.snapshot.frames[name], frame, check_exact=True)
    assert sorted(mapped.snapshot.arrays) == sorted(stored.snapshot.arrays)
    for name, values in stored.snapshot.arrays.items():
        np.testing.assert_array_equal(mapped.snapshot.arrays[name], values, strict=True, err_msg=name)
    path.write_bytes(b"")
    with pytest.raises(DamagedCache):
        read_file(path, key="demo")
    path.write_bytes(dump(snap, key="demo", loaded_at=1.0)[:500])
    with pytest.raises(DamagedCache):
        read_file(path, key="demo")
