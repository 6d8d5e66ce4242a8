"""A local .xlsx keeps its parsed snapshot on disk (issue 16): the next process answers an unchanged file
without reading it again, a changed file (new mtime/size) is always read afresh, and both answer the same."""

from datetime import datetime

import pandas as pd

from bot.context import build_context
from config import parse_settings
from tests.workbooks import append_rows, two_month_workbook


def test_an_unchanged_xlsx_is_answered_from_the_disk_snapshot_and_a_changed_one_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    path = two_month_workbook(tmp_path / "book.xlsx")
    settings = parse_settings({})

    def one_process():
        return build_context(settings, workbook=str(path), one_shot=True).snapshot()

    first = one_process()
    again = one_process()  # a new process: the same snapshot from disk, not a new read
    assert again.loaded_at == first.loaded_at and again.fresh
    for key, frame in first.snapshot.frames.items():
        pd.testing.assert_frame_equal(again.snapshot.frames[key], frame, check_exact=True, obj=key)
    assert again.snapshot.issues == first.snapshot.issues

    append_rows(path, "Orders", [["C3", datetime(2026, 2, 7), 30.0]])  # the file changes: a new marker
    changed = one_process()
    assert changed.loaded_at > first.loaded_at
    assert len(changed.snapshot.frames["orders"]) == len(first.snapshot.frames["orders"]) + 1  # 4 orders + 1


def test_a_server_started_on_a_changed_xlsx_never_answers_from_the_old_disk_snapshot(tmp_path, monkeypatch):
    """A server (background refreshes) whose disk snapshot is of an older file reads the file before answering."""
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    path = two_month_workbook(tmp_path / "book.xlsx")
    build_context(parse_settings({}), workbook=str(path), one_shot=True).snapshot()  # leaves a disk snapshot
    append_rows(path, "Orders", [["C3", datetime(2026, 2, 7), 30.0]])
    served = build_context(parse_settings({}), workbook=str(path)).snapshot()
    assert len(served.snapshot.frames["orders"]) == 5  # the 4 orders + the appended one, not the old 4


def test_a_cache_hit_restores_the_per_snapshot_arrays_and_answers_as_the_read_did(tmp_path, monkeypatch):
    """The arrays the first process built are saved with the snapshot; the next process uses them, not a rebuild."""
    from datetime import date

    from bot.query import answer
    from bot.render.json import render_json
    from metrics.arrays import PARTS
    from metrics.customers import _CACHE

    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    path = two_month_workbook(tmp_path / "book.xlsx")

    def one_process():
        return build_context(parse_settings({}), workbook=str(path), one_shot=True, today=date(2026, 3, 10))

    read = one_process()
    first = render_json(answer("revenue 2026-02", read))
    hit = one_process()
    snap = hit.snapshot().snapshot
    assert snap.arrays  # kept with the disk snapshot
    tables = hit.tables(snap)
    assert all((id(tables), part) in _CACHE for part in PARTS)  # restored before any metric asked for them
    again = render_json(answer("revenue 2026-02", hit))
    assert again == first and again["value"] == 150.0  # C1 $100 + C2 $50 in February
