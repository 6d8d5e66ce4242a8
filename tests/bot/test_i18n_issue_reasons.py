"""`Pulse Data Issues` in 简体中文: sheets/ writes each reason in English; bot/ renders it in the configured language
from the catalogue, and every reason sheets/ writes for a small bad tab has a catalogue form (a new reason fails)."""

from bot.i18n import use
from bot.reasons import ISSUE_HEADINGS, issues_tab_in_language, reason_text
from config import Settings
from sheets.snapshot import ISSUES_HEADER
from sheets.validate import parse_tab
from sheets.workbook import OwnedTab, RawTab


def _bad_orders():
    """Orders with a missing customer (row 2), a duplicate id (row 4), a text amount and a 13th month (row 5)."""
    tab = RawTab(
        "Orders",
        [
            ["Order ID", "Customer ID", "Order Date", "Amount", "Gross margin"],
            ["A1", "", "2026-03-05", 5, None],
            ["A2", "C2", "2026-03-05", 5, "x"],
            ["A2", "C3", "2026-03-06", 5, None],
            ["A4", "C4", "2026-13-45", "abc", None],
        ],
    )
    return parse_tab("orders", tab, Settings())[1]


def test_two_reasons_in_chinese():
    with use("zh-CN"):
        assert reason_text("required value is missing") == "缺少必填值"
        assert reason_text("duplicate order_id (first seen in row 3); only the first is used") == (
            "order_id 重复（首次出现在第 3 行）；只使用第一个"
        )
        assert reason_text("not a number; left empty") == "不是数字；已留空"
        assert (
            reason_text("something sheets/ says that no form matches") == "something sheets/ says that no form matches"
        )
    assert reason_text("required value is missing") == "required value is missing"  # English: the text itself


def test_every_reason_of_a_bad_tab_has_a_chinese_form():
    issues = _bad_orders()
    assert len(issues) >= 4
    with use("zh-CN"):
        for issue in issues:
            assert reason_text(issue.reason) != issue.reason, issue.reason


def test_the_tab_header_and_reasons_in_chinese_values_untouched():
    tab = OwnedTab(
        "Pulse Data Issues",
        list(ISSUES_HEADER),
        [["Orders", 2, "Customer ID", "", "required value is missing", "rejected"]],
    )
    with use("zh-CN"):
        zh = issues_tab_in_language(tab)
    assert zh.name == "Pulse Data Issues" and zh.header == ["表", "行", "列", "值", "问题", "严重程度"]
    assert zh.rows == [["Orders", 2, "Customer ID", "", "缺少必填值", "rejected"]]
    assert issues_tab_in_language(tab) == tab  # English: unchanged
    assert list(ISSUE_HEADINGS) == ISSUES_HEADER  # the marked headings are the tab's
