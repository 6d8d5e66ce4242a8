"""The add-on sidebar in 简体中文 (`language = "zh-CN"`): the server sends the cards and the sidebar's own words in
the configured language, and the sidebar (run in the Node emulation of Apps Script) shows them; English unchanged."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.addon.views import sidebar_strings
from bot.context import build_context
from bot.i18n import use
from config import parse_settings
from tests.bot.addon.conftest import SHEET
from tests.bot.addon.test_addon_script_emulated import NODE, run_script
from tests.workbooks import two_month_workbook


def test_kpi_reply_in_chinese_carries_the_sidebar_words(tmp_path, serve_addon):
    s = parse_settings({"addon": {"spreadsheet_id": SHEET}, "language": "zh-CN", "currency": "CNY"})
    client, _ = serve_addon(
        build_context(s, workbook=str(two_month_workbook(tmp_path / "k.xlsx")), today=date(2026, 3, 10))
    )
    data = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "last-month"}).json()
    assert data["strings"]["show"] == "显示" and data["strings"]["periods"]["last-quarter"] == "上季度"
    revenue = next(c for c in data["cards"] if c["metric"] == "revenue")
    assert (
        revenue["label"] == "Revenue" and revenue["display"]["label"] == "收入"
    )  # machine field kept, words translated
    assert revenue["display"]["value"] == "¥150.00"  # February: 100 + 50


def test_english_words_are_the_sidebar_s_own():
    words = sidebar_strings()
    assert words["show"] == "Show" and words["loading"] == "Loading…" and words["periods"]["ytd"] == "Year to date"


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_sidebar_shows_the_server_s_words():
    with use("zh-CN"):
        strings = sidebar_strings()
    data = {
        "period": {"label": "2026年2月"},
        "as_of": "",
        "strings": strings,
        "cards": [{"label": "NPS", "display": {"label": "净推荐值", "value": "+40"}}],
    }
    seen = run_script("http://unused", f"sidebar.succeed({json.dumps(data)}); load(); sidebar.fail('x');", sidebar=True)
    dom = seen["dom"]
    assert dom["show"]["textContent"] == "显示" and dom["p-last-month"]["textContent"] == "上个月"
    assert 'onclick="load()">重试</button>' in dom["banner"]["innerHTML"]
