"""The add-on server's own problem+json titles in the configured language (issue 20), as the 409 "Refresh already
running" title already was; the detail and the status are unchanged, and English is byte for byte what it was. The
Chinese titles are written by hand."""

from __future__ import annotations

from tests.bot.addon.conftest import SHEET
from tests.bot.addon.test_addon_script_i18n import small_addon
from tests.bot.digest.conftest import small_path  # noqa: F401 - small_path is a fixture

REQUESTS = [  # (route, body, status)
    ("/addon/issues", {"spreadsheet_id": "1Other"}, 403),  # bound to another spreadsheet
    ("/addon/issues", {"spreadsheet_id": SHEET, "limit": "many"}, 422),  # the body does not match the schema
    ("/addon/kpis", {"spreadsheet_id": SHEET, "period": "zzz"}, 400),  # an unknown period
]


def titles(client) -> list[str]:
    """The problem titles of the three refused requests, checking each status on the way."""
    out = []
    for route, body, status in REQUESTS:
        answer = client.signed(route, body)
        assert answer.status_code == status and answer.headers["content-type"].startswith("application/problem+json")
        out.append(answer.json()["title"])
    return out


def test_problem_titles_are_in_the_configured_language(small_path, serve_addon):
    assert titles(small_addon(serve_addon, small_path, "zh-CN")) == ["禁止访问", "请求无效", "请求有误"]


def test_problem_titles_in_english_are_unchanged(small_path, serve_addon):
    assert titles(small_addon(serve_addon, small_path, "en")) == ["Forbidden", "Invalid request", "Bad Request"]
