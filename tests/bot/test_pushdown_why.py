"""Issue 18: `/pulse why` (and so the alerts' "Why did it move?" button) on a pushed-down SQL source answers from the
warehouse's per-segment aggregates — the mix/rate split of each dimension, the best dimension, the sentence and the
correlations over the trailing months — without reading a row (`Context.snapshot_uses` stays 0), equal to the demo
workbook's in-memory answer on DuckDB and on PostgreSQL; a source whose tables cannot all be aggregated as they are
(rejected rows) reads the rows as before, with the same answer."""

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


def test_why_on_the_messy_workbook_answers_as_in_memory_without_reading_rows(messy_export):  # noqa: F811
    workbook, exported = messy_export
    # The hand-made messy workbook: rows the sheet rejected (recorded by the export, left out of its tables), no
    # Complaints table, a Spend without amount — none of which `why` needs the rows for.
    sheet = Context(Settings(), LocalWorkbook(workbook), clock=MESSY_CLOCK, one_shot=True)
    ctx = pushed_context_with(f"duckdb://{exported}", {}, MESSY_CLOCK)
    queries = ["why revenue 2026-Q1 by region", "why nps 2026-Q1"]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.snapshot_uses == 0


def copy_of(demo_export, tmp_path_factory, name: str, sql: str):  # noqa: F811
    """A copy of the demo's export changed by `sql`."""
    import shutil

    import duckdb

    copy = tmp_path_factory.mktemp(name) / "crm.duckdb"
    shutil.copy(demo_export, copy)
    with duckdb.connect(str(copy)) as db:
        db.execute(sql)
    return copy


def test_why_on_a_source_with_rejected_rows_reads_the_rows_with_the_same_answer(demo_export, tmp_path_factory):  # noqa: F811
    # One NPS answer scored 11 (outside 0–10): the validation rules reject a Responses row, so the correlations'
    # NPS and CSAT cannot be aggregated as they are and the whole answer comes from the rows, as before.
    bad = "INSERT INTO responses SELECT * REPLACE (11 AS score) FROM responses WHERE upper(survey) = 'NPS' LIMIT 1"
    url = f"duckdb://{copy_of(demo_export, tmp_path_factory, 'bad-score', bad)}"
    memory = pushed_context_with(url, {"source": {"kind": "sql", "url": url, "pushdown": False}})
    ctx = pushed_context(url)
    q = "why revenue 2026-Q3 by region"
    assert differences(render_json(answer(q, memory)), render_json(answer(q, ctx))) == []
    assert ctx.snapshot_uses > 0


@pytest.fixture(scope="module")
def without_complaints(demo_export, tmp_path_factory):  # noqa: F811
    """The demo's export without its Complaints table (a source that keeps no complaints)."""
    return copy_of(demo_export, tmp_path_factory, "no-complaints", "DROP TABLE complaints")


def test_why_without_a_complaints_table_answers_from_the_warehouse_with_that_correlation_undefined(without_complaints):
    url = f"duckdb://{without_complaints}"
    memory = pushed_context_with(url, {"source": {"kind": "sql", "url": url, "pushdown": False}})
    ctx = pushed_context(url)
    q = "why nps 2026-Q3 by region"
    expected, got = render_json(answer(q, memory)), render_json(answer(q, ctx))
    assert differences(expected, got) == []
    assert ctx.snapshot_uses == 0 and memory.snapshot_uses > 0
    # No complaint rate without Complaints: n/a in each of the 12 months × 4 regions, so no pair to correlate (n 0),
    # never a rate of 0 per month; NPS, CSAT and repeat rate still correlate over 48 month × region values.
    by_metric = {c["metric"]: c for c in got["correlations"]}
    assert by_metric["complaints"] == {"metric": "complaints", "rho": None, "p_value": None, "n": 0}
    assert by_metric["repeat"]["n"] == 48 and by_metric["repeat"]["rho"] is not None
