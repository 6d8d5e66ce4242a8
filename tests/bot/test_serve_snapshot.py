"""`pulse serve` and its snapshot (issue 16 item 3): read at start, before the first question; the tables of an
old snapshot are released once a reload has replaced it."""

import gc
import weakref
from datetime import datetime

from bot.context import build_context
from bot.serve import build_server
from config import parse_settings
from tests.workbooks import append_rows, two_month_workbook


def test_serve_reads_the_snapshot_at_start(tmp_path):
    ctx = build_context(parse_settings({}), workbook=str(two_month_workbook(tmp_path / "book.xlsx")))
    assert ctx.cache.current() is None
    server = build_server(ctx, scheduler=True)
    try:
        assert server.preload is not None
        server.preload.join(60)
        assert ctx.cache.current() is not None  # no question asked yet
    finally:
        server.close()


def test_an_old_snapshot_is_released_after_a_reload(tmp_path):
    path = two_month_workbook(tmp_path / "book.xlsx")
    ctx = build_context(parse_settings({}), workbook=str(path))
    old = ctx.snapshot().snapshot
    old_tables = weakref.ref(ctx.tables(old))
    append_rows(path, "Orders", [["C3", datetime(2026, 2, 7), 30.0]])  # a new marker: stale at once
    ctx.snapshot()  # answered from the old snapshot while the new one is read behind it
    assert ctx.cache.wait_idle(60)
    new = ctx.snapshot().snapshot
    assert new is not old and len(new.frames["orders"]) == 5  # 4 orders + the appended one
    ctx.tables(new)  # the next question
    del old
    gc.collect()
    assert old_tables() is None
