"""Differential (issue 18): a refresh of a SQL source pushed down to its engine (`[source] pushdown = true`) builds
every owned tab — Pulse Summary, Cohorts, Customers, Survival, Data Issues — from the warehouse's aggregates, equal
to the tabs built in memory from the same source with `pushdown = false`, and never asks for the snapshot."""

from __future__ import annotations

import pytest

from bot.context import Context
from bot.tabs import CUSTOMERS_HEADER, TabSource, build_tabs, customers_tab
from config import Settings, parse_settings
from sheets.local import LocalWorkbook
from sheets.snapshot import load_snapshot
from sheets.warehouse.source import open_sql_workbook
from sheets.workbook import COHORTS_TAB, CUSTOMERS_TAB, ISSUES_TAB, SUMMARY_TAB, SURVIVAL_TAB
from tests.bot.conftest import TODAY
from tests.bot.test_pushdown import messy_contexts, messy_db  # noqa: F401 — fixture
from tests.bot.test_warehouse_differential import (  # noqa: F401 — module-scoped fixtures
    demo_export,
    demo_in_postgres,
    demo_without_spend_or_complaints,
    differences,
    noon,
    pushed_context,
)

TABS = (SUMMARY_TAB, COHORTS_TAB, ISSUES_TAB, CUSTOMERS_TAB, SURVIVAL_TAB)


@pytest.fixture(scope="module")
def in_memory(demo_export):  # noqa: F811
    """The tabs, month count and issue count a refresh of the demo's export builds in memory (pushdown off)."""
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{demo_export}"}})
    ctx = Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True)
    return build_tabs(ctx)


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def url(request, demo_export):  # noqa: F811
    return f"duckdb://{demo_export}" if request.param == "duckdb" else request.getfixturevalue("demo_in_postgres")


def test_a_pushed_refresh_builds_every_tab_as_in_memory_without_the_snapshot(in_memory, url):
    expected, months, issues = in_memory
    ctx = pushed_context(url)
    tabs, got_months, got_issues = build_tabs(ctx)
    assert sorted(tabs) == sorted(TABS) == sorted(expected)
    for name in TABS:
        assert tabs[name].header == expected[name].header, name
        assert differences(expected[name].rows, tabs[name].rows) == [], name
        assert (tabs[name].formats, tabs[name].frozen_cols) == (expected[name].formats, expected[name].frozen_cols)
    # 24 months (2024-11 … 2026-10 before TODAY 2026-11-25); the export's 8 recorded rejected rows (1 customer,
    # 4 orders, 3 responses) are the issues; the database rule (234 refunds, info) is listed first, uncounted.
    assert (got_months, got_issues) == (months, issues) == (24, 8)
    assert len(tabs[ISSUES_TAB].rows) == 1 + 8 and len(tabs[CUSTOMERS_TAB].rows) == 2000
    assert tabs[COHORTS_TAB].rows and tabs[SURVIVAL_TAB].rows
    assert ctx.snapshot_uses == 0  # no row was asked for: every tab and both counts came from the warehouse


def test_a_refresh_of_a_source_without_spend_or_complaints_reads_no_row(demo_without_spend_or_complaints):  # noqa: F811
    url = f"duckdb://{demo_without_spend_or_complaints}"
    settings = parse_settings({"source": {"kind": "sql", "url": url}})
    memory = TabSource(Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True))
    ctx = pushed_context(url)
    pushed = TabSource(ctx)
    months = pushed.months()
    summary, (issues, n) = pushed.summary(months), pushed.issues()
    assert [m.label for m in months] == [m.label for m in memory.months()] and len(months) == 24
    assert differences(memory.summary(months).rows, summary.rows) == []
    reference, count = memory.issues()
    assert issues.rows == reference.rows and n == count == 8 + 2  # the recorded 8, "tab 'Spend' not found" (Complaints)
    # complaints, resolution, CAC and LTV:CAC need the dropped tables: n/a on every month, as in memory, from no row
    cac = summary.header.index("Customer acquisition cost (USD)")
    assert {row[cac] for row in summary.rows} == {None}
    assert ctx.snapshot_uses == 0


def test_a_refresh_of_tables_with_rejected_rows_reads_them(messy_db):  # noqa: F811
    ctx, reference = messy_contexts(messy_db)
    tabs, months, issues = build_tabs(ctx)
    assert (months, issues) == build_tabs(reference)[1:] and issues > 0
    assert {name: tab.rows for name, tab in tabs.items()} == {n: t.rows for n, t in build_tabs(reference)[0].items()}
    assert ctx.snapshot_uses == 1  # duplicate ids, a text date: read once and validated in memory


def test_the_customers_tab_keeps_the_customers_ranked_first_up_to_its_cap(demo_master):
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    t, o = sheet.tables(sheet.snapshot().snapshot), sheet.options()
    full = customers_tab(t, TODAY, o)
    assert full is not None and len(full.rows) == 2000  # under the cap: every customer, no note
    rank = CUSTOMERS_HEADER.index("Risk rank")
    ranked = sorted((r for r in full.rows if r[rank] is not None), key=lambda r: r[rank])
    assert len(ranked) == 13  # 263 customers below P(alive) 0.5, 250 of them already churned: 263 - 250 = 13
    capped = customers_tab(t, TODAY, o, limit=5)
    assert capped is not None
    # 2,000 customers, 5 kept: 1,995 left out, said in the first row; the 5 are risk ranks 1 to 5, in that order.
    assert capped.rows[0][:2] == [
        "(note)",
        "1,995 more customers not listed: a tab holds at most 5 — those ranked by risk first, then by predicted CLV",
    ]
    assert capped.rows[1:] == ranked[:5]
    # A cap past the ranked ones fills up with the unranked customers of highest predicted CLV (ties by id).
    clv = CUSTOMERS_HEADER.index("Predicted CLV")
    rest = sorted((r for r in full.rows if r[rank] is None), key=lambda r: (r[clv] is None, -(r[clv] or 0), r[0]))
    wider = customers_tab(t, TODAY, o, limit=15)  # 13 ranked + 2
    assert wider is not None and wider.rows[1:] == ranked + rest[:2]


def test_pulse_refresh_writes_the_in_memory_tabs_from_the_warehouse(in_memory, demo_export, tmp_path, monkeypatch):  # noqa: F811
    import bot.context
    from bot.cli import main

    reads: list[str] = []

    def counted(workbook, *args, **kwargs):  # the real read, counted
        reads.append(workbook.describe())
        return load_snapshot(workbook, *args, **kwargs)

    monkeypatch.setattr(bot.context, "load_snapshot", counted)
    output, config = tmp_path / "summary.xlsx", tmp_path / "pulse.toml"
    config.write_text(
        f'[source]\nkind = "sql"\nurl = "duckdb://{demo_export}"\npushdown = true\n[output]\nworkbook = "{output}"\n',
        encoding="utf-8",
    )
    assert main(["refresh", "--config", str(config), "--today", TODAY.isoformat()]) == 0
    expected, _, _ = in_memory
    written = LocalWorkbook(output)
    for name in TABS:  # an .xlsx keeps no empty text: blank cells on both sides
        cells = written.read_owned(name)
        assert cells is not None and cells[0] == expected[name].header, name
        assert differences(blanked(cells[1:]), blanked(expected[name].rows)) == [], name
    assert reads == []  # no row was loaded


def blanked(rows: list[list]) -> list[list]:
    return [[None if c == "" else c for c in row] for row in rows]
