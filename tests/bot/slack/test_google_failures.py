"""Google failures reach Slack users as the specific sentence (the one the CLI prints), never the generic apology.

Real slack-bolt app under uvicorn, real gspread over HTTP against the Sheets fake, no snapshot on disk or in
memory ("cold"): the first question must read the sheet, and that read fails.
"""

from __future__ import annotations

import pytest

from bot.context import build_context
from config import parse_settings
from tests.bot.slack.conftest import SMALL_TABS, TODAY
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1SlackGoogleFailure_abcdefghijklmnopqrstuvw"
ADMIN = "U0ADMIN"


@pytest.fixture
def sheets(monkeypatch):
    with FakeSheets() as fake:
        fake.add_spreadsheet(KEY, tabs=SMALL_TABS)
        account = point_env_at(fake, monkeypatch, retry_seconds=0.3)
        fake.account = account["client_email"]
        yield fake


def google_context(**config):
    return build_context(parse_settings({"source": {"sheet": KEY}, "slack": {"admins": [ADMIN]}, **config}), today=TODAY)


def text_of(message: dict) -> str:
    return message["blocks"][0]["text"]["text"]


def test_cold_403_tells_the_user_to_share_the_sheet(start_slack, sheets):
    sheets.deny(KEY, 403)
    slack = start_slack(google_context())
    answer = slack.answer(slack.command("/pulse", "nps last-quarter"))
    text = text_of(answer)
    assert "Sorry, something went wrong" not in text
    assert text.startswith(":warning: crm-pulse cannot read the sheet: the sheet is not shared with the service account "
                           f"— share it with {sheets.account}")
    assert answer["response_type"] == "ephemeral"
    assert "share_in_channel" not in str(answer["blocks"])


def test_cold_429_says_google_is_rate_limiting_and_to_try_again_in_a_minute(start_slack, sheets):
    sheets.fail_next(429, count=1000)
    slack = start_slack(google_context())
    text = text_of(slack.answer(slack.command("/nps", "last-quarter")))
    assert "Sorry, something went wrong" not in text
    assert text.startswith(":warning: Google is rate-limiting crm-pulse: Google Sheets quota exhausted")
    assert "try again in a minute" in text


def test_cold_hang_says_google_did_not_answer_within_the_timeout(start_slack, sheets, monkeypatch):
    monkeypatch.setenv("PULSE_SHEETS_TIMEOUT_SECONDS", "0.3")
    sheets.set_delay(2.0, kind="spreadsheets.get")
    slack = start_slack(google_context())
    text = text_of(slack.answer(slack.command("/pulse", "nps last-quarter"), timeout=30))
    assert "Sorry, something went wrong" not in text
    assert text.startswith(":warning: Google Sheets did not answer in time: Google did not answer within 0.3 s (")
    assert "trying to read the sheet's tab list" in text


def test_refresh_on_an_unreadable_sheet_says_so_and_keeps_the_tabs(start_slack, sheets):
    ctx = google_context()
    slack = start_slack(ctx)
    first = slack.answer(slack.command("/pulse", "refresh", user_id=ADMIN), timeout=30)
    assert text_of(first) == "Summary tabs refreshed"
    before = {tab: sheets.values(KEY, tab) for tab in sheets.tab_titles(KEY) if tab.startswith("Pulse")}
    assert "Pulse Summary" in before

    sheets.deny(KEY, 403)
    text = text_of(slack.answer(slack.command("/pulse", "refresh", user_id=ADMIN), timeout=30))
    assert "refreshed" not in text
    assert text.startswith(":warning: crm-pulse cannot read the sheet: the sheet is not shared with the service account")
    assert text.endswith("— the summary tabs keep their previous contents")
    sheets.deny(KEY, 0)
    assert {tab: sheets.values(KEY, tab) for tab in sheets.tab_titles(KEY) if tab.startswith("Pulse")} == before
