"""Differential: the demo workbook exported to DuckDB and read back as a `kind = "sql"` source answers every metric
exactly as the workbook does (value, n, interval, previous, notes, excluded rows), and so does the weekly digest;
the CLI exports, checks and answers on it, and refuses to refresh summary tabs there."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.context import Context, snapshot_path
from bot.digest.builder import build_digest
from bot.digest.schedule import last_full_week
from bot.query import answer
from bot.render.json import render_json
from config import Settings
from metrics.registry import METRICS
from sheets.local import LocalWorkbook
from sheets.warehouse.export import export_duckdb
from sheets.warehouse.source import SqlWorkbook
from tests.bot.conftest import TODAY

VARIANTS = ("2026-Q3", "2026-Q3 by region", "2026-10 where plan=Pro", "2026-10 vs 2025-10")


@pytest.fixture
def both(demo_master, tmp_path):
    """A context on the demo workbook and one on its DuckDB export, both at noon UTC of TODAY."""
    clock = lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)  # noqa: E731
    settings = Settings()
    sheet = Context(settings, LocalWorkbook(demo_master), clock=clock, one_shot=True)
    export_duckdb(sheet.read_now().snapshot, tmp_path / "crm.duckdb")
    return sheet, Context(settings, SqlWorkbook(tmp_path / "crm.duckdb"), clock=clock, one_shot=True)


def test_every_metric_answers_the_same_from_duckdb_as_from_the_workbook(both):
    sheet, sql = both
    queries = [f"{m} {v}" for m in METRICS for v in VARIANTS] + ["overview 2026-Q3", "issues"]
    differ = [q for q in queries if render_json(answer(q, sheet)) != render_json(answer(q, sql))]
    assert differ == []
    assert snapshot_path(sql.workbook, sql.settings) is None  # the warehouse is not copied into the state dir
    monday = last_full_week(sheet.now(), "UTC")
    assert build_digest(sql, monday, None).to_json() == build_digest(sheet, monday, None).to_json()
    nps = render_json(answer("nps 2026-Q3 by region", sql))
    assert nps["n"] > 0 and len(nps["breakdown"]) == 4 and nps["previous"]["value"] is not None
    assert nps["excluded_rows"] == render_json(answer("nps 2026-Q3", sheet))["excluded_rows"] > 0


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exports_then_answers_checks_and_refuses_refresh_on_the_duckdb_source(demo_master, tmp_path, capsys):
    target = tmp_path / "crm.duckdb"
    today = ("--today", TODAY.isoformat())
    code, out, err = run(capsys, "export", "--duckdb", str(target), "--workbook", str(demo_master), *today)
    assert code == 0, err
    assert f"reading {demo_master}" in err and "  orders: " in err and "data_issues: " in err
    assert out.startswith(f"wrote {target}") and "customers 2,000" in out

    config = tmp_path / "pulse.toml"
    config.write_text(f'[source]\nkind = "sql"\nurl = "duckdb://{target}"\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--config", str(config), *today)
    assert code == 0, err
    assert f"source duckdb://{target}" in out and "rows rejected" in out
    code, out, err = run(capsys, "ask", "churn 2026-Q3 by plan", "--json", "--config", str(config), *today)
    assert code == 0 and json.loads(out)["by"] == "plan", err

    code, out, err = run(capsys, "refresh", "--config", str(config), *today)
    assert code == 2 and "error: summary tabs need a sheet" in err and "Traceback" not in err

    code, out, err = run(
        capsys, "export", "--duckdb", str(tmp_path / "missing" / "x.duckdb"), "--workbook", str(demo_master), *today
    )
    assert code == 2 and err.strip().endswith("does not exist; choose a directory you can write to")
