"""`/addon/issues` in the configured language (issue 20): the reason worded like the Slack `/pulse issues` and the
Pulse Data Issues tab (bot/reasons.py); tab, row, column, value and severity untouched. The Chinese is by hand."""

from __future__ import annotations

from tests.bot.addon.conftest import SHEET
from tests.bot.addon.test_addon_script_i18n import small_addon
from tests.bot.digest.conftest import small_path  # noqa: F401 - small_path is a fixture

SPEND_EN = "tab 'Spend' not found: add a tab named 'Spend' with columns date, amount; needed for CAC and LTV:CAC"


def spend_issue(client) -> dict:
    """The small workbook's missing-Spend issue, as `/addon/issues` answers it."""
    answer = client.signed("/addon/issues", {"spreadsheet_id": SHEET}).json()
    return next(i for i in answer["issues"] if i["tab"] == "Spend")


def test_issue_reasons_are_in_the_configured_language(small_path, serve_addon):
    issue = spend_issue(small_addon(serve_addon, small_path, "zh-CN"))
    assert issue["reason"] == "未找到表「Spend」：请添加名为「Spend」的表，包含列 date, amount；CAC and LTV:CAC 需要它"
    assert (issue["tab"], issue["severity"]) == ("Spend", "warning")  # values stay as they are, to filter on


def test_issue_reasons_in_english_are_unchanged(small_path, serve_addon):
    assert spend_issue(small_addon(serve_addon, small_path, "en"))["reason"] == SPEND_EN
