"""The snapshot cache in front of a Google Sheet: fresh answers send nothing, an outage serves the last snapshot."""

from __future__ import annotations

import pytest

from config import parse_settings
from sheets.cache import SnapshotCache, default_cache_path
from sheets.google import RetryPolicy, open_google_workbook
from sheets.snapshot import load_snapshot
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1CacheTestKey_abcdefghijklmnopqrstuvwxyz"
TABS = {
    "Customers": [["customer_id", "signup_date"], ["007", 46082], ["8", 46083]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", 46090, 120.5], ["8", 46091, 80]],
    "Responses": [["date", "survey", "score"], [46100, "NPS", 9]],
}


class Clock:
    t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def fake(monkeypatch):
    with FakeSheets() as server:
        server.add_spreadsheet(KEY, tabs=TABS)
        point_env_at(server, monkeypatch)
        yield server


def make_cache(clock: Clock, settings=None):
    settings = settings or parse_settings({"source": {"sheet": KEY, "cache_seconds": 60}})
    book = open_google_workbook(settings, retry=RetryPolicy(base=0.01, cap=0.05, max_total=0.5))
    loader = lambda: load_snapshot(book, settings)  # noqa: E731
    return SnapshotCache(loader, settings.source.cache_seconds, default_cache_path(KEY), clock=clock)


def test_fresh_answers_send_no_request_even_after_a_restart(fake):
    clock = Clock()
    cache = make_cache(clock)
    first = cache.get()
    assert fake.kinds() == ["spreadsheets.get", "values.batchGet"]
    assert list(first.snapshot.frames["customers"]["customer_id"]) == ["007", "8"]
    fake.clear_log()
    clock.t += 59
    for _ in range(3):
        assert cache.get().fresh
    assert make_cache(clock).get().snapshot.frames["orders"]["amount"].sum() == pytest.approx(200.5)
    assert fake.count(api_only=False) == 0


def test_each_refresh_is_one_read_request(fake):
    clock = Clock()
    cache = make_cache(clock)
    cache.get()
    fake.clear_log()
    for _ in range(3):
        clock.t += 61
        cache.get()
        assert cache.wait_idle()
    assert fake.kinds() == ["values.batchGet"] * 3


def test_outage_serves_the_last_snapshot_with_a_note(fake):
    clock = Clock()
    cache = make_cache(clock)
    good = cache.get()
    clock.t += 120
    fake.drop_next(1000)
    stale = cache.get()
    assert stale.snapshot is good.snapshot and not stale.fresh
    assert cache.wait_idle()
    answer = cache.get()
    assert answer.snapshot is good.snapshot
    stamp = good.snapshot.read_at.strftime("%Y-%m-%d %H:%M UTC")
    assert answer.note.startswith(f"data as of {stamp} — the sheet could not be read: could not reach Google Sheets")
    fake.clear_faults()
    clock.t += 120
    cache.get()
    assert cache.wait_idle()
    assert cache.get().note is None


def test_forced_refresh_reports_a_403_without_losing_the_snapshot(fake):
    clock = Clock()
    cache = make_cache(clock)
    cache.get()
    fake.deny(KEY, 403)
    answer = cache.refresh(force=True)
    assert answer.snapshot.frames["customers"].shape[0] == 2
    assert "share it with pulse-bot@crm-pulse-test.iam.gserviceaccount.com" in answer.note


def test_a_slow_sheet_does_not_hold_up_a_stale_answer(fake):
    clock = Clock()
    cache = make_cache(clock)
    good = cache.get()
    clock.t += 61
    fake.set_delay(1.0, kind="values.batchGet")
    stale = cache.get()
    assert stale.snapshot is good.snapshot
    assert not cache.wait_idle(timeout=0.05)  # the refresh is still waiting on the slow sheet
    assert cache.wait_idle(timeout=30)
    assert cache.get().snapshot is not good.snapshot
