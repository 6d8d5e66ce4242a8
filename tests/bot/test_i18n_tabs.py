"""The summary tabs in 简体中文 with `language = "zh-CN"`: headers and notes translated, values untouched (numbers,
month labels, status codes), so the tabs still pivot; English stays as tests/bot/test_summary_tab.py pins it."""

from datetime import date

import pytest

from bot.context import build_context
from bot.tabs import build_tabs
from config import parse_settings
from tests.workbooks import two_month_workbook


@pytest.fixture(scope="module")
def tabs(tmp_path_factory):
    path = two_month_workbook(tmp_path_factory.mktemp("zh") / "s.xlsx")  # $150 revenue, 4 active customers a month
    settings = parse_settings({"language": "zh-CN", "currency": "CNY", "targets": {"revenue": 100}})
    built, _, _ = build_tabs(build_context(settings, workbook=str(path), today=date(2026, 3, 10)))
    return built


def test_summary_header_and_notes_in_chinese(tabs):
    summary = tabs["Pulse Summary"]
    header = summary.header
    assert header[0] == "月份" and header[-2:] == ["小样本", "定义版本"]
    assert header[header.index("客户流失率 %") : header.index("客户流失率 %") + 4] == [
        "客户流失率 %",
        "客户流失率 % 样本量",
        "客户流失率 % 下限",
        "客户流失率 % 上限",
    ]
    feb = dict(zip(header, summary.rows[1], strict=True))
    assert feb["收入 (CNY)"] == 150.0 and feb["收入 (CNY) 目标"] == 100  # 100 + 50, a number not "¥150.00"
    assert feb["收入 (CNY) 状态"] == "met" and summary.rows[1][0] == "2026-02"  # values stay machine-readable
    assert "净推荐值 (n = 2)" in feb["小样本"]  # 2 answers < the default minimum n of 30


def test_other_tabs_headers_in_chinese(tabs):
    assert tabs["Pulse Cohorts"].header[:3] == ["同期群", "客户数", "第0个月"]
    assert tabs["Pulse Customers"].header == [
        "客户",
        "细分",
        "P(活跃)",
        "预期购买次数",
        "预测客户生命周期价值",
        "涉及价值",
        "风险排名",
        "流失日期",
    ]
    assert tabs["Pulse Survival"].header == ["分组", "注册后天数", "留存概率", "下限（95%）", "上限（95%）"]


def test_customers_tab_note_in_chinese_segment_names_kept(tabs):
    """The model's note row in the language (English: "(note)", "too few repeat customers to fit the model (2, need
    20); showing historical CLV" — 2 customers ordered twice); the RFM segment names stay English, the values a
    COUNTIF or a filter on the Segment column reads in either language (README, "Languages")."""
    rows = tabs["Pulse Customers"].rows
    assert rows[0][:2] == ["（注）", "复购客户太少，无法拟合模型（2 位，至少需要 20 位）；显示历史客户生命周期价值"]
    assert {r[1] for r in rows[1:]} <= {"Champions", "Loyal", "Potential", "New", "At risk", "Can't lose", "Hibernating", "Lost"}
