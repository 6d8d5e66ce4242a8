"""The add-on API over real HTTP: authentication, spreadsheet binding, debounced refreshes, KPI parity with the CLI."""

import json
import time

from bot.cli import main
from sheets.local import LocalWorkbook
from tests.bot.addon.conftest import SHEET
from tests.bot.conftest import TODAY
from tests.fakes.slack_api import wait_for


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_unauthenticated_and_badly_signed_requests_are_refused(addon):
    client, _, _ = addon
    body = json.dumps({"spreadsheet_id": SHEET}).encode()
    assert "missing" in problem(client.raw("/addon/issues", body, {"content-type": "application/json"}), 401)["detail"]
    assert problem(client.signed("/addon/issues", {"spreadsheet_id": SHEET}, secret="wrong"), 401)["detail"] == "bad signature"
    stale = client.signed("/addon/issues", {"spreadsheet_id": SHEET}, timestamp=int(time.time()) - 3600)
    assert "too old" in problem(stale, 401)["detail"]


def test_replayed_request_is_refused(addon):
    client, _, _ = addon
    first = client.signed("/addon/issues", {"spreadsheet_id": SHEET})
    assert first.status_code == 200
    replay = client.raw("/addon/issues", first.request.content, {k: first.request.headers[k] for k in ("x-pulse-timestamp", "x-pulse-signature", "content-type")})
    assert problem(replay, 401)["detail"] == "replayed request"


def test_wrong_spreadsheet_is_refused(addon):
    client, _, _ = addon
    assert "different spreadsheet" in problem(client.signed("/addon/kpis", {"spreadsheet_id": "someone-elses-sheet"}), 403)["detail"]


def test_invalid_input_gets_a_problem_with_the_field(addon):
    client, _, _ = addon
    bad = problem(client.signed("/addon/issues", {"spreadsheet_id": SHEET, "limit": 0}), 422)
    assert bad["errors"][0]["field"] == "body.limit"
    period = problem(client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "last-quater"}), 400)
    assert "last-quarter" in period["detail"]


def test_kpis_match_pulse_ask_json(addon, demo_workbook, capsys):
    client, _, _ = addon
    response = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "last-month"})
    assert response.status_code == 200, response.text
    cards = {c["metric"]: c for c in response.json()["cards"]}
    assert main(["ask", "overview last-month", "--json", "--workbook", str(demo_workbook), "--today", TODAY.isoformat()]) == 0
    cli = {r["metric"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert cards.keys() == cli.keys() and len(cards) >= 10
    for metric, card in cards.items():
        assert card["value"] == cli[metric]["value"], metric
        assert card["n"] == cli[metric]["n"], metric
        assert card["period"] == cli[metric]["period"], metric


def test_burst_of_edits_causes_one_refresh(addon, demo_workbook):
    client, api, _ = addon
    statuses = [client.signed("/addon/refresh", {"spreadsheet_id": SHEET, "trigger": "edit"}).json()["status"] for _ in range(50)]
    assert statuses[0] == "scheduled" and set(statuses[1:]) == {"coalesced"}
    state = api.state.addon
    wait_for(lambda: state.completed == 1, timeout=90, what="the debounced refresh")
    time.sleep(1.5)
    assert state.refreshes == 1
    log = LocalWorkbook(demo_workbook).read_owned("Pulse Log")
    assert [row[1] for row in log[1:]].count("refresh") == 1
    assert "sheet edits" in log[-1][2]


def test_rate_limit(addon, monkeypatch):
    client, api, _ = addon
    api.state.addon.limiter.per_minute = 3
    codes = [client.signed("/addon/issues", {"spreadsheet_id": SHEET}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_issues_lists_rejected_rows(addon):
    client, _, _ = addon
    data = client.signed("/addon/issues", {"spreadsheet_id": SHEET, "limit": 5}).json()
    assert data["count"] >= len(data["issues"]) > 0
    assert {"tab", "row", "column", "value", "reason"} <= set(data["issues"][0])
