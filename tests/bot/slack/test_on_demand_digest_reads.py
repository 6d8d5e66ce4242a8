"""Issue 13 item 8, on demand in `pulse serve`: `/pulse digest post` and the add-on's "Post digest now" read an
expired snapshot before posting (like the scheduled digest), instead of posting the old one and refreshing behind it.

Real slack-bolt app and a live add-on server, real gspread over HTTP to the Sheets fake, the digest posted with the
real WebClient into the Slack Web API fake."""

from __future__ import annotations

import json
import time

import pytest

from bot.addon.api import install
from bot.context import build_context
from bot.server import create_app
from config import parse_settings
from tests.bot.addon.conftest import SECRET, Client
from tests.bot.slack.conftest import TODAY
from tests.fakes.live_server import LiveServer
from tests.fakes.sheets_api import FakeSheets, point_env_at
from tests.fakes.sheets_model import Spreadsheet
from tests.fakes.slack_api import FakeSlackAPI

KEY = "1OnDemandDigest_abcdefghijklmnopqrstuvwxyz0"
ADMIN = "U0ADMIN001"
CHANNEL = "C0DIGEST01"
# TODAY is Monday 2026-11-16: the last full week is 2026-W46 (Mon 2026-11-09 … Sun 2026-11-15).
TABS = {
    "Customers": [["customer_id", "signup_date"], ["007", "2025-01-10"], ["008", "2025-02-11"]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", "2026-11-10", 120.5], ["008", "2026-11-11", 80.0]],
    "Responses": [["date", "survey", "score", "customer_id"], ["2026-11-10", "NPS", 9, "007"]],
}
BEFORE, AFTER = "$200.50", "$220.50"  # week revenue 120.50 + 80.00, then 120.50 + 100.00 after the edit


@pytest.fixture
def sheets(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    with FakeSheets() as fake:
        fake.add_spreadsheet(KEY, tabs=TABS)
        point_env_at(fake, monkeypatch, retry_seconds=0.2)
        yield fake


def server_context():
    """A server context (background refresh) whose snapshot expires after one second, read once already."""
    settings = parse_settings(
        {
            "source": {"sheet": KEY, "cache_seconds": 1},
            "slack": {"admins": [ADMIN]},
            "addon": {"spreadsheet_id": KEY},
            "digest": {"channels": [{"channel": CHANNEL}]},
        }
    )
    ctx = build_context(settings, today=TODAY)
    ctx.snapshot()
    return ctx


def edit_and_expire(sheets: FakeSheets) -> None:
    """Edit the second order's amount (sheet row 3, column C) as a person would, then let the snapshot expire."""
    Spreadsheet.apply_write(sheets.grid(KEY, "Orders"), [(2, 2, 100)], "RAW")
    time.sleep(1.05)


def posted_digest(api) -> str:
    (message,) = api.messages(CHANNEL)
    return message.params["text"] + json.dumps(message.json_param("blocks"), ensure_ascii=False)


def test_slack_digest_post_reads_an_expired_snapshot_before_posting(start_slack, sheets, monkeypatch):
    ctx = server_context()
    slack = start_slack(ctx)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.api.token)  # the digest posts with the bot token, as the server does
    monkeypatch.setenv("SLACK_API_URL", slack.api.base_url)
    edit_and_expire(sheets)
    reads = sheets.count("values.batchGet")
    text = slack.answer(slack.command("/pulse", "digest post", user_id=ADMIN), timeout=60)["text"]
    assert "Digest for 2026-W46 posted to C0DIGEST01." in text, text
    digest = posted_digest(slack.api)
    assert AFTER in digest and BEFORE not in digest
    assert sheets.count("values.batchGet") == reads + 1  # read once, before building the digest


def test_addon_post_digest_now_reads_an_expired_snapshot_before_posting(sheets, monkeypatch):
    monkeypatch.setenv("PULSE_ADDON_SECRET", SECRET)
    with FakeSlackAPI() as api:
        monkeypatch.setenv("SLACK_BOT_TOKEN", api.token)
        monkeypatch.setenv("SLACK_API_URL", api.base_url)
        ctx = server_context()
        app = create_app(ctx)
        install(app, ctx)
        with LiveServer(app) as server:
            edit_and_expire(sheets)
            response = Client(server.url).signed("/addon/digest", {"spreadsheet_id": KEY, "action": "post"})
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "posted", response.text
            digest = posted_digest(api)
    assert AFTER in digest and BEFORE not in digest
