"""Google failures in the add-on API: problem+json with the specific title, detail and status, never a bare 500.

A live server over a Google Sheet served by the Sheets fake (real gspread over HTTP), cold (no snapshot yet).
"""

from __future__ import annotations

import pytest

from bot.addon.api import install
from bot.context import build_context
from bot.server import create_app
from config import parse_settings
from tests.bot.addon.conftest import SECRET, Client
from tests.bot.addon.test_api import problem as api_problem
from tests.bot.conftest import TODAY
from tests.bot.slack.conftest import SMALL_TABS
from tests.fakes.live_server import LiveServer
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1AddonGoogleFailure_abcdefghijklmnopqrstuvw"


@pytest.fixture
def sheets(monkeypatch):
    with FakeSheets() as fake:
        fake.add_spreadsheet(KEY, tabs=SMALL_TABS)
        fake.account = point_env_at(fake, monkeypatch, retry_seconds=0.3)["client_email"]
        yield fake


@pytest.fixture
def read_timeout() -> float | None:
    """The Sheets read timeout for the server (None: the default); a test parametrizes it to simulate a hang."""
    return None


@pytest.fixture
def client(sheets, read_timeout, monkeypatch):
    """A signed-request client for a live add-on server over the fake sheet."""
    if read_timeout is not None:
        monkeypatch.setenv("PULSE_SHEETS_TIMEOUT_SECONDS", str(read_timeout))
    monkeypatch.setenv("PULSE_ADDON_SECRET", SECRET)
    ctx = build_context(parse_settings({"source": {"sheet": KEY}}), today=TODAY)
    api = create_app(ctx)
    install(api, ctx)
    with LiveServer(api) as server:
        yield Client(server.url)


def problem(response, status: int) -> dict:
    body = api_problem(response, status)
    assert body["status"] == status and "Traceback" not in response.text
    return body


def test_cold_403_is_a_502_problem_naming_the_account(client, sheets):
    sheets.deny(KEY, 403)
    body = problem(client.signed("/addon/kpis", {"spreadsheet_id": KEY}), 502)
    assert body["title"] == "crm-pulse cannot read the sheet"
    assert body["detail"].startswith(f"the sheet is not shared with the service account — share it with {sheets.account}")


def test_cold_429_is_a_503_problem_with_retry_after(client, sheets):
    sheets.fail_next(429, count=1000)
    response = client.signed("/addon/kpis", {"spreadsheet_id": KEY})
    body = problem(response, 503)
    assert body["title"] == "Google is rate-limiting crm-pulse"
    assert "try again in a minute" in body["detail"]
    assert response.headers["retry-after"] == "60"


@pytest.mark.parametrize("read_timeout", [0.3])
def test_cold_hang_is_a_504_problem(client, sheets):
    sheets.set_delay(2.0, kind="spreadsheets.get")
    body = problem(client.signed("/addon/issues", {"spreadsheet_id": KEY}), 504)
    assert body["title"] == "Google Sheets did not answer in time"
    assert body["detail"].startswith("Google did not answer within 0.3 s (")


def test_refresh_on_an_unreadable_sheet_is_a_problem_saying_the_tabs_are_kept(client, sheets):
    assert client.signed("/addon/refresh", {"spreadsheet_id": KEY}).json()["status"] == "done"
    before = {tab: sheets.values(KEY, tab) for tab in sheets.tab_titles(KEY)}
    sheets.deny(KEY, 403)
    body = problem(client.signed("/addon/refresh", {"spreadsheet_id": KEY}), 502)
    assert body["title"] == "crm-pulse cannot read the sheet"
    assert body["detail"].endswith("— the summary tabs keep their previous contents")
    sheets.deny(KEY, 0)
    assert {tab: sheets.values(KEY, tab) for tab in sheets.tab_titles(KEY)} == before


def test_refused_write_is_a_502_problem_saying_to_share_as_editor(client, sheets):
    sheets.spreadsheet(KEY).viewers.add(sheets.account)
    body = problem(client.signed("/addon/refresh", {"spreadsheet_id": KEY}), 502)
    assert body["title"] == "crm-pulse cannot write the summary tabs"
    assert f"share it with {sheets.account} as Editor" in body["detail"]
    assert not [t for t in sheets.tab_titles(KEY) if t.startswith("Pulse")]


def pulse_tabs(sheets) -> dict:
    """Every Pulse tab (and any staging tab) with its sheet id, grid and values."""
    out = {}
    for title in sheets.tab_titles(KEY):
        if title.startswith("Pulse"):
            grid = sheets.grid(KEY, title)
            out[title] = (grid.sheet_id, grid.rows, grid.cols, grid.hidden, sheets.values(KEY, title))
    return out


def test_refused_first_write_is_a_problem_and_creates_no_tab(client, sheets):
    sheets.fail_next(403, count=1000, kind="values.batchUpdate")
    body = problem(client.signed("/addon/refresh", {"spreadsheet_id": KEY}), 502)
    assert body["title"] == "crm-pulse cannot write the summary tabs"
    assert body["detail"].endswith("— the summary tabs keep their previous contents")
    assert pulse_tabs(sheets) == {}


def test_refused_later_write_is_a_problem_and_leaves_the_tabs_as_they_were(client, sheets):
    assert client.signed("/addon/refresh", {"spreadsheet_id": KEY}).json()["status"] == "done"
    before = pulse_tabs(sheets)
    assert len(before) == 6  # Summary, Cohorts, Data Issues, Customers, Survival, Log
    sheets.fail_next(400, count=1000, kind="spreadsheets.batchUpdate", request="copyPaste")
    body = problem(client.signed("/addon/refresh", {"spreadsheet_id": KEY}), 502)
    assert body["detail"].startswith("Google Sheets refused to swap in the new summary tabs: HTTP 400")
    assert body["detail"].endswith("— the summary tabs keep their previous contents")
    assert pulse_tabs(sheets) == before
