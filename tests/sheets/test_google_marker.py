"""An unchanged Google Sheet is not downloaded again (issue 16): each `pulse ask` process asks Drive's files.get for
the spreadsheet's modifiedTime and version, and answers from the snapshot kept in PULSE_STATE_DIR while they are
unchanged; after an edit it downloads the sheet again. Credentials without a Drive scope get one log line and the
cache-age rule ([source] cache_seconds). Real `pulse ask` processes' code over real HTTP to the Sheets API fake."""

from __future__ import annotations

import logging
import time

import pytest

from bot.cli import main
from config import parse_settings
from sheets.google import RetryPolicy, open_google_workbook
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1MarkerTestKey_abcdefghijklmnopqrstuvwxyz"
TODAY = "2026-11-20"
# Two October orders: 120.50 + 80 = 200.50 revenue in 2026-10 (serials 46296 = 2026-10-01, 46297 = 2026-10-02).
TABS = {
    "Customers": [["customer_id", "signup_date"], ["007", 46082], ["8", 46083]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", 46296, 120.5], ["8", 46297, 80]],
}


@pytest.fixture
def fake(monkeypatch, tmp_path):
    with FakeSheets() as server:
        server.add_spreadsheet(KEY, tabs=TABS)
        monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
        monkeypatch.chdir(tmp_path)
        yield server


def config(tmp_path, cache_seconds: int) -> str:
    path = tmp_path / f"pulse-{cache_seconds}.toml"
    path.write_text(f'[source]\nsheet = "{KEY}"\ncache_seconds = {cache_seconds}\n', encoding="utf-8")
    return str(path)


def ask(capsys, cfg: str) -> str:
    """One `pulse ask "revenue 2026-10"` as its own process would run it; its answer."""
    code = main(["ask", "revenue", "2026-10", "--config", cfg, "--today", TODAY])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_an_unchanged_sheet_is_not_downloaded_again(fake, monkeypatch, tmp_path, capsys):
    point_env_at(fake, monkeypatch)
    cfg = config(tmp_path, cache_seconds=0)  # the age alone would read the sheet every time
    first = ask(capsys, cfg)
    assert fake.kinds() == ["drive.files.get", "spreadsheets.get", "values.batchGet"]
    assert "200.50" in first
    drive = next(r for r in fake.requests if r.kind == "drive.files.get")
    assert drive.query["fields"] == ["modifiedTime,version"]
    fake.clear_log()
    for _ in range(2):
        assert ask(capsys, cfg) == first
    assert fake.kinds() == ["drive.files.get", "drive.files.get"]  # no tab list, no values: nothing downloaded
    assert fake.bytes_sent() < 200


def test_a_changed_sheet_is_downloaded_again_and_answered_anew(fake, monkeypatch, tmp_path, capsys):
    point_env_at(fake, monkeypatch)
    cfg = config(tmp_path, cache_seconds=3600)  # the age alone would keep the old snapshot for an hour
    assert "200.50" in ask(capsys, cfg)
    # Someone adds a third October order of 99.50 through the API: 200.50 + 99.50 = 300.00.
    other = open_google_workbook(parse_settings({"source": {"sheet": KEY}}), retry=RetryPolicy(base=0.01, cap=0.05))
    other.http.values_append(KEY, "Orders", params={"valueInputOption": "RAW"}, body={"values": [["9", 46298, 99.5]]})
    fake.clear_log()
    again = ask(capsys, cfg)
    assert "300.00" in again and "200.50" not in again
    assert fake.kinds() == ["drive.files.get", "spreadsheets.get", "values.batchGet"]
    fake.clear_log()
    assert ask(capsys, cfg) == again
    assert fake.kinds() == ["drive.files.get"]


def test_without_a_drive_scope_the_cache_age_decides_with_one_log_line(fake, monkeypatch, tmp_path, capsys, caplog):
    """OAuth user credentials granted only the spreadsheets scope: Drive answers 403 insufficientPermissions."""
    point_env_at(fake, monkeypatch, info=fake.authorized_user())
    caplog.set_level(logging.INFO, logger="sheets.google.workbook")
    hour = config(tmp_path, cache_seconds=3600)
    first = ask(capsys, hour)
    assert fake.kinds() == ["drive.files.get", "spreadsheets.get", "values.batchGet"]
    assert [r.status for r in fake.requests if r.kind == "drive.files.get"] == [403]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "drive.metadata.readonly" in warnings[0].getMessage()
    fake.clear_log()
    fake.touch(KEY)
    assert ask(capsys, hour) == first  # within cache_seconds: the disk snapshot, even though the sheet changed
    assert fake.kinds() == []  # a snapshot read without a marker goes by its age alone: Drive is not asked again
    fake.clear_log()
    ask(capsys, config(tmp_path, cache_seconds=0))  # older than cache_seconds: read again
    assert fake.kinds() == ["drive.files.get", "spreadsheets.get", "values.batchGet"]


def test_a_workbook_asks_drive_at_most_once_per_marker_max_age_and_again_after_a_passing_failure(fake, monkeypatch):
    point_env_at(fake, monkeypatch)
    now = [100.0]
    settings = parse_settings({"source": {"sheet": KEY}})
    book = open_google_workbook(settings, retry=RetryPolicy(base=0.01, cap=0.05))
    book._clock = lambda: now[0]
    first = book.change_marker()
    assert first is not None and first == book.change_marker()
    assert fake.count("drive.files.get") == 1
    fake.touch(KEY)
    now[0] += 10.0  # marker_max_age (10 s) later: asked again, and the edit shows
    assert book.change_marker() not in (None, first)
    assert fake.count("drive.files.get") == 2
    fake.fail_next(503, kind="drive.files.get")
    now[0] += 10.0
    assert book.change_marker() is None  # a passing failure: unknown this time, asked again next time
    now[0] += 10.0
    assert book.change_marker() is not None


def test_a_slow_drive_means_unknown_instead_of_holding_up_the_answer(fake, monkeypatch):
    point_env_at(fake, monkeypatch)
    monkeypatch.setattr("sheets.google.workbook.MARKER_TIMEOUT", (1.0, 0.2))
    fake.set_delay(1.0, kind="drive.files.get")
    book = open_google_workbook(parse_settings({"source": {"sheet": KEY}}), retry=RetryPolicy(base=0.01, cap=0.05))
    started = time.monotonic()
    assert book.change_marker() is None  # the cache age decides this time
    assert time.monotonic() - started < 0.9  # the 0.2 s read timeout, not Drive's 1 s (nor the values read's 60 s)
