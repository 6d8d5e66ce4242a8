"""What the add-on shows, over real HTTP: KPI cards as display strings, what "Post digest now" did, and the answer
to a refresh that is already running."""

import threading
from datetime import date

import pytest

import bot.tabs
from bot.context import build_context
from config import parse_settings
from tests.bot.addon.conftest import SHEET
from tests.bot.digest.conftest import context_at, small_path, utc  # noqa: F401 - small_path is a fixture
from tests.fakes.slack_api import wait_for
from tests.workbooks import two_month_workbook



@pytest.fixture
def small_kpi_path(tmp_path):
    return two_month_workbook(tmp_path / "kpi.xlsx")


def test_kpi_cards_carry_display_strings_with_units_change_and_period(small_kpi_path, serve_addon):
    s = parse_settings({"addon": {"spreadsheet_id": SHEET}, "targets": {"revenue": 100}})
    client, _ = serve_addon(build_context(s, workbook=str(small_kpi_path), today=date(2026, 3, 10)))
    data = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "last-month"}).json()
    # The clock is pinned at noon UTC of 10 March; last month is February, compared with January.
    assert data["period"]["label"] == "2026-02" and data["as_of"] == "data as of 2026-03-10 12:00 UTC"
    cards = {c["metric"]: c["display"] for c in data["cards"]}
    # Revenue: February 100 + 50 = $150.00, January the same → no change (not "▼ 0.0"); target 100 met.
    assert cards["revenue"]["value"] == "$150.00" and cards["revenue"]["change"] == "no change vs 2026-01"
    assert cards["revenue"]["target"].startswith("target $100.00 ✓ met") and cards["revenue"]["target_met"] is True
    # NPS: February 10 and 9 → 2 promoters of 2 = +100; January 10 and 3 → (1 − 1) / 2 = 0; a 100-point rise,
    # but with n = 2 it is within the noise.
    assert cards["nps"]["value"] == "+100" and cards["nps"]["change"] == "▲ 100 pts vs 2026-01 (within noise)"
    # Churn: none of the 4 customers active at the start of February stopped ordering.
    assert cards["churn"]["value"] == "0.0%" and cards["churn"]["counts"] == "0 of 4 customers churned"
    assert "small sample: n = 4 < 30" in cards["churn"]["notes"]


DIGEST = {"addon": {"spreadsheet_id": SHEET}, "digest": {"channels": [{"channel": "C1"}]}, "surveys": {"min_n": 1}}



def test_kpi_cards_of_a_partial_period_say_to_date(small_kpi_path, serve_addon):
    # issue 13: today is 10 March, so "this-month" is 1–10 March, compared with 1–10 February; the sidebar's
    # heading (period.label) and each card's own period say "to date".
    s = parse_settings({"addon": {"spreadsheet_id": SHEET}})
    client, _ = serve_addon(build_context(s, workbook=str(small_kpi_path), today=date(2026, 3, 10)))
    data = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "this-month"}).json()
    assert data["period"] == {"start": "2026-03-01", "end": "2026-03-11", "label": "2026-03 to date"}
    assert data["cards"] and {c["period"]["label"] for c in data["cards"]} == {"2026-03 to date"}
    revenue = next(c["display"] for c in data["cards"] if c["metric"] == "revenue")
    assert revenue["change"].endswith("vs 2026-02-01 – 2026-02-10"), revenue

def post(client):
    response = client.signed("/addon/digest", {"spreadsheet_id": SHEET, "action": "post"})
    assert response.status_code == 200, response.text
    return response.json()


def test_post_digest_now_says_posted_then_already_posted(small_path, slack, serve_addon):
    ctx, _ = context_at(DIGEST, small_path, utc(2026, 3, 23, 8))  # Monday 23 March: the last full week is 2026-W12
    client, _ = serve_addon(ctx)
    first = post(client)
    assert first["status"] == "posted" and first["message"] == "Digest for 2026-W12 posted to C1."
    assert len(slack.messages("C1")) == 1
    again = post(client)
    assert again["status"] == "already_posted"
    assert again["message"] == "The digest for 2026-W12 was already posted to C1 this week; nothing was sent again."
    assert len(slack.messages("C1")) == 1


def test_post_digest_now_gives_slacks_reason_when_refused(small_path, slack, serve_addon):
    slack.fail("chat.postMessage", status=200, error="channel_not_found")
    ctx, _ = context_at(DIGEST, small_path, utc(2026, 3, 23, 8))
    client, _ = serve_addon(ctx)
    reply = post(client)
    assert reply["status"] == "failed" and "not posted to C1" in reply["message"] and "channel_not_found" in reply["message"]


def test_post_digest_now_without_a_channel_says_so(small_path, slack, serve_addon):
    ctx, _ = context_at({"addon": {"spreadsheet_id": SHEET}}, small_path, utc(2026, 3, 23, 8))
    client, _ = serve_addon(ctx)
    reply = post(client)
    assert reply["status"] == "no_channel" and "No digest channel is configured" in reply["message"]
    assert slack.messages() == []


def test_a_second_refresh_while_one_runs_is_told_when_the_first_started(addon):
    client, _, ctx = addon
    first = {}
    thread = threading.Thread(target=lambda: first.update(r=client.signed("/addon/refresh", {"spreadsheet_id": SHEET, "trigger": "manual"})))
    thread.start()
    wait_for(lambda: bot.tabs.running_since(ctx) is not None, timeout=30, what="the first refresh to start")
    second = client.signed("/addon/refresh", {"spreadsheet_id": SHEET, "trigger": "manual"})
    thread.join(120)
    assert first["r"].status_code == 200 and first["r"].json()["status"] == "done"
    assert second.status_code == 409 and second.headers["content-type"].startswith("application/problem+json")
    body = second.json()
    # The demo context's clock is pinned at noon UTC of TODAY.
    assert body["detail"].startswith("A refresh is already running, started at 12:00:00 UTC;")
    assert body["started_at"].startswith("2026-11-25T12:00:00")
