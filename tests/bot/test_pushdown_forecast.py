"""Issue 18: `forecast <metric> [where d=v]` on a pushed-down SQL source (`[source] pushdown = true`) builds its monthly
series from the warehouse's monthly aggregates — one query per family for all months — and answers exactly as the
workbook does in memory (forecast values, intervals, backtest, MAPE, notes, labels), without reading a row; a table
whose rows the validation rules reject reads the snapshot as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from config import Settings, parse_settings
from sheets.local import LocalWorkbook
from sheets.warehouse.source import open_sql_workbook
from tests.bot.test_pushdown_series import odd_db, odd_url, url  # noqa: F401 - module-scoped fixtures
from tests.bot.test_warehouse_differential import (  # noqa: F401 - module-scoped fixtures
    demo_export,
    demo_in_postgres,
    differences,
    noon,
    pushed_context,
)

# A basket metric (whole book and one plan), a survey metric, a customer metric (the customer flow, one region), a
# spend metric (new customers and the spend spread over the months), and a where naming an unknown value.
QUERIES = [
    "forecast revenue",
    "forecast orders where plan=Pro",
    "forecast nps",
    "forecast customers where region=North",
    "forecast cac",
    "forecast revenue where region=Nowhere",
]


@pytest.fixture(scope="module")
def memory(demo_master):
    """The demo workbook's JSON answers to QUERIES, in memory, once for the module."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    return {q: render_json(answer(q, sheet)) for q in QUERIES}


def test_forecasts_answer_as_in_memory_without_reading_rows(memory, url):  # noqa: F811
    ctx = pushed_context(url)
    got = {q: render_json(answer(q, ctx)) for q in QUERIES}
    assert {q: d for q in QUERIES if (d := differences(memory[q], got[q]))} == {}
    assert ctx.snapshot_uses == 0  # every series from the warehouse's monthly aggregates: not one row read
    revenue = got["forecast revenue"]
    # The demo's orders start in November 2024 (a partial month, left out); TODAY is 2026-11-25: the history is the
    # 23 full months 2024-12 … 2026-10, and the forecast the next three.
    assert list(revenue["history"]) == [f"2024-{m}" for m in ("12",)] + [f"2025-{m:02d}" for m in range(1, 13)] + [
        f"2026-{m:02d}" for m in range(1, 11)
    ]
    assert [p["period"] for p in revenue["forecast"]] == ["2026-11", "2026-12", "2027-01"]
    assert all(len(got[q]["forecast"]) == 3 for q in QUERIES[:-1])
    # A where narrows the series to North's customers, month by month.
    north = got["forecast customers where region=North"]["history"]
    assert north and all(v > 0 for v in north.values())
    assert got["forecast revenue where region=Nowhere"]["error"].startswith("no customers with region = 'Nowhere'")


ODD_CLOCK = lambda: datetime(2026, 3, 1, 12, tzinfo=UTC)  # noqa: E731
# The odd database's rows (tests/bot/test_pushdown_series.py): signups C1 2025-10-01, C2 2025-10-15 (South),
# C4 2025-12-05; orders 2025-10-03 … 2026-02-10; today 2026-03-01, so the full months end with February 2026.
#  - revenue: the first order (2025-10-03) leaves October partial: November … February = 4 months;
#  - customers: the first signup (2025-10-01) starts October: October … February = 5 months;
#  - customers where region=South: C2's signup (2025-10-15) and orders (2025-10-20 on): November … February = 4;
#  - resolution: the first complaint (2025-11-05) leaves November partial; December has no complaint (n/a), January
#    and February one each: 2 months with a value;
#  - cac: no Spend table, so n/a every month (never 0): 0.
ODD = {
    "forecast revenue": 4,
    "forecast customers": 5,
    "forecast customers where region=South": 4,
    "forecast resolution": 2,
    "forecast cac": 0,
}


def test_a_short_series_is_refused_with_the_months_the_data_covers(odd_db, odd_url):  # noqa: F811
    plain = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{odd_db}"}})
    reference = Context(plain, open_sql_workbook(plain), clock=ODD_CLOCK, one_shot=True)
    pushed = parse_settings({"source": {"kind": "sql", "url": odd_url, "pushdown": True}})
    ctx = Context(pushed, open_sql_workbook(pushed), clock=ODD_CLOCK, one_shot=True)
    for q, months in ODD.items():
        expected, got = render_json(answer(q, reference)), render_json(answer(q, ctx))
        assert got == expected, q
        metric = q.split()[1]
        assert got["error"] == (
            f"cannot forecast {metric}: a forecast needs at least 12 past periods with values; this series has "
            f"{months} (monthly values, full months only)"
        ), q
    assert ctx.snapshot_uses == 0
    # A response outside its scale is rejected: the NPS series is read from the rows, exactly as before.
    assert render_json(answer("forecast nps", ctx)) == render_json(answer("forecast nps", reference))
    assert ctx.snapshot_uses > 0


def test_the_scoped_monthly_queries_and_first_day_compile_for_bigquery():
    import sqlglot
    from ibis import to_sql

    from sheets.warehouse import series
    from sheets.warehouse.pushdown import Warehouse
    from tests.bot.test_pushdown import EXPORTED, UnboundTables

    found = {key: (key, f'"analytics"."{key}"') for key in EXPORTED}
    wh = Warehouse(UnboundTables(), {key: key for key in EXPORTED}, found)
    scope = (("plan", "Pro"),)
    orders = wh._scoped("orders", scope, None)  # what `Warehouse.first_day` asks the earliest order date of
    queries = [
        series.monthly_basket_query(wh, 2026 * 12, 24, scope),
        series.monthly_score_query(wh, 2026 * 12, 24, scope),
        orders.aggregate(first=orders.order_date.min()),
    ]
    for query in queries:
        assert sqlglot.parse_one(to_sql(query, dialect="bigquery"), read="bigquery") is not None
