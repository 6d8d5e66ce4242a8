"""Validation rules run as SQL over a hand-made warehouse (rejected rows per rule, sample keys), and a table with
rejected rows answered from the in-memory snapshot instead of the warehouse (same answer either way)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from bot.cli import main
from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from config import parse_settings
from sheets.warehouse.pushdown import open_warehouse
from sheets.warehouse.source import SqlWorkbook, open_sql_workbook

NAMES = {"customers": "customers", "orders": "orders", "responses": "responses"}
SCALES = {"NPS": (0, 10), "CSAT": (1, 5)}


@pytest.fixture
def messy_db(tmp_path):
    """Typed tables with one of each bad row (counted in the comments)."""
    path = tmp_path / "messy.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers (customer_id VARCHAR, signup_date VARCHAR, region VARCHAR);
            INSERT INTO customers VALUES
                ('C1', '2026-01-05', 'North'), ('C2', 'soon', 'South'),   -- 'soon' is not a date (1)
                ('C1', '2026-01-06', 'East'),                             -- duplicate C1 (1)
                ('  ', '2026-01-07', NULL);                               -- blank customer_id (1)
            CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, order_date TIMESTAMP, amount DOUBLE);
            INSERT INTO orders VALUES
                ('O1', 'C1', '2026-02-01', 100), ('O2', 'C2', '2026-02-02', 50),
                ('O2', 'C2', '2026-02-03', 20),                            -- duplicate O2 (1)
                ('O3', 'C1', '2026-02-04', NULL),                          -- amount missing (1)
                ('O4', 'C1', '2026-02-05', -30), ('O5', 'C2', '2026-02-06', -5);  -- 2 refunds, kept
            CREATE TABLE responses (date TIMESTAMP, survey VARCHAR, score BIGINT, customer_id VARCHAR);
            INSERT INTO responses VALUES
                ('2026-02-10', 'nps', 9, 'C1'), ('2026-02-11', 'NPS', 11, 'C2'),  -- 11 outside 0–10 (1)
                ('2026-02-12', 'poll', 3, 'C2'), ('2026-02-13', 'csat', 0, NULL); -- unknown survey (1), 0 < 1 (1)
            """
        )
    return path


def test_validation_rules_run_as_queries_count_rejected_rows_and_sample_keys(messy_db):
    with open_warehouse(SqlWorkbook(messy_db), NAMES) as wh:
        rules = wh.rule_counts(("customers", "orders", "responses"), SCALES)
    found = {(r.tab, r.column, r.rule.split(";")[0], r.severity): (r.rows, r.samples) for r in rules}
    assert found == {
        ("customers", "customer_id", "required value is missing", "rejected"): (1, ("  ",)),
        ("customers", "signup_date", "not a date", "rejected"): (1, ("C2: soon",)),
        ("customers", "customer_id", "duplicate customer_id", "rejected"): (1, ("C1",)),
        ("orders", "amount", "required value is missing", "rejected"): (1, ("O3: (blank)",)),
        ("orders", "order_id", "duplicate order_id", "rejected"): (1, ("O2",)),
        ("orders", "amount", "refund (negative amount): counted in revenue, not orders", "info"): (
            2,
            ("O4: -30.0", "O5: -5.0"),
        ),
        ("responses", "survey", "unknown survey", "rejected"): (1, ("C2: poll",)),
        ("responses", "score", "outside the survey's scale", "rejected"): (2, ("C2: 11", "(blank): 0")),
    }


@pytest.mark.parametrize(
    ("question", "figures"),
    [
        # Validation keeps O1 100, O2 50, and the refunds O4 −30 and O5 −5: 100 + 50 − 30 − 5 = 115 on 2 orders.
        ("revenue 2026-02", (115.0, 2)),
        # It keeps C1 (signup 2026-01-05; its duplicate and the blank id are rejected) and drops C2's row ('soon' is
        # not a date), whose signup is then its first order, 2026-02-02: 1 new customer in January.
        ("new 2026-01", (1.0, 1)),
    ],
)
def test_a_table_with_rejected_rows_is_answered_from_the_snapshot(messy_db, question, figures):
    ctx, reference = messy_contexts(messy_db)
    got = render_json(answer(question, ctx))
    assert got == render_json(answer(question, reference))
    assert (got["value"], got["n"]) == figures
    assert ctx.cache._entry is not None  # the table has rejected rows: read and validated in memory


def messy_contexts(path) -> tuple[Context, Context]:
    """Contexts on the messy database at noon on 2026-03-01: with pushdown, and without it (the reference)."""
    clock = lambda: datetime(2026, 3, 1, 12, tzinfo=UTC)  # noqa: E731
    url = f"duckdb://{path}"
    pushed = parse_settings({"source": {"kind": "sql", "url": url, "pushdown": True}})
    plain = parse_settings({"source": {"kind": "sql", "url": url}})
    ctx = Context(pushed, open_sql_workbook(pushed), clock=clock, one_shot=True)
    return ctx, Context(plain, open_sql_workbook(plain), clock=clock, one_shot=True)


def test_pulse_check_lists_the_rules_run_in_the_database(messy_db, tmp_path, capsys):
    config = tmp_path / "pulse.toml"
    config.write_text(f'[source]\nkind = "sql"\nurl = "duckdb://{messy_db}"\n', encoding="utf-8")
    assert main(["check", "--config", str(config), "--today", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert "validation rules run in the database: 8 rows rejected" in out  # 1 + 1 + 1 + 1 + 1 + 1 + 2, as above
    assert "  orders.order_id: duplicate order_id; only the first is used — 1 row (O2)" in out
    assert "  responses.score: outside the survey's scale — 2 rows (C2: 11, (blank): 0)" in out
    refunds = "refund (negative amount): counted in revenue, not orders"
    assert f"  orders.amount: {refunds} — 2 rows (O4: -30.0, O5: -5.0) [info]" in out
    assert main(["check", "--json", "--config", str(config), "--today", "2026-03-01"]) == 0
    rules = json.loads(capsys.readouterr().out)["database_rules"]
    assert {
        "tab": "customers",
        "column": "signup_date",
        "rule": "not a date",
        "rows": 1,
        "samples": ["C2: soon"],
        "severity": "rejected",
    } in rules


EXPORTED = {
    "customers": {"customer_id": "string", "signup_date": "timestamp", "region": "string", "plan": "string"},
    "orders": {"order_id": "string", "customer_id": "string", "order_date": "timestamp", "amount": "float64"},
    "responses": {"date": "timestamp", "survey": "string", "score": "int64", "customer_id": "string"},
}


class UnboundTables:
    """Stands in for a BigQuery connection (none in tests): tables with the exported schema and no data."""

    name = "bigquery"

    def table(self, name, database=None):
        import ibis

        return ibis.table(EXPORTED[name], name=name, database=database)


@pytest.mark.parametrize(
    "scope,by", [((), None), ((), "region"), ((("plan", "Pro"),), None), ((("plan", "Pro"),), "region")]
)
def test_every_pushed_down_query_compiles_for_bigquery(scope, by):
    import ibis
    import sqlglot

    from sheets.warehouse.pushdown import Warehouse

    found = {key: (key, f'"analytics"."{key}"') for key in NAMES}
    wh = Warehouse(UnboundTables(), NAMES, found)
    periods = [(datetime(2026, 7, 1), datetime(2026, 10, 1)), (datetime(2026, 4, 1), datetime(2026, 7, 1))]
    queries = [wh.basket_query(periods, scope, by)] + [
        wh.score_query(periods, survey, low, high, scope, by) for survey, (low, high) in SCALES.items()
    ]
    for query in queries:
        sql = ibis.to_sql(query, dialect="bigquery")
        assert "`analytics`.`orders`" in sql or "`analytics`.`responses`" in sql
        assert sqlglot.parse_one(sql, read="bigquery") is not None  # BigQuery's grammar accepts it
        assert ("`analytics`.`customers`" in sql) == bool(scope or by)


def issues_context(db, language: str = "en") -> Context:
    """A plain (not pushed-down) SQL source on `db`: the snapshot's issues and the rules run in the database."""
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{db}"}, "language": language})
    return Context(settings, open_sql_workbook(settings), clock=lambda: datetime(2026, 3, 1, 12, tzinfo=UTC))


# messy_db's rules, as `/pulse issues` and `Pulse Data Issues` list them before the snapshot's own issues: tab, row
# (none: a rule counts rows), column, sample keys, the rule with its count, severity.
RULE_ROWS = [
    ["customers", None, "customer_id", "  ", "required value is missing — rule run in the database: 1 row", "rejected"],
    ["customers", None, "signup_date", "C2: soon", "not a date — rule run in the database: 1 row", "rejected"],
    [
        "customers",
        None,
        "customer_id",
        "C1",
        "duplicate customer_id; only the first is used — rule run in the database: 1 row",
        "rejected",
    ],
    [
        "orders",
        None,
        "amount",
        "O3: (blank)",
        "required value is missing — rule run in the database: 1 row",
        "rejected",
    ],
    [
        "orders",
        None,
        "order_id",
        "O2",
        "duplicate order_id; only the first is used — rule run in the database: 1 row",
        "rejected",
    ],
    [
        "orders",
        None,
        "amount",
        "O4: -30.0, O5: -5.0",
        "refund (negative amount): counted in revenue, not orders — rule run in the database: 2 rows",
        "info",
    ],
    [
        "responses",
        None,
        "survey",
        "C2: poll",
        "unknown survey; configured surveys: NPS, CSAT, CSI — rule run in the database: 1 row",
        "rejected",
    ],
    [
        "responses",
        None,
        "score",
        "C2: 11, (blank): 0",
        "outside the survey's scale — rule run in the database: 2 rows",
        "rejected",
    ],
]


def test_pulse_issues_lists_the_rules_run_in_the_database_before_the_rows(messy_db, tmp_path):
    from bot.query import issues_reply

    ctx = issues_context(messy_db)
    reply = answer("issues", ctx)
    assert reply.rows[: len(RULE_ROWS)] == RULE_ROWS
    snapshot_issues = ctx.snapshot().snapshot.issues
    assert len(reply.rows) == len(RULE_ROWS) + len(snapshot_issues)  # then every issue of the snapshot, as before
    assert reply.notes == ["validation rules run in the database: 8 rows rejected"]  # 1+1+1+1+1+1+2, refunds info
    data = render_json(reply)
    assert {"tab": "orders", "column": "order_id", "rule": "duplicate order_id; only the first is used", "rows": 1,
            "samples": ["O2"], "severity": "rejected"} in data["database_rules"]  # fmt: skip
    assert data["count"] == len(snapshot_issues)
    assert "database_rules" not in render_json(issues_reply(answer_cmd("issues"), workbook_context(tmp_path)))


def answer_cmd(text: str):
    from bot.query import parse

    return parse(text)


def workbook_context(folder: Path) -> Context:
    """The demo-free smallest source: a workbook with one Orders tab (not a database: no rules run)."""
    from openpyxl import Workbook

    from sheets.local import LocalWorkbook

    path = folder / "crm.xlsx"
    wb = Workbook()
    wb.active.title = "Orders"
    wb.active.append(["Order ID", "Customer ID", "Order Date", "Amount"])
    wb.active.append(["O1", "C1", "2026-02-01", 10])
    wb.save(path)
    return Context(parse_settings({}), LocalWorkbook(path), clock=lambda: datetime(2026, 3, 1, 12, tzinfo=UTC))


def test_pulse_issues_in_chinese_words_the_database_rules_and_the_rows(messy_db):
    from bot.i18n import use

    ctx = issues_context(messy_db, "zh-CN")
    with use("zh-CN"):
        reply = answer("issues", ctx)
    reasons = [r[4] for r in reply.rows]
    assert reasons[:8] == [
        "缺少必填值——数据库中运行的规则：1 行",
        "不是日期——数据库中运行的规则：1 行",
        "customer_id 重复；只使用第一个——数据库中运行的规则：1 行",
        "缺少必填值——数据库中运行的规则：1 行",
        "order_id 重复；只使用第一个——数据库中运行的规则：1 行",
        "退款（负金额）：计入收入，不计入订单——数据库中运行的规则：2 行",
        "未知问卷；已配置的问卷：NPS, CSAT, CSI——数据库中运行的规则：1 行",
        "超出问卷量表范围——数据库中运行的规则：2 行",
    ]
    assert [r[3] for r in reply.rows[:8]] == [r[3] for r in RULE_ROWS]  # sample keys and values stay as they are
    assert "缺少必填值" in reasons[8:]  # the snapshot's own rows are worded in Chinese too
    assert reply.notes == ["数据库中运行的验证规则：拒绝 8 行"]


def test_the_data_issues_tab_of_a_sql_source_holds_the_database_rules(messy_db, tmp_path):
    from bot.i18n import use
    from bot.tabs import build_tabs
    from sheets.workbook import ISSUES_TAB

    ctx = issues_context(messy_db)
    tab = build_tabs(ctx)[0][ISSUES_TAB]
    assert tab.rows[: len(RULE_ROWS)] == RULE_ROWS
    assert len(tab.rows) == len(RULE_ROWS) + len(ctx.snapshot().snapshot.issues)
    zh = issues_context(messy_db, "zh-CN")
    with use("en"):  # the tab is in the config's language whoever asks
        rows = build_tabs(zh)[0][ISSUES_TAB].rows
    zh_reason = "order_id 重复；只使用第一个——数据库中运行的规则：1 行"
    assert rows[4] == ["orders", None, "order_id", "O2", zh_reason, "rejected"]


def test_customers_without_signup_or_churn_columns_answer_as_in_memory(tmp_path):
    """A Customers table with neither signup_date nor churned_on (both optional) is pushed down and answers the
    customer metrics as the snapshot does (it once failed: a NULL literal has no .max() in Ibis)."""
    from tests.bot.test_warehouse_differential import differences, noon, pushed_context

    path = tmp_path / "lean.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers (customer_id VARCHAR, region VARCHAR);
            INSERT INTO customers VALUES ('C1', 'North'), ('C2', 'South'), ('C3', 'North');
            CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, order_date TIMESTAMP, amount DOUBLE);
            INSERT INTO orders VALUES ('O1', 'C1', '2026-02-01', 100), ('O2', 'C2', '2026-05-02', 50),
                ('O3', 'C1', '2026-08-03', 20), ('O4', 'C3', '2026-09-04', 40);
            """
        )
    pushed = pushed_context(f"duckdb://{path}")
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{path}", "pushdown": False}})
    memory = Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True)
    asked = [f"{m} 2026-Q3{v}" for m in ("customers", "retention", "churn", "lapsed") for v in ("", " by region")]
    asked += ["risk", "survival"]
    differ = {q: d for q in asked if (d := differences(render_json(answer(q, memory)), render_json(answer(q, pushed))))}
    assert differ == {}
    assert pushed.cache._entry is None


def test_a_24_month_customer_flow_runs_within_a_small_memory_limit(tmp_path):
    """Pulse Summary's 24 monthly customer flows once asked DuckDB for 48 "last order" columns per customer in one
    query and ran out of memory (at 10 M orders under the default 1 GB; here 60,000 customers under 24 MB): they
    now run a few periods per query, each month's figures equal to asking that month alone."""
    from datetime import date

    from sheets.warehouse.people import flow_stats

    path = tmp_path / "many.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers AS SELECT 'C' || i AS customer_id, DATE '2024-01-01' + (i % 700)::INT AS signup_date
                FROM range(60000) t(i);
            CREATE TABLE orders AS SELECT 'O' || i AS order_id, 'C' || (hash(i) % 60000) AS customer_id,
                TIMESTAMP '2024-01-01' + INTERVAL (hash(i * 7) % 1000) DAY AS order_date, 10.0 AS amount
                FROM range(300000) t(i);
            """
        )
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{path}", "memory_limit": "24MB"}})
    months = [(date(2024 + m // 12, m % 12 + 1, 1), date(2024 + (m + 1) // 12, (m + 1) % 12 + 1, 1)) for m in range(24)]
    with open_warehouse(open_sql_workbook(settings), {**NAMES, "complaints": "x", "spend": "x"}) as wh:
        series = flow_stats(wh, months, "inactivity", 90)
        for i in (0, 13, 23):
            assert series[(i, None)] == flow_stats(wh, [months[i]], "inactivity", 90)[(0, None)]
    assert series[(23, None)].start > 0


def test_24_trailing_years_of_orders_run_within_a_small_memory_limit(tmp_path):
    """CLV's trailing 12 months for each of Pulse Summary's 24 months once grouped 24 copies of the orders per customer
    in one query and ran DuckDB out of memory (a refresh at 10 M orders under the default 1 GB; here 60,000 customers
    under 24 MB): they now run two periods per query, each window's figures equal to asking it alone."""
    from datetime import datetime

    path = tmp_path / "many.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers AS SELECT 'C' || i AS customer_id FROM range(60000) t(i);
            CREATE TABLE orders AS SELECT 'O' || i AS order_id, 'C' || (hash(i) % 60000) AS customer_id,
                TIMESTAMP '2024-01-01' + INTERVAL (hash(i * 7) % 1000) DAY AS order_date, 10.0 AS amount
                FROM range(300000) t(i);
            """
        )
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{path}", "memory_limit": "24MB"}})
    years = [(datetime(2024 + m // 12, m % 12 + 1, 1), datetime(2025 + m // 12, m % 12 + 1, 1)) for m in range(24)]
    with open_warehouse(open_sql_workbook(settings), {**NAMES, "complaints": "x", "spend": "x"}) as wh:
        series = wh.basket_stats(years)
        for i in (0, 13, 23):
            assert series[(i, None)] == wh.basket_stats([years[i]])[(0, None)]
    assert series[(23, None)].purchasers > 0


def test_two_trailing_years_by_region_run_within_a_small_memory_limit(tmp_path):
    """CLV by region grouped the orders of two trailing years per (region, customer) after joining every order with
    its customer's region, and ran DuckDB out of its memory (10 M orders under 256 MB; here 120,000 customers under
    32 MB with two threads, 0 of 4 runs passed): the region now joins the per-customer figures (4 of 4 under 32 MB, 3
    of 4 even under 24 MB), and the regions add up to the whole."""
    from datetime import datetime

    path = tmp_path / "regions.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers AS SELECT 'C' || i AS customer_id, ['North', 'South', 'East', 'West'][1 + i % 4]
                AS region FROM range(120000) t(i);
            CREATE TABLE orders AS SELECT 'O' || i AS order_id, 'C' || (hash(i) % 130000) AS customer_id,
                TIMESTAMP '2024-01-01' + INTERVAL (hash(i * 7) % 1000) DAY AS order_date, 10.0 AS amount
                FROM range(600000) t(i);
            """
        )
    settings = parse_settings(
        {"source": {"kind": "sql", "url": f"duckdb://{path}", "memory_limit": "32MB", "threads": 2}}
    )
    years = [(datetime(2025, 7, 1), datetime(2026, 7, 1)), (datetime(2025, 4, 1), datetime(2026, 4, 1))]
    with open_warehouse(open_sql_workbook(settings), {**NAMES, "complaints": "x", "spend": "x"}) as wh:
        stats = wh.basket_stats(years, by="region")
    regions = [stats[(0, r)] for r in ("North", "South", "East", "West")]
    # Customers C120000…C129999 are only in Orders: in the whole, in no region.
    assert sum(r.orders for r in regions) < stats[(0, None)].orders
    assert sum(r.purchasers for r in regions) < stats[(0, None)].purchasers
    assert all(r.purchasers > 0 for r in regions)
