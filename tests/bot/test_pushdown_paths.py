"""Issue 18: on a pushed-down SQL source (`[source] pushdown = true`) the alert evaluations, `/pulse targets`,
`/pulse issues`, `/pulse alerts`, the add-on's `/addon/issues` and the server's start (`preload`) answer without
reading a row (`Context.snapshot_uses` stays 0), with the same answers as the same database read into memory
(pushdown off); a source whose tables the validation rules reject rows of, or a metric that cannot be pushed down,
reads the snapshot exactly as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.addon.api import install
from bot.alerts.run import evaluate_all
from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from bot.serve import build_server, preload
from bot.server import create_app
from config import parse_settings
from sheets.warehouse.source import open_sql_workbook
from tests.bot.addon.conftest import SECRET, SHEET, Client
from tests.bot.test_warehouse_differential import (  # noqa: F401 - module-scoped fixtures
    MESSY_CLOCK,
    demo_export,
    demo_in_postgres,
    differences,
    messy_export,
    noon,
)
from tests.bot.test_warehouse_e2e import slash, stop
from tests.fakes.live_server import LiveServer
from tests.fakes.slack_api import FakeSlackAPI, ResponseUrlReceiver
from tests.fakes.slack_requests import SIGNING_SECRET

# Rules over every condition, windows and segments; one names a column the data lacks (an error, as in memory).
MOVES = {"condition": "moves_percent", "threshold": 5}
ALERTS = [
    {"name": "Revenue below plan", "metric": "revenue", "condition": "crosses_target"},
    {"name": "North orders", "metric": "orders", **MOVES, "segment": "region=North"},
    {"name": "NPS shift", "metric": "nps", "window_days": 90, "condition": "significant_change"},
    {"name": "Pro repeat", "metric": "repeat", "window_days": 56, **MOVES, "segment": "plan=Pro"},
    {"name": "Churn", "metric": "churn", "condition": "moves_points", "threshold": 0.1},
    {"name": "Retention", "metric": "retention", "window_days": 35, "condition": "significant_change"},
    {"name": "Colour", "metric": "aov", **MOVES, "segment": "colour=red"},
]
TARGETS = {"revenue": 400000, "nps": 40, "churn": 5, "repeat": 30, "csat": 80, "complaints": 2}
QUERIES = ("targets", "targets 2026-Q3 where plan=Pro", "issues", "alerts")


def context(url: str, pushdown: bool, clock=noon, *, one_shot: bool = True, **extra) -> Context:
    """A context on the SQL source `url`, answering in the warehouse (`pushdown`) or from its rows read into memory."""
    settings = parse_settings(
        {
            "source": {"kind": "sql", "url": url, "pushdown": pushdown},
            "targets": TARGETS,
            "alerts": [{**rule, "channel": "C_ALERTS"} for rule in ALERTS],
            "addon": {"spreadsheet_id": SHEET},
            **extra,
        }
    )
    return Context(settings, open_sql_workbook(settings), clock=clock, one_shot=one_shot)


def evaluations(ctx: Context) -> list[dict]:
    """Every rule's evaluation as JSON: whether it holds, why, the sample flag, the error, the metric's answer."""
    return [
        {
            "rule": ev.rule.name,
            "holds": ev.holds,
            "reason": ev.reason,
            "small": ev.small_sample,
            "error": ev.error,
            "result": None if ev.result is None else ev.result.to_json(),
        }
        for ev in evaluate_all(ctx)
    ]


def addon_issues(ctx: Context, monkeypatch, limit: int = 100) -> dict:
    """`/addon/issues` of a server on `ctx`, signed as the Apps Script signs it."""
    monkeypatch.setenv("PULSE_ADDON_SECRET", SECRET)
    api = create_app(ctx)
    install(api, ctx)
    with LiveServer(api) as live:
        response = Client(live.url).signed("/addon/issues", {"spreadsheet_id": SHEET, "limit": limit})
    assert response.status_code == 200, response.text
    return response.json()


def answers(ctx: Context, monkeypatch) -> dict:
    """What the paths under test answer on `ctx`."""
    return {
        "evaluations": evaluations(ctx),
        **{q: render_json(answer(q, ctx)) for q in QUERIES},
        "addon issues": addon_issues(ctx, monkeypatch),
    }


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def url(request, demo_export):  # noqa: F811
    """The demo's export as a DuckDB file, or copied into the test PostgreSQL server."""
    return f"duckdb://{demo_export}" if request.param == "duckdb" else request.getfixturevalue("demo_in_postgres")


def test_alerts_targets_and_issues_answer_as_in_memory_without_reading_rows(url, monkeypatch):
    memory, pushed = context(url, False), context(url, True)
    expected = answers(memory, monkeypatch)
    got = answers(pushed, monkeypatch)
    assert pushed.snapshot_uses == 0  # not one row read: every answer from the warehouse's aggregates and rules
    assert memory.snapshot_uses > 0
    assert differences(expected, got) == []
    holding = {e["rule"]: e["holds"] for e in got["evaluations"]}
    assert holding["Revenue below plan"] is True  # 28 days of the demo's revenue are far below 400,000
    assert got["evaluations"][-1]["error"].startswith("unknown dimension 'colour'")
    targets = got["targets"]
    assert [row[0] for row in targets["rows"]] == list(TARGETS)  # one row per target, in the config's order
    # The issues: the demo's export holds only valid rows; the 8 the sheet rejected are recorded in `data_issues`
    # (tests/bot/test_warehouse_differential.py: "data_issues: 8 issues (8 rows rejected)").
    issues = got["issues"]
    assert issues["count"] == 8 and len(issues["database_rules"]) == len(issues["rows"]) - 8
    listed = got["addon issues"]
    assert listed["count"] == 8
    # /addon/issues lists the rules run in the database first, as `/pulse issues` does, then the recorded issues.
    assert [[i["tab"], i["row"], i["column"], i["value"], i["reason"], i["severity"]] for i in listed["issues"]] == [
        [tab, row, column, str(value), reason, severity] for tab, row, column, value, reason, severity in issues["rows"]
    ]


def test_a_source_with_rejected_rows_or_an_unpushable_metric_reads_the_snapshot_as_before(messy_export, monkeypatch):  # noqa: F811
    _, exported = messy_export
    url = f"duckdb://{exported}"
    # The messy export has no Complaints table and its Spend lacks amount (sheets cannot push it down): the issue
    # list and the start read the snapshot, and every answer is the in-memory one.
    memory, pushed = context(url, False, MESSY_CLOCK), context(url, True, MESSY_CLOCK)
    assert differences(answers(memory, monkeypatch), answers(pushed, monkeypatch)) == []
    assert pushed.snapshot_uses > 0
    server = context(url, True, MESSY_CLOCK, one_shot=False)
    preload(server).join(120)
    assert server.snapshot_uses == 1  # the start reads the rows the answers will need


def test_a_metric_not_pushed_down_answers_its_target_and_alert_from_the_snapshot(demo_export, tmp_path):  # noqa: F811
    import shutil

    import duckdb

    copy = shutil.copy(demo_export, tmp_path / "crm.duckdb")
    with duckdb.connect(str(copy)) as db:  # a complaint without a date is rejected: complaints are read from rows
        db.execute("INSERT INTO complaints SELECT * REPLACE (NULL AS date) FROM complaints LIMIT 1")
    url = f"duckdb://{copy}"
    rules = [{**ALERTS[0], "channel": "C"}, {**ALERTS[0], "name": "Complaints", "metric": "complaints", "channel": "C"}]
    extra = {"targets": {"complaints": 2, "revenue": 400000}, "alerts": rules}
    memory, pushed = context(url, False, **extra), context(url, True, **extra)
    assert differences(evaluations(memory), evaluations(pushed)) == []
    assert pushed.snapshot_uses == 1  # only the complaints rule read the rows
    assert differences(render_json(answer("targets", memory)), render_json(answer("targets", pushed))) == []
    assert pushed.snapshot_uses == 2  # the targets table is answered on one path: complaints needs the rows


def test_serve_starts_and_answers_slash_commands_and_the_add_on_without_reading_rows(demo_export, monkeypatch):  # noqa: F811
    url = f"duckdb://{demo_export}"
    memory = context(url, False)
    revenue = render_json(answer("revenue 2026-Q3", memory))["value"]
    expected_targets = render_json(answer("targets", memory))
    with FakeSlackAPI() as slack, ResponseUrlReceiver() as hooks:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", slack.base_url)
        monkeypatch.setenv("PULSE_ADDON_SECRET", SECRET)
        ctx = context(url, True, one_shot=False)
        server = build_server(ctx, scheduler=False)
        try:
            server.preload.join(120)
            assert ctx.snapshot_uses == 0  # the start warmed the connection and the rules, not the rows
            with LiveServer(server.api) as live:
                shown = slash(live.url, hooks, "revenue 2026-Q3")
                assert shown["text"].startswith(f"Revenue — 2026-Q3: ${revenue:,.2f}")
                targets = json.dumps(slash(live.url, hooks, "targets"))
                # revenue 28 days vs its 400,000 target: missed, as in memory
                assert "Targets" in targets and expected_targets["rows"][0][3] == "missed" and "missed" in targets
                assert "rule run in the database" in json.dumps(slash(live.url, hooks, "issues"))
                assert "Revenue below plan" in json.dumps(slash(live.url, hooks, "alerts"))
                client = Client(live.url)
                listed = client.signed("/addon/issues", {"spreadsheet_id": SHEET}).json()
                assert listed["count"] == 8
                kpis = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "2026-Q3"})
                assert kpis.status_code == 200, kpis.text
            assert ctx.snapshot_uses == 0
        finally:
            stop(server)


def hand_made(path, complaints: str = "") -> str:
    """A typed DuckDB database not written by `pulse export` (no recorded issues, no `row` column): 2 customers,
    3 orders, 2 answers, all valid; no Spend nor Subscriptions table, and Complaints only when `complaints` creates
    it."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers (customer_id VARCHAR, signup_date DATE, region VARCHAR);
            INSERT INTO customers VALUES ('C1', '2026-01-05', 'North'), ('C2', '2026-02-01', 'South');
            CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, order_date TIMESTAMP, amount DOUBLE);
            INSERT INTO orders VALUES ('O1', 'C1', '2026-02-01', 100), ('O2', 'C2', '2026-02-02', 50),
                                      ('O3', 'C1', '2026-03-04', -20);
            CREATE TABLE responses (date TIMESTAMP, survey VARCHAR, score BIGINT, customer_id VARCHAR);
            INSERT INTO responses VALUES ('2026-02-10', 'NPS', 9, 'C1'), ('2026-02-11', 'NPS', 3, 'C2');
            """
            + complaints
        )
    return f"duckdb://{path}"


def issue_answers(ctx: Context, monkeypatch) -> dict:
    return {"issues": render_json(answer("issues", ctx)), "addon issues": addon_issues(ctx, monkeypatch)}


def test_the_issues_of_a_database_not_exported_by_pulse_are_listed_without_its_rows(tmp_path, monkeypatch):
    url = hand_made(tmp_path / "crm.duckdb")
    clock = lambda: datetime(2026, 4, 1, 12, tzinfo=UTC)  # noqa: E731
    memory, pushed = context(url, False, clock), context(url, True, clock)
    expected, got = issue_answers(memory, monkeypatch), issue_answers(pushed, monkeypatch)
    assert pushed.snapshot_uses == 0 and differences(expected, got) == []
    # No row is rejected: the 1 refund (O3) is the only rule that found rows; then a warning per missing tab but the
    # optional Subscriptions: Complaints and Spend.
    assert [(i["tab"], i["severity"]) for i in got["addon issues"]["issues"]] == [
        ("orders", "info"),
        ("Complaints", "warning"),
        ("Spend", "warning"),
    ]
    assert got["issues"]["count"] == got["addon issues"]["count"] == 2


def test_a_date_stored_as_text_lists_the_issues_from_the_rows(tmp_path, monkeypatch):
    # Complaints' resolved_on as text: reading a row may find a value that is not a date (warned, left empty), which
    # no rule counts, so the list reads the rows.
    complaints = """
        CREATE TABLE complaints (date TIMESTAMP, customer_id VARCHAR, status VARCHAR, resolved_on VARCHAR);
        INSERT INTO complaints VALUES ('2026-02-12', 'C1', 'resolved', 'soon'), ('2026-02-13', 'C2', 'open', NULL);
    """
    url = hand_made(tmp_path / "crm.duckdb", complaints)
    clock = lambda: datetime(2026, 4, 1, 12, tzinfo=UTC)  # noqa: E731
    memory, pushed = context(url, False, clock), context(url, True, clock)
    expected, got = issue_answers(memory, monkeypatch), issue_answers(pushed, monkeypatch)
    assert pushed.snapshot_uses == 2 and differences(expected, got) == []  # each list read the (cached) snapshot
    (soon,) = [i for i in got["addon issues"]["issues"] if i["tab"] == "complaints"]
    assert (soon["row"], soon["value"], soon["severity"]) == (2, "soon", "warning")  # the first record is row 2


def test_the_scheduled_alert_run_posts_from_the_warehouse_without_reading_rows(demo_export, slack):  # noqa: F811
    from bot.scheduler import refresh_job, register_context

    # No [output]: the hourly job of a SQL source evaluates the alerts only. Revenue over the 28 days before TODAY is
    # far below its 400,000 target, so "Revenue below plan" fires; the others move or not as in memory (test above).
    ctx = context(f"duckdb://{demo_export}", True, one_shot=False, alerts=[{**ALERTS[0], "channel": "C_ALERTS"}])
    register_context(ctx, "sql-pushed-alerts")
    refresh_job("sql-pushed-alerts")
    (posted,) = slack.messages("C_ALERTS")
    assert "Revenue below plan" in str(posted.json_param("blocks"))
    assert ctx.snapshot_uses == 0


def test_the_start_counts_each_tables_rules_once_for_the_checks_and_the_issue_list(tmp_path, monkeypatch):
    from sheets.warehouse.pushdown import Warehouse

    counted: list[tuple[str, ...]] = []
    rule_counts = Warehouse.rule_counts

    def spy(self, keys, scales):  # the real queries, recorded: each scans a whole table (minutes at 10 M orders)
        counted.append(tuple(keys))
        return rule_counts(self, keys, scales)

    monkeypatch.setattr(Warehouse, "rule_counts", spy)
    ctx = context(hand_made(tmp_path / "crm.duckdb"), True, one_shot=False)
    preload(ctx).join(120)
    issues = answer("issues", ctx)
    # The three tables the database has, each counted once by the start's checks; the issue list reuses them.
    assert counted == [("customers",), ("orders",), ("responses",)]
    assert ctx.snapshot_uses == 0 and issues.payload["database_rules"][0]["rule"].startswith("refund")
