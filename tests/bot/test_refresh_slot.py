"""One refresh at a time per source: a second refresh of the same sheet is told when the first started, while a
refresh of another sheet in the same process goes ahead (a slow Google Sheet must not hold up a local workbook)."""

import threading

import bot.tabs
from bot.context import build_context
from bot.tabs import refresh
from config import parse_settings
from tests.bot.conftest import TODAY
from tests.bot.slack.conftest import SMALL_TABS
from tests.fakes.sheets_api import FakeSheets, point_env_at
from tests.fakes.slack_api import wait_for

SLOW = "1SlowRefreshSheet_abcdefghijklmnopqrstuvwxyz"


def test_a_slow_refresh_of_one_sheet_holds_up_only_that_sheet(demo_workbook, monkeypatch):
    with FakeSheets() as sheets:
        sheets.add_spreadsheet(SLOW, tabs=SMALL_TABS)
        point_env_at(sheets, monkeypatch)
        slow = build_context(parse_settings({"source": {"sheet": SLOW}}), today=TODAY)
        local = build_context(parse_settings({}), workbook=str(demo_workbook), today=TODAY)
        sheets.set_delay(8.0, kind="values.batchGet")  # the Google refresh's read takes 8 s
        first = threading.Thread(target=lambda: refresh(slow))
        first.start()
        wait_for(lambda: bot.tabs.running_since(slow) is not None, timeout=30, what="the slow refresh to start")
        again = refresh(slow)
        assert bot.tabs.running_since(local) is None
        report = refresh(local)
        first.join(60)
    assert not report.skipped and "Pulse Summary" in report.written
    assert again.skipped and again.running_since is not None
