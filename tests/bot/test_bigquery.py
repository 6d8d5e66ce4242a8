"""BigQuery: every query the pushed-down metrics run compiles to BigQuery's SQL (recorded while they answer on the
demo's DuckDB export, so a metric pushed down later is covered without a change here), and a live test that runs
only when PULSE_BIGQUERY_TEST_URL and Google credentials are set."""

from __future__ import annotations

import importlib.util
import os

import pytest

from bot.context import Context
from bot.pushdown import PUSHED
from bot.query import answer
from bot.render.json import render_json
from config import Settings
from sheets.local import LocalWorkbook
from tests.bot.test_warehouse_differential import demo_export, noon  # noqa: F401 - demo_export is a fixture
from tests.bot.test_warehouse_differential import pushed_context as pushed


def test_every_query_of_every_pushed_down_metric_compiles_for_bigquery(demo_export, monkeypatch):  # noqa: F811
    import ibis
    import sqlglot
    from ibis.backends.duckdb import Backend

    ran: list = []
    for method in ("to_pyarrow", "execute"):  # where every Ibis expression is run, whatever metric built it
        original = getattr(Backend, method)

        def recording(self, expr, *args, _original=original, **kwargs):
            ran.append(expr)
            return _original(self, expr, *args, **kwargs)

        monkeypatch.setattr(Backend, method, recording)
    ctx = pushed(f"duckdb://{demo_export}")
    for metric in PUSHED:
        for question in (f"{metric} 2026-Q3", f"{metric} 2026-10 by region where plan=Pro vs 2025-10"):
            assert "error" not in render_json(answer(question, ctx)), question
    compiled = {ibis.to_sql(expr, dialect="bigquery") for expr in ran}
    assert len(compiled) >= len(PUSHED)  # at least one distinct query per metric family and variant
    for sql in compiled:
        assert sqlglot.parse_one(sql, read="bigquery") is not None  # BigQuery's grammar accepts it
        assert '"main"' not in sql  # identifiers quoted the BigQuery way (`main`.`orders`)


LIVE = os.environ.get("PULSE_BIGQUERY_TEST_URL")
INSTALLED = importlib.util.find_spec("google.cloud") is not None and importlib.util.find_spec("google.cloud.bigquery")


@pytest.mark.skipif(
    not LIVE or not INSTALLED,
    reason="live BigQuery test: set PULSE_BIGQUERY_TEST_URL=bigquery://project/dataset (a dataset holding the demo's "
    "`pulse export`, loaded as in the README's BigQuery walkthrough), Google credentials "
    "(GOOGLE_APPLICATION_CREDENTIALS or ADC) and `uv sync --extra bigquery`",
)
def test_live_bigquery_answers_every_pushed_down_metric_as_the_workbook(demo_master):
    live = pushed(str(LIVE))
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    for metric in PUSHED:
        got, want = render_json(answer(f"{metric} 2026-Q3", live)), render_json(answer(f"{metric} 2026-Q3", sheet))
        assert (got["value"], got["n"]) == (pytest.approx(want["value"], rel=1e-9), want["n"]), metric
