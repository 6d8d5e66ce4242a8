"""End to end on a SQL source (`[source] kind = "sql"`, pushdown on): the demo workbook exported with `pulse export
--duckdb`, read as that DuckDB file and as the same tables in a real PostgreSQL server, served the way `pulse serve`
serves it — the real slack-bolt app answering a signed slash command, the add-on's signed /addon/kpis, /addon/refresh
writing the summary tabs to the `[output]` workbook and posting the alert that now holds, /addon/digest posting the
digest to the Slack fake — and the command line's ask, digest, alerts and refresh on the same source. Every number
is compared with the workbook's own answer."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from bot.addon.auth import sign
from bot.cli import main
from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from bot.serve import build_server
from config import Settings, parse_settings
from sheets.local import LocalWorkbook
from sheets.warehouse.source import SqlWorkbook, open_sql_workbook
from tests.bot.conftest import TODAY
from tests.bot.test_warehouse_differential import noon
from tests.fakes.live_server import LiveServer
from tests.fakes.slack_api import FakeSlackAPI, ResponseUrlReceiver, wait_for
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_command_body
from tests.postgres import source_url as postgres_source_url

SHEET = "1WarehouseAddonSheet_abcdefghijklmnopqrstu"
ADDON_SECRET = "wh-addon-secret"
ALERT = {"name": "Revenue below plan", "metric": "revenue", "window_days": 28, "condition": "crosses_target"}


@pytest.fixture(scope="module")
def exported(demo_master, tmp_path_factory):
    """The demo workbook exported by `pulse export --duckdb`, once for the module."""
    target = tmp_path_factory.mktemp("e2e") / "crm.duckdb"
    code = main(["export", "--duckdb", str(target), "--workbook", str(demo_master), "--today", TODAY.isoformat()])
    assert code == 0 and target.is_file()
    return target


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def source_url(request, exported):
    """The export as a DuckDB URL, or copied into a fresh database of the test PostgreSQL server."""
    return postgres_source_url(request, request.param, exported)


@pytest.fixture(scope="module")
def workbook_answers(demo_master):
    """The demo workbook's own answers, the reference for every number below."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    return {q: render_json(answer(q, sheet)) for q in ("revenue 2026-Q3", "overview 2026-Q3")}


def stop(server) -> None:
    """Close the server and wait for its start-up read (a thread still inside DuckDB at exit aborts the process)."""
    server.close()
    if server.preload is not None:
        server.preload.join(120)


def settings_for(url: str, output, **extra) -> Settings:
    """A SQL source with pushdown, summary tabs to `output`, the add-on bound to SHEET, a digest channel and an
    alert that holds on the demo (revenue over 28 days is far below a 1e9 target)."""
    return parse_settings(
        {
            "source": {"kind": "sql", "url": url, "pushdown": True},
            "output": {"workbook": str(output)},
            "addon": {"spreadsheet_id": SHEET},
            "targets": {"revenue": 1e9},
            "alerts": [{**ALERT, "channel": "C_ALERTS"}],
            "digest": {"channels": [{"channel": "C_DIGEST", "timezone": "UTC", "day": "mon", "time": "09:00"}]},
            **extra,
        }
    )


def signed(base: str, path: str, payload: dict) -> httpx.Response:
    """An add-on request signed as the Apps Script signs it (HMAC of timestamp and body)."""
    body = json.dumps({"spreadsheet_id": SHEET, "nonce": uuid.uuid4().hex, **payload}).encode()
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-pulse-timestamp": ts,
        "x-pulse-signature": sign(ADDON_SECRET, ts, body),
    }
    return httpx.post(base + path, content=body, headers=headers, timeout=120)


def slash(base: str, hooks: ResponseUrlReceiver, text: str) -> dict:
    """A signed `/pulse <text>` to the live app; the answer (from the ack, or the response_url when slower)."""
    response_url = hooks.url()
    body = slash_command_body("/pulse", text, response_url=response_url)
    ack = httpx.post(f"{base}/slack/events", content=body.encode(), headers=signed_headers(body), timeout=30)
    assert ack.status_code == 200, ack.text
    if ack.content and "Computing" not in ack.text and ack.text.strip() not in ("", "{}"):
        return ack.json()
    return wait_for(lambda: hooks.to(response_url), timeout=120, what=f"the answer to {text}")[-1].payload


def test_serve_answers_slack_and_the_add_on_refreshes_alerts_and_posts_the_digest(
    source_url, workbook_answers, tmp_path, monkeypatch
):
    output = tmp_path / "summary.xlsx"
    with FakeSlackAPI() as slack, ResponseUrlReceiver() as hooks:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", slack.base_url)
        monkeypatch.setenv("PULSE_ADDON_SECRET", ADDON_SECRET)
        settings = settings_for(source_url, output)
        server = build_server(Context(settings, open_sql_workbook(settings), clock=noon), scheduler=False)
        try:
            assert server.parts["Slack"] == "on: HTTP at /slack/events"
            assert server.parts["add-on API"] == "on: /addon/ (HMAC-signed requests)"
            with LiveServer(server.api) as live:
                assert httpx.get(live.url + "/healthz", timeout=30).json()["status"] == "ok"

                revenue = workbook_answers["revenue 2026-Q3"]
                shown = slash(live.url, hooks, "revenue 2026-Q3")
                assert shown["text"].startswith(f"Revenue — 2026-Q3: ${revenue['value']:,.2f}")  # the workbook's figure
                issues = slash(live.url, hooks, "issues")
                assert "rule run in the database" in json.dumps(issues)  # the rules run as queries reach Slack

                kpis = signed(live.url, "/addon/kpis", {"period": "2026-Q3"})
                assert kpis.status_code == 200, kpis.text
                cards = {c["metric"]: c for c in kpis.json()["cards"]}
                reference = {r["metric"]: r for r in workbook_answers["overview 2026-Q3"]["results"]}
                assert cards["revenue"]["value"] == pytest.approx(reference["revenue"]["value"], rel=1e-9)
                assert cards["nps"]["value"] == pytest.approx(reference["nps"]["value"], rel=1e-9)

                refreshed = signed(live.url, "/addon/refresh", {"trigger": "manual"})
                assert refreshed.status_code == 200, refreshed.text
                assert "Pulse Summary" in refreshed.json()["written"] and not refreshed.json()["refused"]
                (alert,) = wait_for(lambda: slack.messages("C_ALERTS"), timeout=60, what="the alert at the Slack fake")
                assert "Revenue below plan" in str(alert.json_param("blocks"))

                posted = signed(live.url, "/addon/digest", {"action": "post"})
                assert posted.status_code == 200, posted.text
                digest = wait_for(lambda: slack.messages("C_DIGEST"), timeout=60, what="the digest message")[0]
                assert "Weekly pulse" in str(digest.json_param("blocks"))
        finally:
            stop(server)
    summary = LocalWorkbook(output).read_owned("Pulse Summary")
    assert summary is not None and summary[0][0] == "Month" and len(summary) > 24
    log = [str(row[1]) for row in LocalWorkbook(output).read_owned("Pulse Log")[1:]]
    assert log[:2] == ["refresh", "alert fired"]


def test_the_command_line_asks_digests_alerts_and_refreshes_on_a_sql_source(
    source_url, workbook_answers, tmp_path, capsys
):
    output = tmp_path / "summary.xlsx"
    config = tmp_path / "pulse.toml"
    config.write_text(
        f'[source]\nkind = "sql"\nurl = "{source_url}"\npushdown = true\n[output]\nworkbook = "{output}"\n'
        f"[targets]\nrevenue = 1e9\n[[alerts]]\n"
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in {**ALERT, "channel": "C_ALERTS"}.items()),
        encoding="utf-8",
    )
    common = ("--config", str(config), "--today", TODAY.isoformat())

    assert main(["ask", "revenue 2026-Q3", "--json", *common]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["value"] == pytest.approx(workbook_answers["revenue 2026-Q3"]["value"], rel=1e-9)

    assert main(["digest", "--dry-run", *common]) == 0
    assert "Weekly pulse" in capsys.readouterr().out

    assert main(["alerts", "--dry-run", "--json", *common]) == 0
    (rule,) = json.loads(capsys.readouterr().out)["rows"]
    assert rule[0] == "Revenue below plan" and rule[-1].startswith("Misses its target")

    assert main(["refresh", *common]) == 0, capsys.readouterr().err
    summary = LocalWorkbook(output).read_owned("Pulse Summary")
    assert summary is not None and summary[0][0] == "Month" and len(summary) > 24


def test_the_add_on_of_a_sql_source_serves_its_output_sheet(exported, monkeypatch):
    from bot.addon.api import AddonState

    monkeypatch.setenv("PULSE_ADDON_SECRET", ADDON_SECRET)
    key = "1OutputSheetKey_abcdefghijklmnopqrstuvwxyz0"
    settings = parse_settings(
        {
            "source": {"kind": "sql", "url": f"duckdb://{exported}"},
            "output": {"sheet": f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"},
        }
    )
    ctx = Context(settings, SqlWorkbook(exported), clock=noon)
    server = build_server(ctx, scheduler=False)  # the sidebar runs in the sheet the summary tabs go to
    try:
        assert server.parts["add-on API"] == "on: /addon/ (HMAC-signed requests)"
        assert AddonState(ctx).expected_spreadsheet() == key
    finally:
        stop(server)
