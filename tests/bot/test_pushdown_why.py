"""Issue 18: `/pulse why` (and so the alerts' "Why did it move?" button) on a pushed-down SQL source answers from the
warehouse's per-segment aggregates — the mix/rate split of each dimension, the best dimension, the sentence and the
correlations over the trailing months — without reading a row (`Context.snapshot_uses` stays 0), equal to the demo
workbook's in-memory answer on DuckDB and on PostgreSQL; a source whose tables cannot all be aggregated as they are
reads the rows as before, with the same answer."""

from __future__ import annotations

import pytest

from bot.context import Context
from bot.query import answer
from bot.render.json import render_json
from config import Settings
from sheets.local import LocalWorkbook
from tests.bot.test_warehouse_differential import (  # noqa: F401 - module-scoped fixtures
    MESSY_CLOCK,
    demo_export,
    demo_in_postgres,
    differences,
    messy_export,
    noon,
    pushed_context,
    pushed_context_with,
)

QUERIES = [
    "why revenue 2026-Q3",
    "why revenue 2026-Q3 by region",
    "why churn 2026-10",
    "why churn 2026-10 by region",
    "why nps",  # the default period, every dimension tried
    "why nps 2026-Q3 by region",
    "why nps 2026-Q3 vs 2026-Q1 by plan where region=North",
    "why aov 2026-10 by plan",  # a ratio: weighted by each segment's orders
    "why revenue by colour",  # an unknown dimension: the same error
]


@pytest.fixture(scope="module")
def memory(demo_master):
    """The demo workbook's JSON answers to QUERIES, once for the module."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    return {q: render_json(answer(q, sheet)) for q in QUERIES}


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def url(request, demo_export):  # noqa: F811
    """The demo's export as a DuckDB file, or copied into the test PostgreSQL server."""
    return f"duckdb://{demo_export}" if request.param == "duckdb" else request.getfixturevalue("demo_in_postgres")


def test_why_answers_as_in_memory_without_reading_rows(memory, url):
    ctx = pushed_context(url)
    differ = {q: d for q in QUERIES if (d := differences(memory[q], render_json(answer(q, ctx))))}
    for q, d in differ.items():
        print("DIFF", q, d[:6])
    assert differ == {}
    assert ctx.snapshot_uses == 0  # every split, sentence and correlation from the warehouse's aggregates
    revenue = memory["why revenue 2026-Q3 by region"]
    # A total: each region's part is its own change, and the parts add up to the change exactly.
    assert revenue["by"] == "region" and len(revenue["parts"]) == 4
    assert sum(p["total"] for p in revenue["parts"]) + revenue["residual"] == pytest.approx(revenue["change"])
    for p in revenue["parts"]:
        assert p["total"] == pytest.approx(p["value_after"] - p["value_before"])
    nps = memory["why nps 2026-Q3 by region"]
    assert len(nps["correlation_months"]) == 12  # 12 months × 4 regions of retention against NPS, CSAT…
    assert [c["n"] for c in nps["correlations"]] and max(c["n"] for c in nps["correlations"]) <= 48
    assert memory["why revenue by colour"]["error"].startswith("unknown dimension 'colour'")


def test_why_on_a_source_with_an_unpushable_table_reads_the_rows_with_the_same_answer(messy_export):  # noqa: F811
    workbook, exported = messy_export
    # The messy export has no Complaints table (the complaint rate of `why`'s correlations needs the rows) and some
    # of its tables hold rows the validation rules reject: `why` answers from the snapshot, as before.
    sheet = Context(Settings(), LocalWorkbook(workbook), clock=MESSY_CLOCK, one_shot=True)
    ctx = pushed_context_with(f"duckdb://{exported}", {}, MESSY_CLOCK)
    queries = ["why revenue 2026-Q1 by region", "why nps 2026-Q1"]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.snapshot_uses > 0
