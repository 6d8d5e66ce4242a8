"""Differential: the answers that need more than one period's aggregate — churn risk and predicted CLV (the BG/NBD +
Gamma-Gamma per-customer summary), cohorts, survival — pushed down to DuckDB and to a real PostgreSQL answer as the
workbook does in memory, without reading a snapshot."""

from __future__ import annotations

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


def test_the_summary_series_is_one_query_per_family_with_the_in_memory_numbers(memory, url):
    from bot.pushed_series import monthly_results
    from bot.tabs import summary_months, summary_tab

    sheet, _ = memory
    t, o = sheet.tables(sheet.snapshot().snapshot), sheet.options()
    months = summary_months(t, TODAY)
    known = monthly_results(pushed_context(url), months, o)
    # Orders aggregate, survey histograms and customer flow: 7 + 3 + 7 of the 25 summary metrics, 24 months each.
    expected = {"revenue", "orders", "purchasers", "aov", "frequency", "repeat", "refunds", "nps", "csat", "csi"}
    assert set(known) == expected | {"customers", "new", "growth", "retention", "churn", "lapsed", "returning"}
    assert len(months) == 24 and all(len(series) == 24 for series in known.values())
    plain, pushed = summary_tab(t, months, o), summary_tab(t, months, o, known=known)
    assert plain.header == pushed.header and differences(plain.rows, pushed.rows) == []


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
