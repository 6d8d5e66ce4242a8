"""Differential (issue 18): the whole weekly digest of a SQL source with pushdown — quiet check, survey facts and
comments, movers, churn-risk highlights, trend and what-moved lines, besides its headline numbers — is built from the
warehouse's aggregates on DuckDB and on a real PostgreSQL server, equals the digest built from the rows (pushdown
off), and reads no snapshot."""

from __future__ import annotations

from datetime import date

import pytest

from bot.context import Context
from bot.digest.builder import build_digest
from config import Settings, parse_settings
from sheets.local import LocalWorkbook
from sheets.warehouse.source import open_sql_workbook
from tests.bot.test_warehouse_differential import (  # noqa: F401 — module-scoped fixtures
    demo_export,
    demo_in_postgres,
    demo_without_spend_or_complaints,
    differences,
    noon,
    pushed_context,
)

# (Monday of the report week, segment): the last full week before TODAY (2026-W47); 2026-W14 in plan=Pro, whose
# trailing 13 weeks moved NPS and churn enough for both what-moved lines; a week before the demo's data (quiet).
WEEKS = [
    (date(2026, 11, 16), None),
    (date(2026, 3, 30), "plan=Pro"),
    (date(2020, 1, 6), None),
]


@pytest.fixture(scope="module")
def in_memory(demo_export):  # noqa: F811
    """The digests of WEEKS built from the rows of the same DuckDB export (pushdown off), once for the module."""
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{demo_export}"}})
    ctx = Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True)
    return {(monday, segment): build_digest(ctx, monday, segment).to_json() for monday, segment in WEEKS}


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def url(request, demo_export):  # noqa: F811
    return f"duckdb://{demo_export}" if request.param == "duckdb" else request.getfixturevalue("demo_in_postgres")


def test_the_pushed_digest_equals_the_one_built_from_the_rows_without_reading_them(in_memory, url):
    ctx = pushed_context(url)
    pushed = {(monday, segment): build_digest(ctx, monday, segment).to_json() for monday, segment in WEEKS}
    differ = {key: found for key, got in pushed.items() if (found := differences(in_memory[key], got))}
    assert differ == {}
    assert ctx.snapshot_uses == 0  # no row was read: every part came from the warehouse
    latest, pro, quiet = (in_memory[key] for key in WEEKS)
    # Not vacuous: every part has something to compare.
    assert quiet["quiet"] and not any(quiet["new_rows"].values()) and quiet["kpis"] == []
    assert latest["new_rows"] == {"orders": 398, "responses": 135, "complaints": 11, "customers": 23, "spend": 0}
    surveys = latest["surveys"]
    assert surveys["responses"] == 135 and surveys["commented"] == 39 and surveys["new_promoters"] == 19
    assert len(surveys["promoter_comments"]) == len(surveys["detractor_comments"]) == 3
    assert len(latest["kpis"]) == 12 and len(latest["movers"]) == 3 and len(latest["trend"]) == 13
    assert latest["risk"]["at_risk"] > 0
    assert len(pro["what_moved"]) == 2 and pro["segment"] == {"plan": "Pro"} and pro["new_rows"]["orders"] > 0


def test_a_source_without_spend_or_complaints_digests_without_reading_rows(demo_without_spend_or_complaints):  # noqa: F811
    """Both tables are optional: their KPIs and rows are left out and each is one missing-tab warning in the issue
    count (8 recorded + 2), as when the rows are read."""
    url = f"duckdb://{demo_without_spend_or_complaints}"
    settings = parse_settings({"source": {"kind": "sql", "url": url}})
    memory = Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True)
    ctx = pushed_context(url)
    monday, segment = WEEKS[0]
    pushed = build_digest(ctx, monday, segment).to_json()
    assert differences(build_digest(memory, monday, segment).to_json(), pushed) == []
    assert ctx.snapshot_uses == 0
    assert pushed["data_issues"] == 8 + 2 and pushed["new_rows"]["complaints"] == pushed["new_rows"]["spend"] == 0
    assert "complaints" not in [k["metric"] for k in pushed["kpis"]] and pushed["movers"]


def test_the_pushed_digest_equals_the_workbooks(in_memory, demo_master):
    """The export's in-memory digest (the reference above) is the workbook's own digest."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    monday, segment = WEEKS[0]
    assert differences(build_digest(sheet, monday, segment).to_json(), in_memory[WEEKS[0]]) == []


def test_the_digests_own_queries_compile_for_bigquery():
    """The week's counts (Spend filtered by a segment column it has), the survey aggregate and the comments' LIMITed
    queries, for the whole book and a segment, compile to BigQuery's SQL (the trend, movers and risk run the pushed
    metrics' own queries, compiled in tests/bot/test_bigquery.py)."""
    import ibis
    import sqlglot

    from bot.digest.builder import KINDS, QUIET_TABS, comments_query, count_query, report_week_period, survey_query
    from metrics.periods import Period
    from sheets.warehouse.pushdown import Warehouse
    from tests.bot.test_pushdown import EXPORTED

    schemas = {
        **EXPORTED,
        "responses": {**EXPORTED["responses"], "comment": "string", "row": "int64"},
        "complaints": {"date": "timestamp", "customer_id": "string"},
        "spend": {"date": "timestamp", "amount": "float64", "region": "string"},
    }

    class Unbound:
        name = "bigquery"

        def table(self, name, database=None):
            return ibis.table(schemas[name], name=name, database=database)

    wh = Warehouse(Unbound(), {key: key for key in schemas}, {key: (key, f'"analytics"."{key}"') for key in schemas})
    week = report_week_period(date(2026, 11, 16))
    recent = Period(date(2026, 11, 9), week.end, "")
    for scope in ((), (("region", "North"),)):
        queries = [count_query(wh, tab, scope, week) for tab in QUIET_TABS]
        queries += [survey_query(wh, scope, week, recent), *(comments_query(wh, scope, recent, k) for k in KINDS)]
        for query in queries:
            sql = ibis.to_sql(query, dialect="bigquery")
            assert sqlglot.parse_one(sql, read="bigquery") is not None
        assert "LIMIT 3" in ibis.to_sql(queries[-1], dialect="bigquery")


def test_posting_the_digest_of_a_pushed_source_reads_no_rows(demo_export, slack, tmp_path):  # noqa: F811
    """`pulse digest --post`, `/pulse digest post`, the add-on and the scheduler read a stale snapshot before posting so
    the digest shows the sheet as it is; the warehouse is always as it is, so a pushed-down digest reads no row."""
    from bot.digest.post import post_now

    settings = parse_settings(
        {
            "source": {"kind": "sql", "url": f"duckdb://{demo_export}", "pushdown": True},
            "output": {"workbook": str(tmp_path / "summary.xlsx")},
            "digest": {"channels": [{"channel": "C1"}]},
        }
    )
    ctx = Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True)
    (result,) = post_now(ctx)
    assert result.outcome == "posted" and result.week == "2026-W47" and len(slack.messages("C1")) == 1
    assert ctx.cache._entry is None and ctx.snapshot_uses == 0  # no snapshot was read
