"""The add-on script (sheets/addon/Code.gs) in the team's language: its menu, dialogs, toasts and error sentences come
from sheets/addon/Strings.gs, generated from the message catalogue, in the language the server's replies name
(`Content-Language`, remembered in the Document Properties for the next onOpen). Run under the Node emulation of
Apps Script against the real server; the Chinese texts below are written by hand."""

from __future__ import annotations

import re

import pytest

from bot.addon.script_strings import SCRIPT_STRINGS, strings_gs
from tests.bot.addon.conftest import SHEET
from tests.bot.addon.test_addon_script_emulated import ROOT, run_script, stub  # noqa: F401 - stub is a fixture
from tests.bot.digest.conftest import context_at, small_path, utc  # noqa: F401 - small_path is a fixture

STRINGS_GS = ROOT / "sheets" / "addon" / "Strings.gs"
ZH = {"PULSE_LANGUAGE": "zh-CN"}
LIMITED = "{authMode: ScriptApp.AuthMode.LIMITED}"

ENGLISH_MENU = [
    "Refresh summary tabs", "Show KPIs", "Post digest now", "Data issues", "---",
    "Turn on refresh after edits", "Turn off refresh after edits",
]
CHINESE_MENU = ["刷新汇总表", "显示 KPI", "立即发布摘要", "数据问题", "---", "开启编辑后刷新", "关闭编辑后刷新"]


def test_strings_gs_is_what_the_catalogue_gives():
    assert STRINGS_GS.read_text(encoding="utf-8") == strings_gs(), (
        "sheets/addon/Strings.gs is generated: run `uv run python -m bot.addon.script_strings > sheets/addon/Strings.gs`"
    )


def test_every_key_the_script_uses_is_in_the_table_and_every_entry_is_used():
    code = (ROOT / "sheets" / "addon" / "Code.gs").read_text(encoding="utf-8")
    used = set(re.findall(r"t_\('(\w+)'", code)) | set(re.findall(r"words\.(\w+)", code))
    assert used == set(SCRIPT_STRINGS)


def small_addon(serve_addon, path, language: str):
    """A running add-on server over the small workbook, in `language`."""
    ctx, _ = context_at({"language": language, "addon": {"spreadsheet_id": SHEET}}, path, utc(2026, 3, 23, 8))
    client, _ = serve_addon(ctx)
    return client


@pytest.fixture
def chinese_addon(small_path, serve_addon):
    """A running add-on server whose configured language is zh-CN."""
    return small_addon(serve_addon, small_path, "zh-CN")


@pytest.fixture
def english_addon(small_path, serve_addon):
    """A running add-on server in English (the default)."""
    return small_addon(serve_addon, small_path, "en")


def test_replies_name_the_configured_language(english_addon, chinese_addon):
    client = english_addon
    assert client.signed("/addon/issues", {"spreadsheet_id": SHEET}).headers["content-language"] == "en"
    assert chinese_addon.signed("/addon/issues", {"spreadsheet_id": SHEET}).headers["content-language"] == "zh-CN"
    # Refusals from the add-on API name it too (wrong spreadsheet: 403; a bad body: 422).
    wrong = chinese_addon.signed("/addon/issues", {"spreadsheet_id": "1Other"})
    assert wrong.status_code == 403 and wrong.headers["content-language"] == "zh-CN"
    invalid = chinese_addon.signed("/addon/issues", {"spreadsheet_id": SHEET, "limit": "many"})
    assert invalid.status_code == 422 and invalid.headers["content-language"] == "zh-CN"


def test_menu_toast_dialog_and_sidebar_title_follow_the_servers_language(chinese_addon):
    seen = run_script(
        chinese_addon.base,
        f"onOpen({LIMITED}); menuRefresh(); onOpen({LIMITED}); showSidebar(); menuPostDigest();",
        ui_answer="NO",
    )
    # English before the first reply; the reply names zh-CN, so the menu is rebuilt at once, and the next onOpen
    # builds it in Chinese from the Document Properties.
    assert [m["items"] for m in seen["menus"]] == [ENGLISH_MENU, CHINESE_MENU, CHINESE_MENU]
    assert {m["title"] for m in seen["menus"]} == {"crm-pulse"}
    assert seen["documentProperties"]["PULSE_LANGUAGE"] == "zh-CN"
    assert seen["errors"] == []
    assert seen["alerts"] == ["现在把每周摘要发布到配置的 Slack 频道吗？"]  # and no failure of the refresh before it
    assert seen["toasts"][0].startswith("汇总表已刷新：Pulse Summary，") and seen["toasts"][0].endswith("。")
    assert seen["sidebarTitle"] == "crm-pulse KPI"


def test_an_english_server_keeps_the_english_menu(english_addon):
    seen = run_script(english_addon.base, f"onOpen({LIMITED}); menuRefresh(); onOpen({LIMITED}); showSidebar();")
    assert [m["items"] for m in seen["menus"]] == [ENGLISH_MENU, ENGLISH_MENU]
    assert seen["sidebarTitle"] == "crm-pulse KPIs" and "PULSE_LANGUAGE" not in seen["documentProperties"]


def test_onopen_before_the_add_on_is_authorised_is_english():
    # AuthMode.NONE cannot read Document Properties; LIMITED (and a bound script's plain onOpen()) can.
    seen = run_script(
        "http://unused", f"onOpen({{authMode: ScriptApp.AuthMode.NONE}}); onOpen({LIMITED}); onOpen();", document_properties=ZH
    )
    assert [m["items"] for m in seen["menus"]] == [ENGLISH_MENU, CHINESE_MENU, CHINESE_MENU]
    assert seen["fetches"] == []


@pytest.mark.parametrize(
    "status, ctype, body, headers, expected",
    [
        (500, "text/plain", b"Internal Server Error", {}, "crm-pulse 服务器出错（HTTP 500）：Internal Server Error。"),
        (500, "text/plain", b"", {}, "crm-pulse 服务器出错（HTTP 500）。"),
        (502, "text/html", b"<html>Bad Gateway</html>", {}, "无法通过代理连接 crm-pulse 服务器（HTTP 502）；服务器可能正在重启——请一分钟后再试。"),
        (429, "text/html", b"<html>Too Many</html>", {"Retry-After": "30"}, "crm-pulse 服务器繁忙（HTTP 429，请求过多）；请 30 秒后再试。"),
        (429, "text/html", b"<html>Too Many</html>", {}, "crm-pulse 服务器繁忙（HTTP 429，请求过多）；请一分钟后再试。"),
        (200, "text/html", b"<html>Sign in</html>", {}, "crm-pulse 服务器的回复不是 JSON（HTTP 200）；请检查 PULSE_SERVER_URL。"),
    ],
)
def test_failures_the_script_words_itself_are_in_chinese(stub, status, ctype, body, headers, expected):
    stub.reply = (status, ctype, body, headers)
    seen = run_script(stub.url, "menuRefresh()", document_properties=ZH)
    assert seen["alerts"] == [expected]


def test_a_failed_reply_naming_chinese_is_already_worded_in_chinese(stub):
    # No language remembered yet; the server's 500 names zh-CN, so its own failure is already in Chinese.
    stub.reply = (500, "text/plain", b"boom", {"Content-Language": "zh-CN"})
    seen = run_script(stub.url, "menuRefresh()")
    assert seen["alerts"] == ["crm-pulse 服务器出错（HTTP 500）：boom。"]
    assert seen["documentProperties"]["PULSE_LANGUAGE"] == "zh-CN"


def test_settings_and_unreachable_server_in_chinese(stub):
    seen = run_script("http://pulse.example.com", "menuRefresh()", document_properties=ZH)
    assert seen["alerts"] == ["PULSE_SERVER_URL 必须以 https:// 开头（当前为 http://pulse.example.com）。"]
    url = stub.url
    stub.server.shutdown()
    stub.server.server_close()
    seen = run_script(url, "menuRefresh()", document_properties=ZH)
    assert seen["alerts"][0].startswith(f"无法连接 crm-pulse 服务器 {url}：")


def test_refresh_after_edits_toasts_in_chinese(stub):
    stub.reply = (502, "text/html", b"<html>Bad Gateway</html>", {})
    seen = run_script(
        stub.url,
        "asUser('alice', installEditTrigger); asUser('bob', installEditTrigger); edit('Orders');"
        "asUser('bob', removeEditTrigger); asUser('alice', removeEditTrigger);",
        document_properties=ZH,
    )
    since = seen["toasts"][1][len("编辑后刷新已开启（另一位编辑者于 ") : -len(" 开启）。")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", since), seen["toasts"][1]
    assert seen["toasts"][0] == "数据表编辑后，汇总表将很快刷新。"
    assert re.fullmatch(
        r"Orders 编辑后的刷新于 \d{4}-\d\d-\d\d \d\d:\d\d UTC 失败："
        r"无法通过代理连接 crm-pulse 服务器（HTTP 502）；服务器可能正在重启——请一分钟后再试。",
        seen["toasts"][2],
    )
    assert seen["toasts"][3:] == [
        "编辑后刷新是另一位编辑者开启的，只有他们能删除自己的触发器。此表格已不再记录它，您可以为自己开启。",
        "编辑后刷新已关闭。",
    ]


DIGEST = {"language": "zh-CN", "addon": {"spreadsheet_id": SHEET}, "digest": {"channels": [{"channel": "C1"}]}, "surveys": {"min_n": 1}}


def test_post_digest_now_says_what_happened_in_chinese(small_path, slack, serve_addon):
    ctx, _ = context_at(DIGEST, small_path, utc(2026, 3, 23, 8))  # the last full week is 2026-W12
    client, _ = serve_addon(ctx)
    seen = run_script(client.base, "menuPostDigest(); menuPostDigest();", document_properties=ZH)
    assert seen["alerts"][0] == "现在把每周摘要发布到配置的 Slack 频道吗？"
    assert seen["toasts"] == ["2026-W12 的摘要已发布到 C1。", "2026-W12 的摘要本周已发布到 C1，未重复发送。"]
    assert seen["errors"] == []
