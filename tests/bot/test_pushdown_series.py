"""Differential: the answers that need more than one period's aggregate — churn risk and predicted CLV (the BG/NBD +
Gamma-Gamma per-customer summary), cohorts, survival — pushed down to DuckDB and to a real PostgreSQL answer as the
workbook does in memory, without reading a snapshot."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from config import Settings
from metrics.clv.summary import customer_totals
from sheets.local import LocalWorkbook
from sheets.warehouse.pushdown import open_warehouse
from sheets.warehouse.series import customer_totals as pushed_totals
from tests.bot.conftest import TODAY
from tests.bot.test_pushdown import messy_db  # noqa: F401 — fixture
from tests.bot.test_warehouse_differential import (  # noqa: F401 — module-scoped fixtures
    demo_export,
    demo_in_postgres,
    differences,
    noon,
    pushed_context,
)
from tests.postgres import source_url

QUERIES = ["risk", "risk where plan=Pro", "risk by region"]
NAMES = {"customers": "customers", "orders": "orders", "responses": "responses"}


@pytest.fixture(scope="module")
def memory(demo_master):
    """The demo workbook's context and its JSON answers to QUERIES, once for the module."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    return sheet, {q: render_json(answer(q, sheet)) for q in QUERIES}


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def url(request, demo_export):  # noqa: F811
    return f"duckdb://{demo_export}" if request.param == "duckdb" else request.getfixturevalue("demo_in_postgres")


def test_the_customer_summary_is_one_group_by_with_the_in_memory_figures(memory, url):
    sheet, _ = memory
    orders = sheet.tables(sheet.snapshot().snapshot).orders
    expected = customer_totals(orders, TODAY)
    ctx = pushed_context(url)
    with open_warehouse(ctx.workbook, NAMES) as wh:
        got = pushed_totals(wh, TODAY)
    # One row per customer with a purchase: 2,000 demo customers, each with orders; refunds counted apart.
    assert len(got) == len(expected) > 1000 and got.attrs == expected.attrs
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_risk_and_predicted_clv_answer_as_in_memory_without_reading_rows(memory, url):
    _, expected = memory
    ctx = pushed_context(url)
    differ = {q: d for q in QUERIES if (d := differences(expected[q], render_json(answer(q, ctx))))}
    assert differ == {}
    assert len(expected["risk by region"]["segments"]) == 4 and expected["risk"]["at_risk"] > 0
    assert ctx.cache._entry is None  # no snapshot was read


TABLES = [
    "cohorts 2026-Q3",
    "cohorts 2026-Q3 by region",
    "cohorts 2026-Q3 where plan=Pro",
    "survival",
    "survival by plan",
]
TABLES += ["survival where region=North"]


@pytest.fixture(scope="module")
def memory_tables(demo_master):
    """The demo workbook's JSON answers to TABLES, once for the module."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    return {q: render_json(answer(q, sheet)) for q in TABLES}


def test_cohorts_and_survival_answer_as_in_memory_without_reading_rows(memory_tables, url):
    ctx = pushed_context(url)
    differ = {q: d for q in TABLES if (d := differences(memory_tables[q], render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None  # no snapshot was read
    assert len(memory_tables["survival by plan"]["medians"]) == 4  # all customers and 3 plans
    assert memory_tables["cohorts 2026-Q3 by region"]["rows"]


@pytest.fixture(scope="module")
def memory_series(memory):
    """The demo's 24 summary months and every SUMMARY metric's in-memory series (`metrics.engine.evaluate`), once."""
    from bot.tabs import summary_months
    from metrics.engine import evaluate
    from metrics.registry import METRICS, SUMMARY

    sheet, _ = memory
    t, o = sheet.tables(sheet.snapshot().snapshot), sheet.options()
    months = summary_months(t, TODAY)
    return t, o, months, {name: [evaluate(METRICS[name], t, p, o) for p in months] for name in SUMMARY}


def series_differences(expected, known) -> dict:
    """Per metric, where its pushed-down months differ from the in-memory ones (value, n, interval, previous, notes,
    details… of `MetricResult.to_json`, floats to 1e-9 relative)."""
    out = {}
    for name, series in known.items():
        found = [d for a, b in zip(expected[name], series, strict=True) for d in differences(a.to_json(), b.to_json())]
        if found:
            out[name] = found[:3]
    return out


def recorded_queries(ctx: Context, monkeypatch) -> list:
    """The Ibis expressions the context's warehouse runs from now on; the source's facts (the validation rules, run
    once per `cache_seconds`) are checked first and the warehouse's remembered aggregates forgotten."""
    from bot.pushdown import _facts
    from metrics.schema import SOURCE_TABS

    names = {key: getattr(ctx.settings.tabs, key) for key in SOURCE_TABS}
    with open_warehouse(ctx.workbook, names) as wh:
        _facts(ctx, wh)
        wh._memo.clear()
        backend = type(wh.backend)
    ran: list = []
    for method in ("to_pyarrow", "execute"):
        original = getattr(backend, method)

        def recording(self, expr, *args, _original=original, **kwargs):
            if not ran or ran[-1] is not expr:  # one backend method may call the other with the same expression
                ran.append(expr)
            return _original(self, expr, *args, **kwargs)

        monkeypatch.setattr(backend, method, recording)
    return ran


def test_the_summary_series_is_one_query_per_family_with_the_in_memory_numbers(memory_series, url, monkeypatch):
    from bot.pushed_series import monthly_results
    from bot.tabs import summary_tab
    from metrics.registry import SUMMARY
    from sheets.warehouse.people import FLOW_PERIODS
    from sheets.warehouse.pushdown import BASKET_PERIODS

    t, o, months, expected = memory_series
    ctx = pushed_context(url)
    ran = recorded_queries(ctx, monkeypatch)
    known = monthly_results(ctx, months, o)
    # Every one of the 25 summary metrics, 24 months each: the orders aggregate (7), the survey histograms (3), the
    # customer flow and its buyers (7), NRR/GRR, complaints, resolution, renewal, CAC, CLV and LTV:CAC.
    assert set(known) == set(SUMMARY) and len(SUMMARY) == 25
    # From 10 query families, each for all 24 months: orders by month (its order counts are also the complaint rate's
    # denominator), survey scores by month, the customer flow (new, active, churn…, lapsed and returning buyers,
    # CAC's new customers), revenue in each month and the one before (NRR, GRR), complaints filed, their resolution,
    # renewals, spend, and CLV's trailing 12 months: their orders and their customer flow (the lifetime). To bound
    # the engine's memory the two customer flows run FLOW_PERIODS months per query and the trailing years' orders
    # BASKET_PERIODS: 7 + 2 × 24 / 4 + 24 / 2 = 31 queries.
    assert (FLOW_PERIODS, BASKET_PERIODS) == (4, 2)
    assert len(ran) == 7 + 2 * 24 // FLOW_PERIODS + 24 // BASKET_PERIODS
    assert len(months) == 24 and all(len(series) == 24 for series in known.values())
    assert series_differences(expected, known) == {}
    plain, pushed = summary_tab(t, months, o, known=expected), summary_tab(t, months, o, known=known)
    assert plain.header == pushed.header and differences(plain.rows, pushed.rows) == []
    # The demo has data for all of them: each series has months with a value (not n/a everywhere).
    assert all(any(r.value is not None for r in series) for series in known.values())


def test_every_series_query_compiles_for_bigquery():
    import sqlglot
    from ibis import to_sql

    from sheets.warehouse import series
    from sheets.warehouse.pushdown import Warehouse
    from tests.bot.test_pushdown import EXPORTED, UnboundTables

    found = {key: (key, f'"analytics"."{key}"') for key in EXPORTED}
    wh = Warehouse(UnboundTables(), {key: key for key in EXPORTED}, found)
    m0 = 2026 * 12  # 2026-01
    queries = [
        series.totals_query(wh, TODAY),
        series.totals_query(wh, TODAY, (("plan", "Pro"),)),
        series.days_query(wh, TODAY, (), "region"),
        series.cohort_query(wh, m0, 3, 4, (("plan", "Pro"),), "region"),
        series.monthly_basket_query(wh, m0, 24),
        series.monthly_score_query(wh, m0, 24),
    ]
    for query in queries:
        assert sqlglot.parse_one(to_sql(query, dialect="bigquery"), read="bigquery") is not None


def test_tables_with_rejected_rows_answer_cohorts_survival_and_risk_from_the_snapshot(messy_db):  # noqa: F811
    from datetime import UTC, datetime

    from config import parse_settings
    from sheets.warehouse.source import open_sql_workbook

    clock = lambda: datetime(2026, 3, 1, 12, tzinfo=UTC)  # noqa: E731
    url = f"duckdb://{messy_db}"
    pushed = parse_settings({"source": {"kind": "sql", "url": url, "pushdown": True}})
    plain = parse_settings({"source": {"kind": "sql", "url": url}})
    for q in ("cohorts 2026-Q1", "survival", "risk"):
        ctx = Context(pushed, open_sql_workbook(pushed), clock=clock, one_shot=True)
        reference = Context(plain, open_sql_workbook(plain), clock=clock, one_shot=True)
        assert render_json(answer(q, ctx)) == render_json(answer(q, reference)), q
        assert ctx.cache._entry is not None, q  # duplicate ids, a text date: read and validated in memory


@pytest.fixture(scope="module")
def odd_db(tmp_path_factory):
    """A hand-made database: no Spend and no Subscriptions table, a response outside its scale (rejected), complaint
    statuses in odd spellings, one resolved before it was filed and one without a customer; orders from 2025-10 to
    2026-02 with a refund and a reactivation after churn."""
    import duckdb

    path = tmp_path_factory.mktemp("odd") / "odd.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers (customer_id VARCHAR, signup_date TIMESTAMP, churned_on TIMESTAMP, region VARCHAR);
            INSERT INTO customers VALUES ('C1', '2025-10-01', NULL, 'North'),
                ('C2', '2025-10-15', '2026-01-10', 'South'), ('C3', NULL, NULL, 'North'),
                ('C4', '2025-12-05', NULL, NULL);
            CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, order_date TIMESTAMP, amount DOUBLE);
            INSERT INTO orders VALUES ('O1', 'C1', '2025-10-03', 100), ('O2', 'C2', '2025-10-20', 50),
                ('O3', 'C1', '2025-11-04', 80), ('O4', 'C3', '2025-11-10', 40), ('O5', 'C2', '2025-11-12', 35),
                ('O6', 'C1', '2025-11-28', 15), ('O7', 'C2', '2025-12-01', 60), ('O8', 'C1', '2025-12-15', -20),
                ('O9', 'C4', '2025-12-06', 30), ('O10', 'C1', '2026-01-05', 90), ('O11', 'C3', '2026-02-02', 70),
                ('O12', 'C2', '2026-02-10', 25);
            CREATE TABLE responses (date TIMESTAMP, survey VARCHAR, score BIGINT, customer_id VARCHAR);
            INSERT INTO responses VALUES ('2025-11-10', 'NPS', 9, 'C1'), ('2026-01-10', 'NPS', 12, 'C2');
            CREATE TABLE complaints (date TIMESTAMP, customer_id VARCHAR, status VARCHAR, resolved_on TIMESTAMP);
            INSERT INTO complaints VALUES ('2025-11-05', 'C1', ' Resolved ', '2025-11-07'),
                ('2025-11-20', 'C3', 'CLOSED', '2025-11-19'), ('2025-11-25', 'C2', 'open', NULL),
                ('2026-01-12', 'C4', 'resolved', '2026-01-20'), ('2026-02-03', NULL, 'Closed', NULL);
            """
        )
    return path


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def odd_url(request, odd_db):
    return source_url(request, request.param, odd_db)


def test_the_summary_series_on_odd_data_is_na_without_a_table_and_leaves_out_rejected_rows(odd_db, odd_url):
    from dataclasses import replace
    from datetime import UTC, datetime

    from bot.pushed_series import monthly_results
    from bot.tabs import summary_months
    from config import parse_settings
    from metrics.engine import evaluate
    from metrics.registry import METRICS, SUMMARY
    from sheets.warehouse.source import open_sql_workbook

    clock = lambda: datetime(2026, 3, 1, 12, tzinfo=UTC)  # noqa: E731
    plain = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{odd_db}"}})
    reference = Context(plain, open_sql_workbook(plain), clock=clock, one_shot=True)
    t, o = reference.tables(reference.snapshot().snapshot), reference.options()
    months = summary_months(t, clock().date())
    assert [m.start.isoformat() for m in (months[0], months[-1])] == ["2025-10-01", "2026-02-01"] and len(months) == 5
    pushed = parse_settings({"source": {"kind": "sql", "url": odd_url, "pushdown": True}})
    ctx = Context(pushed, open_sql_workbook(pushed), clock=clock, one_shot=True)
    known = monthly_results(ctx, months, o)
    # Left out, so computed in memory: the surveys (a score of 12 on NPS's 0–10 is rejected).
    assert set(SUMMARY) - set(known) == {"nps", "csat", "csi"}
    expected = {name: [evaluate(METRICS[name], t, p, o) for p in months] for name in known}
    assert series_differences(expected, known) == {}
    # CAC and LTV:CAC (no Spend table) and renewal (no Subscriptions table) are n/a with what to add, as in memory.
    for name, fix in (("cac", "add a Spend tab"), ("ltv-cac", "add a Spend tab"), ("renewal", "add a Subscriptions")):
        assert all(r.value is None and r.notes[0].startswith(fix) for r in known[name]), name
    november, february = 1, 4
    resolution = known["resolution"][november]
    # November: 3 complaints filed; " Resolved " and "CLOSED" are resolved statuses once trimmed and lower-cased, "open"
    # is not: 2 / 3 = 66.7 %. Days to resolve: 2 (11-05 → 11-07) and −1 (11-20 → 11-19, left out): median 2.
    assert (resolution.numerator, resolution.denominator) == (2, 3)
    assert resolution.value == pytest.approx(100 * 2 / 3)
    assert resolution.details["median_days_to_resolve"] == 2.0
    assert resolution.notes[0] == "1 complaints resolved before they were filed — left out of the median"
    # Complaints per order: November 3 complaints / 4 orders (O3, O4, O5, O6) = 75 %; February the complaint without a
    # customer over O11, O12: 1 / 2 = 50 %, and it is resolved ("Closed"): 1 / 1.
    assert [known["complaints"][i].value for i in (november, february)] == [75.0, 50.0]
    assert known["resolution"][february].value == 100.0
    # A CLV lifetime from the survival curve is pushed down too: each month's curve from one per-customer query.
    lifetime = replace(o, clv_lifetime_years="survival")
    survival = monthly_results(ctx, months, lifetime)
    assert set(survival) == set(known)
    expected = {name: [evaluate(METRICS[name], t, p, lifetime) for p in months] for name in ("clv", "ltv-cac")}
    assert series_differences(expected, {name: survival[name] for name in expected}) == {}
    assert "survival" in {r.details["lifetime_source"] for r in survival["clv"]}  # a month's curve has a churn event


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_the_customer_summary_is_in_pythons_string_order_whatever_the_engine(engine, tmp_path, request):
    # Python orders strings by code point (UTF-8 bytes): "B" < "Z" < "a1" < "b" < "é"; a collation may not.
    path = tmp_path / "ids.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE customers AS SELECT * FROM (VALUES ('b'), ('é'), ('B'), ('a1'), ('Z')) t(customer_id);
            CREATE TABLE orders AS SELECT 'O' || customer_id AS order_id, customer_id,
                TIMESTAMP '2026-01-05' AS order_date, 10.0::DOUBLE AS amount FROM customers;
            """
        )
    ctx = pushed_context(source_url(request, engine, path))
    with open_warehouse(ctx.workbook, NAMES) as wh:
        got = pushed_totals(wh, TODAY)
    assert list(got.index) == ["B", "Z", "a1", "b", "é"] == sorted(got.index)
