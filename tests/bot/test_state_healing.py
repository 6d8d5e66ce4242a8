"""Damaged state heals: a garbage digest ledger or job store is moved aside with a warning (log and `Pulse Log`)
and rebuilt, the scheduler starts, and the next digest is posted exactly once; state files are 0600."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from datetime import timedelta

import pytest

from bot.digest.ledger import Ledger
from bot.digest.post import post_digest
from bot.digest.schedule import destinations
from bot.scheduler import catch_up
from config import state_dir
from tests.bot.digest.conftest import context_at, small_path, utc  # noqa: F401 - fixture
from tests.bot.test_scheduler import boot, stop_all  # noqa: F401 - fixture

SETTINGS = {"digest": {"channels": [{"channel": "C1", "timezone": "UTC", "day": "mon", "time": "09:00"}]}, "surveys": {"min_n": 1}}
# Monday 23 March 2026 09:00 UTC reports 2026-W12; the restarts below come 5 and 30 minutes later (6 h grace).
FIRE = utc(2026, 3, 23, 9)
GARBAGE = b"SQLite format 2\x00" + bytes(range(256)) * 8


def no_sleep(_seconds: float) -> None:
    pass


def start(ctx, running):
    """Start the scheduler without its catch-up thread (the tests call catch_up themselves)."""
    return boot(ctx, running, catch_up_now=False)


def state_rows(ctx) -> list[list]:
    return [r for r in (ctx.workbook.read_owned("Pulse Log") or [[]])[1:] if r[1] == "state"]


def digest_messages(slack) -> list[dict]:
    return [m for m in slack.history.get("C1", []) if "files" not in m]


def test_a_garbage_ledger_is_moved_aside_and_the_missed_digest_is_still_posted_once(small_path, slack, stop_all, caplog):
    (state_dir() / "digest-ledger.sqlite").write_bytes(GARBAGE)
    ctx, _ = context_at(SETTINGS, small_path, FIRE + timedelta(minutes=5))
    with caplog.at_level(logging.WARNING):
        start(ctx, stop_all)
    aside, = state_dir().glob("digest-ledger.sqlite.damaged-*")
    assert aside.read_bytes() == GARBAGE
    assert any("digest ledger digest-ledger.sqlite was damaged" in r.getMessage() for r in caplog.records)
    row, = state_rows(ctx)
    assert "digest ledger" in row[2] and aside.name in row[2] and row[3] == "moved aside, rebuilt"

    # The schedule existed before the damage, so the 09:00 run missed while down is due: posted once.
    result, = catch_up(ctx, sleep=no_sleep)
    assert (result.week, result.outcome) == ("2026-W12", "posted"), result.detail
    assert len(digest_messages(slack)) == 1
    again, = catch_up(ctx, sleep=no_sleep)
    assert again.outcome == "none" and len(digest_messages(slack)) == 1


def test_a_rebuilt_ledger_never_reposts_a_digest_already_in_the_channel(small_path, slack, stop_all):
    ctx, _ = context_at(SETTINGS, small_path, FIRE)
    dest, = destinations(ctx.settings)
    first = post_digest(ctx, dest, week_start=FIRE.date() - timedelta(days=7), now=FIRE, sleep=no_sleep)
    assert first.outcome == "posted"
    (state_dir() / "digest-ledger.sqlite").write_bytes(GARBAGE)  # the ledger is lost after the post

    ctx, _ = context_at(SETTINGS, small_path, FIRE + timedelta(minutes=30))
    start(ctx, stop_all)
    result, = catch_up(ctx, sleep=no_sleep)
    assert result.outcome == "posted" and "already in the channel" in result.detail
    assert len(digest_messages(slack)) == 1 and len([m for m in slack.history["C1"] if "files" in m]) == 1
    entry = Ledger().get("C1", "2026-W12")
    assert (entry.status, entry.ts, entry.file_id) == ("posted", first.ts, first.file_id)


@pytest.mark.parametrize("damage", ["garbage", "foreign table"])
def test_a_damaged_job_store_is_moved_aside_and_the_jobs_rebuilt(damage, small_path, slack, stop_all):
    path = state_dir() / "scheduler.sqlite"
    if damage == "garbage":
        path.write_bytes(GARBAGE)
    else:  # a valid SQLite file whose apscheduler_jobs table is not APScheduler's
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE apscheduler_jobs (note TEXT)")
    Ledger().installed_at("C1", utc(2026, 3, 1))
    ctx, _ = context_at(SETTINGS, small_path, FIRE + timedelta(minutes=5))
    s = start(ctx, stop_all)
    assert s.jobs == {"digest:C1": "added", "refresh": "added"}
    assert len(list(state_dir().glob("scheduler.sqlite.damaged-*"))) == 1
    row, = state_rows(ctx)
    assert "job store scheduler.sqlite" in row[2]
    result, = catch_up(ctx, sleep=no_sleep)
    assert (result.week, result.outcome) == ("2026-W12", "posted")
    assert len(digest_messages(slack)) == 1


def test_state_files_are_created_private(small_path, slack, stop_all):
    os.umask(0o022)  # the usual default: files would otherwise be world-readable
    Ledger().installed_at("C1", utc(2026, 3, 1))
    ctx, _ = context_at(SETTINGS, small_path, FIRE + timedelta(minutes=5))
    start(ctx, stop_all)
    catch_up(ctx, sleep=no_sleep)
    files = [p for p in state_dir().rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"digest-ledger.sqlite", "scheduler.sqlite", "scheduler.lock"} <= names
    assert any(name.endswith(".lock") and "W12" in name for name in names)  # the claim lock of the posted week
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}



def test_serve_starts_even_when_the_scheduler_cannot(small_path, monkeypatch):
    from bot.serve import build_server

    monkeypatch.setenv("PULSE_ADDON_SECRET", "s3cret")
    (state_dir() / "scheduler.lock").mkdir()  # a state directory the scheduler cannot use at all
    ctx, _ = context_at({**SETTINGS, "addon": {"spreadsheet_id": "1Sheet"}}, small_path, FIRE)
    server = build_server(ctx, scheduler=True)
    assert server.parts["add-on API"].startswith("on")
    assert server.parts["scheduler"].startswith("off: it could not start (IsADirectoryError")


def test_a_garbage_snapshot_cache_is_noted_in_pulse_log_by_the_next_refresh(monkeypatch, tmp_path):
    # The damaged cache is moved aside when the context is built, where no workbook write happens: the note is
    # queued and must reach `Pulse Log` with the next refresh's batched write (before, only with a later digest).
    from bot.context import build_context
    from bot.tabs import refresh
    from config import parse_settings
    from sheets.cache import default_cache_path
    from tests.bot.slack.conftest import SMALL_TABS
    from tests.fakes.sheets_api import FakeSheets, point_env_at

    key = "1DamagedSnapshotCache_abcdefghijklmnopqrstu"
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    with FakeSheets() as sheets:
        sheets.add_spreadsheet(key, tabs=SMALL_TABS)
        point_env_at(sheets, monkeypatch, retry_seconds=0.2)
        settings = parse_settings({"source": {"sheet": key}})
        cache = default_cache_path(key, settings)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(GARBAGE)
        ctx = build_context(settings, today=FIRE.date())
        report = refresh(ctx, reason="manual")
        assert "Pulse Log" in report.written
        log = sheets.values(key, "Pulse Log")
    aside, = cache.parent.glob(cache.name + ".damaged-*")
    state, = [r for r in log[1:] if r[1] == "state"]
    assert f"the snapshot cache {cache.name} was damaged" in state[2] and aside.name in state[2]
    assert state[3] == "moved aside, rebuilt"
    assert [r[1] for r in log[1:]] == ["state", "refresh"]  # the note first, then the refresh that wrote it
