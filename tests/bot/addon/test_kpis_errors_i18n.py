"""`/addon/kpis` refusals in 简体中文 (`language = "zh-CN"`): the period error, its suggestion and the no-cards answer
are in the configured language, as the sidebar's banner shows them; English unchanged (tests/bot/addon/test_api.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.context import build_context
from config import parse_settings
from tests.bot.addon.conftest import SHEET
from tests.workbooks import two_month_workbook


@pytest.fixture
def zh_client(tmp_path, serve_addon):
    s = parse_settings({"addon": {"spreadsheet_id": SHEET}, "language": "zh-CN", "currency": "CNY"})
    ctx = build_context(s, workbook=str(two_month_workbook(tmp_path / "k.xlsx")), today=date(2026, 3, 10))
    return serve_addon(ctx)[0]


def detail(client, period: str) -> str:
    response = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": period})
    assert response.status_code == 400, response.text
    return response.json()["detail"]


ACCEPTED_ZH = (
    "today, yesterday, this-/last-week|month|quarter|year, ytd, qtd, mtd, last-N-days|weeks|months, YYYY, YYYY-QN, "
    "YYYY-MM, YYYY-Www, YYYY-MM-DD..YYYY-MM-DD, since YYYY-MM-DD, 本周 上周 本月 上月 本季度 上季度 今年 去年"
)


def test_kpi_period_errors_in_chinese(zh_client):
    # English: "unknown period 'last-quater' — did you mean last-quarter? Accepted: …" (the suggestion once: the
    # message already asks it, so the API does not add it again).
    assert detail(zh_client, "last-quater") == f"未知时间段「last-quater」——是否想输入 last-quarter？可用：{ACCEPTED_ZH}"
    # English: "2099-01 has not started yet; today is 2026-03-10 — did you mean this-month?" (the suffix the API adds).
    assert detail(zh_client, "2099-01") == "2099年1月还没有开始；今天是 2026年3月10日——是否想输入 this-month？"
    # English: "period 'since 0001-01-01' is out of range: periods start on or after 1800-01-01".
    assert detail(zh_client, "since 0001-01-01") == "时间段「since 0001-01-01」超出范围：时间段须从 1800年1月1日 或之后开始"
    # English: "period '2026-13': month must be 01–12, not 13".
    assert detail(zh_client, "2026-13") == "时间段「2026-13」：月份必须是 01–12，不能是 13"
