"""Differential: the demo workbook exported to DuckDB and read back as a `kind = "sql"` source answers every metric
exactly as the workbook does (value, n, interval, previous, notes, excluded rows), and so does the weekly digest;
the CLI exports, checks and answers on it, and refuses to refresh summary tabs there."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from datetime import date as D

import pytest

from bot.cli import main
from bot.context import Context, snapshot_path
from bot.digest.builder import build_digest
from bot.digest.schedule import last_full_week
from bot.pushdown import SINGLE
from bot.query import answer
from bot.render.json import render_json
from bot.scheduler import refresh_job, register_context
from config import ConfigError, Settings, load_settings, parse_settings
from metrics.registry import METRICS
from sheets.local import LocalWorkbook
from sheets.warehouse.export import export_duckdb
from sheets.warehouse.source import SqlWorkbook, open_sql_workbook
from sheets.workbook import WorkbookError
from tests.bot.conftest import TODAY
from tests.postgres import copy_duckdb, source_url
from tests.workbooks import write_source_workbook as write_workbook

VARIANTS = ("2026-Q3", "2026-Q3 by region", "2026-10 where plan=Pro", "2026-10 vs 2025-10")
QUERIES = [f"{m} {v}" for m in METRICS for v in VARIANTS] + ["overview 2026-Q3", "issues"]
OVERVIEWS = [f"overview {v}" for v in VARIANTS]


def noon() -> datetime:
    """Noon UTC of TODAY: the clock of every context here."""
    return datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)


@pytest.fixture
def both(demo_master, tmp_path):
    """A context on the demo workbook and one on its DuckDB export, both at noon UTC of TODAY."""
    settings = Settings()
    sheet = Context(settings, LocalWorkbook(demo_master), clock=noon, one_shot=True)
    export_duckdb(sheet.read_now().snapshot, tmp_path / "crm.duckdb")
    return sheet, Context(settings, SqlWorkbook(tmp_path / "crm.duckdb"), clock=noon, one_shot=True)


def test_every_metric_answers_the_same_from_duckdb_as_from_the_workbook(both, demo_answers):
    sheet, sql = both
    differ = [q for q in QUERIES if as_on_the_sheet(render_json(answer(q, sql))) != demo_answers[q]]
    assert differ == []
    assert snapshot_path(sql.workbook, sql.settings) is None  # the warehouse is not copied into the state dir
    monday = last_full_week(sheet.now(), "UTC")
    assert build_digest(sql, monday, None).to_json() == build_digest(sheet, monday, None).to_json()
    nps = render_json(answer("nps 2026-Q3 by region", sql))
    assert nps["n"] > 0 and len(nps["breakdown"]) == 4 and nps["previous"]["value"] is not None
    assert nps["excluded_rows"] == render_json(answer("nps 2026-Q3", sheet))["excluded_rows"] > 0


def as_on_the_sheet(data: dict) -> dict:
    """A SQL source's JSON answer without what only a database adds: `issues` lists the validation rules run in the
    database first (rows without a row number, `database_rules`, their note); the rest must equal the sheet's."""
    rules = data.get("database_rules")
    if rules is None:
        return data
    rest = {k: v for k, v in data.items() if k != "database_rules"}
    return {**rest, "rows": data["rows"][len(rules) :], "notes": data["notes"][1:]}


@pytest.fixture(scope="module")
def demo_answers(demo_master):
    """The demo workbook's JSON answers to QUERIES, computed once for the module."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    return {q: render_json(answer(q, sheet)) for q in dict.fromkeys([*QUERIES, *OVERVIEWS])}


@pytest.fixture(scope="module")
def demo_export(demo_master, tmp_path_factory):
    """The demo workbook exported to a DuckDB file, once for the module."""
    sheet = Context(Settings(), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    exported = tmp_path_factory.mktemp("export") / "crm.duckdb"
    export_duckdb(sheet.read_now().snapshot, exported)
    return exported


@pytest.fixture(scope="module")
def demo_in_postgres(demo_export, postgres_server):
    """A fresh PostgreSQL database holding the demo workbook's export (tables, data_issues, pulse_export)."""
    url = postgres_server.new_database()
    copy_duckdb(demo_export, url)
    return url


def test_every_metric_answers_the_same_from_postgresql_as_from_the_workbook(demo_answers, demo_in_postgres):
    pg = Context(Settings(), open_sql_workbook(sql_settings(demo_in_postgres)), clock=noon, one_shot=True)
    assert pg.workbook.describe() == demo_in_postgres and snapshot_path(pg.workbook, pg.settings) is None
    differ = [q for q in QUERIES if as_on_the_sheet(render_json(answer(q, pg))) != demo_answers[q]]
    assert differ == []
    assert demo_answers["nps 2026-Q3 by region"]["n"] > 0 and demo_answers["issues"]["count"] > 0


def test_postgresql_source_takes_credentials_from_the_environment_only(monkeypatch):
    with pytest.raises(ConfigError, match=r"must not hold a password.*PGPASSWORD.*PULSE_SOURCE_URL") as err:
        sql_settings("postgresql://ana:s3cret@db.internal/crm")
    assert "s3cret" not in str(err.value)
    monkeypatch.setenv("PULSE_SOURCE_URL", "postgresql://ana:s3cret@127.0.0.1:1/crm")  # nothing listens on port 1
    wb = open_sql_workbook(parse_settings({"source": {"kind": "sql"}}))
    assert wb.describe() == "postgresql://ana:***@127.0.0.1:1/crm"
    with pytest.raises(WorkbookError, match=r"could not connect to postgresql://ana:\*\*\*@127.0.0.1:1/crm") as err:
        wb.read_tabs(["Orders"])
    assert "s3cret" not in str(err.value)


def sql_settings(url: str) -> Settings:
    return parse_settings({"source": {"kind": "sql", "url": url}})


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


PUSHED_QUERIES = [q for q in QUERIES if q.split()[0] in SINGLE]


def differences(a, b, path="") -> list[str]:
    """Where two JSON answers differ: floats beyond 1e-9 relative (sums in another order), anything else at all."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in differences(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        return [] if b == pytest.approx(a, rel=1e-9, abs=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def pushed_context(url: str) -> Context:
    settings = parse_settings({"source": {"kind": "sql", "url": url, "pushdown": True}})
    return Context(settings, open_sql_workbook(settings), clock=noon, one_shot=True)


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_pushed_down_metrics_answer_as_in_memory_without_reading_rows(engine, demo_answers, demo_export, request):
    url = f"duckdb://{demo_export}" if engine == "duckdb" else request.getfixturevalue("demo_in_postgres")
    ctx = pushed_context(url)
    assert len(PUSHED_QUERIES) == len(SINGLE) * len(VARIANTS)  # every pushed-down metric × 4 variants
    asked = [*PUSHED_QUERIES, *OVERVIEWS]
    differ = {q: d for q in asked if (d := differences(demo_answers[q], render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None  # no snapshot was read: every answer came from the warehouse's aggregates


def test_summary_tabs_of_a_sql_source_go_to_the_output_workbook(demo_export, tmp_path, capsys):
    output = tmp_path / "summary.xlsx"
    config = tmp_path / "pulse.toml"
    config.write_text(
        f'[source]\nkind = "sql"\nurl = "duckdb://{demo_export}"\n[output]\nworkbook = "{output}"\n', encoding="utf-8"
    )
    code, _, err = run(capsys, "refresh", "--config", str(config), "--today", TODAY.isoformat())
    assert code == 0, err
    settings = load_settings(config)
    wb = open_sql_workbook(settings)
    assert isinstance(wb.output, LocalWorkbook) and wb.output.path == output
    summary = wb.read_owned("Pulse Summary")
    assert summary is not None and len(summary) > 24 and summary[0][0] == "Month"  # 24 months and the header
    log = wb.read_owned("Pulse Log")
    assert log is not None and "refresh" in [str(c) for c in log[-1]]


def test_the_scheduled_refresh_of_a_sql_source_without_output_skips_the_tabs_quietly(demo_export, caplog):
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{demo_export}"}})
    ctx = Context(settings, open_sql_workbook(settings), clock=noon)
    register_context(ctx, "sql-no-output")
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        refresh_job("sql-no-output")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "summary tabs not written: no [output] workbook or sheet for the SQL source" in caplog.text


# The period metrics that read customers, complaints and spend (issue 18): pushed down under other settings than the
# defaults, and on the hand-made messy workbook, each answer equal to the in-memory one.
OTHER_RULES = {
    "churn": {"mode": "inactivity", "after_days": 60},
    "complaints": {"denominator": "customers"},
    "clv": {"lifetime_years": 3},
}
CUSTOMER_METRICS = ("customers", "new", "growth", "retention", "churn", "lapsed", "complaints", "net-clv", "ltv-cac")


def pushed_context_with(url: str, extra: dict, clock=noon) -> Context:
    settings = parse_settings({"source": {"kind": "sql", "url": url, "pushdown": True}, **extra})
    return Context(settings, open_sql_workbook(settings), clock=clock, one_shot=True)


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_customer_metrics_under_other_rules_answer_as_in_memory(engine, demo_master, demo_export, request):
    url = f"duckdb://{demo_export}" if engine == "duckdb" else request.getfixturevalue("demo_in_postgres")
    sheet = Context(parse_settings(OTHER_RULES), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    ctx = pushed_context_with(url, OTHER_RULES)
    queries = [f"{m} {v}" for m in CUSTOMER_METRICS for v in VARIANTS]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None
    churn = render_json(answer("churn 2026-Q3", ctx))
    assert churn["details"]["churn_mode"] == "inactivity" and churn["details"]["after_days"] == 60


# The messy workbook has no Complaints nor Subscriptions, and its Spend lacks amount.
MESSY_FALLBACK = ("complaints", "resolution", "renewal", "cac", "net-clv", "ltv-cac")
MESSY_CLOCK = lambda: datetime(2026, 4, 1, 12, tzinfo=UTC)  # noqa: E731
MESSY_VARIANTS = ("2026-Q1", "2026-Q1 by region", "2026-03 where region=North", "2026-03 vs 2026-01")


@pytest.fixture(scope="module")
def messy_export(tmp_path_factory):
    """The hand-made messy workbook (tests/sheets/test_warehouse.py) and its export to DuckDB."""
    from tests.sheets.test_warehouse import messy_workbook

    folder = tmp_path_factory.mktemp("messy")
    workbook = messy_workbook(folder / "messy.xlsx")
    sheet = Context(Settings(), LocalWorkbook(workbook), clock=MESSY_CLOCK, one_shot=True)
    export_duckdb(sheet.read_now().snapshot, folder / "crm.duckdb")
    return workbook, folder / "crm.duckdb"


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_pushed_down_metrics_on_the_messy_workbook_answer_as_in_memory(engine, messy_export, request):
    workbook, exported = messy_export
    url = source_url(request, engine, exported)
    sheet = Context(Settings(), LocalWorkbook(workbook), clock=MESSY_CLOCK, one_shot=True)
    ctx = pushed_context_with(url, {}, MESSY_CLOCK)
    queries = [f"{m} {v}" for m in SINGLE if m not in MESSY_FALLBACK for v in MESSY_VARIANTS]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None  # every answer came from the warehouse
    # No Complaints table, and Spend lacks amount (an empty table without it): answered from the snapshot.
    queries = [f"{m} {v}" for m in MESSY_FALLBACK for v in MESSY_VARIANTS]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {} and ctx.cache._entry is not None
    # Customers 007 (signup 2026-01-05), C2 (05.02.2026, day first), C3 (2026年3月5日): 3 new in 2026-Q1; the rows
    # the sheet rejected (1 customer, 3 orders) are counted as left out.
    new = render_json(answer("new 2026-Q1", ctx))
    assert (new["value"], new["n"], new["excluded_rows"]) == (3.0, 3, 4)


def spend_workbook(path):
    """Customers split by channel (a Customers dimension named like Spend's channel column), and spend as monthly
    budgets, a date range, single days and one row without a channel."""
    from tests.sheets.conftest import write_xlsx

    return write_xlsx(
        path,
        {
            "Customers": [
                ["Customer ID", "Signup Date", "Channel", "Plan"],
                ["C1", "2026-01-10", "Ads", "A"],
                ["C2", "2026-01-20", "Ads", "B"],
                ["C3", "2026-02-03", "Social", "A"],
                ["C4", "2026-02-15", None, "B"],
                ["C5", "2026-02-20", "Social", "A"],
            ],
            "Orders": [
                ["Order ID", "Customer ID", "Order Date", "Amount"],
                ["O1", "C1", "2026-01-12", 100],
                ["O2", "C2", "2026-02-02", 60],
                ["O3", "C3", "2026-02-04", 80],
                ["O4", "C1", "2026-03-01", 40],
            ],
            "Spend": [
                ["Date", "Amount", "Channel", "End Date"],
                ["2025-12-01", 3000, "ads", None],  # Ads rows are all on the 1st: monthly budgets
                ["2026-01-01", 3100, "ads", None],
                ["2026-02-01", 2800, "Ads", None],
                ["2026-01-15", 500, "Social", "2026-02-13"],  # 30 days, 13 of them in February
                ["2026-02-20", 200, "social", None],  # a single day
                ["2026-02-10", 100, None, None],  # no channel: unallocated
            ],
        },
    )


SPEND_CLOCK = lambda: datetime(2026, 4, 1, 12, tzinfo=UTC)  # noqa: E731
SPEND_VARIANTS = (
    "2026-02",
    "2026-02 by channel",
    "2026-02 where channel=social",
    "2026-Q1 vs 2025-12",
    "2026-02 by plan",
)


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_cac_with_spend_by_segment_spread_over_days_answers_as_in_memory(engine, tmp_path, request):
    workbook = spend_workbook(tmp_path / "spend.xlsx")
    sheet = Context(Settings(), LocalWorkbook(workbook), clock=SPEND_CLOCK, one_shot=True)
    export_duckdb(sheet.read_now().snapshot, tmp_path / "crm.duckdb")
    url = source_url(request, engine, tmp_path / "crm.duckdb")
    ctx = pushed_context_with(url, {"clv": {"lifetime_years": 2}}, SPEND_CLOCK)
    sheet = Context(parse_settings({"clv": {"lifetime_years": 2}}), LocalWorkbook(workbook), clock=SPEND_CLOCK)
    queries = [f"{m} {v}" for m in ("cac", "ltv-cac", "net-clv", "new") for v in SPEND_VARIANTS]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None
    social = render_json(answer("cac 2026-02 where channel=social", ctx))
    # Social in February: 500 × 13 / 30 of the range + 200 = 416.67 for C3 and C5: 208.33 each.
    assert social["value"] == pytest.approx((500 * 13 / 30 + 200) / 2)
    assert any("1 monthly budget or date range only partly in 2026-02" in n for n in social["notes"])
    assert any(n.startswith("100.00 of spend in 2026-02 has no channel") for n in social["notes"])
    whole = render_json(answer("cac 2026-02", ctx))
    # 2,800 (Ads' February budget) + 416.67 (Social) + 100 (no channel) for C3, C4, C5.
    assert whole["value"] == pytest.approx((2800 + 500 * 13 / 30 + 200 + 100) / 3)


@pytest.fixture(scope="module")
def demo_without_spend_or_complaints(demo_export, tmp_path_factory):
    """The demo export without its Spend and Complaints tables (both optional), once for the module."""
    import shutil

    import duckdb

    path = tmp_path_factory.mktemp("lean") / "crm.duckdb"
    shutil.copy(demo_export, path)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE spend; DROP TABLE complaints")
    return path


def test_an_overview_without_optional_tables_is_pushed_down_with_their_metrics_n_a(demo_without_spend_or_complaints):
    """complaints, cac and ltv-cac need tables the source lacks: n/a with what to add, as in memory — the other
    headline metrics still come from the warehouse, and no snapshot is read (it once read all rows for them)."""
    url = f"duckdb://{demo_without_spend_or_complaints}"
    memory = Context(sql_settings(url), open_sql_workbook(sql_settings(url)), clock=noon, one_shot=True)
    ctx = pushed_context(url)
    asked = [*OVERVIEWS, "complaints 2026-Q3", "cac 2026-Q3 by region", "ltv-cac 2026-10 where plan=Pro"]
    differ = {q: d for q in asked if (d := differences(render_json(answer(q, memory)), render_json(answer(q, ctx))))}
    assert differ == {}
    cac = render_json(answer("cac 2026-Q3", ctx))
    assert cac["value"] is None and cac["notes"] == ["add a Spend tab with date, amount"]
    assert ctx.cache._entry is None  # no snapshot was read


# CLV with the lifetime from the survival curve (`clv.lifetime_years = "survival"`): the restricted mean lifetime of
# the Kaplan–Meier curve comes from the warehouse's per-customer days, per period and segment.
SURVIVAL = {"clv": {"lifetime_years": "survival"}}
LIFETIME_METRICS = ("clv", "net-clv", "ltv-cac")


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_clv_with_a_survival_lifetime_is_pushed_down_as_in_memory(engine, demo_master, demo_export, request):
    url = f"duckdb://{demo_export}" if engine == "duckdb" else request.getfixturevalue("demo_in_postgres")
    sheet = Context(parse_settings(SURVIVAL), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    ctx = pushed_context_with(url, SURVIVAL)
    queries = [f"{m} {v}" for m in LIFETIME_METRICS for v in VARIANTS] + ["overview 2026-Q3 by region"]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None and ctx.snapshot_uses == 0  # pushed down, not answered from the snapshot
    clv = render_json(answer("clv 2026-Q3 by region", ctx))
    assert clv["details"]["lifetime_source"] == "survival" and clv["value"] > 0
    assert all(segment["value"] is not None for segment in clv["breakdown"])
    # Inactivity churn (the curve's events from each customer's last order): net CLV and LTV:CAC, which hold the
    # CLV's factors without refitting the purchase model that `clv` on its own adds.
    rules = {**SURVIVAL, "churn": {"mode": "inactivity", "after_days": 60}}
    sheet = Context(parse_settings(rules), LocalWorkbook(demo_master), clock=noon, one_shot=True)
    ctx = pushed_context_with(url, rules)
    queries = [f"{m} {v}" for m in ("net-clv", "ltv-cac") for v in VARIANTS]
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {} and ctx.snapshot_uses == 0


def lifetime_workbook(path):
    """Seven customers with explicit churn dates (as of 2026-03-31, days from signup: C1 181 churned, C2 454 active,
    C3 275 churned, C4 183 churned, C5 only in Orders 211 active, C6 58 active, C7 395 active), regions North,
    South, West and blank, one order each (C2 two) and one spend row."""
    from tests.sheets.conftest import write_xlsx

    return write_xlsx(
        path,
        {
            "Customers": [
                ["Customer ID", "Signup Date", "Churned On", "Region"],
                ["C1", "2025-01-01", "2025-07-01", "North"],
                ["C2", "2025-01-01", None, "North"],
                ["C3", "2025-04-01", "2026-01-01", "South"],
                ["C4", "2025-06-01", "2025-12-01", None],
                ["C6", "2026-02-01", None, "South"],
                ["C7", "2025-03-01", None, "West"],
            ],
            "Orders": [
                ["Order ID", "Customer ID", "Order Date", "Amount"],
                ["O1", "C1", "2025-05-01", 100],
                ["O2", "C2", "2025-06-01", 100],
                ["O3", "C2", "2026-01-10", 100],
                ["O4", "C3", "2025-05-01", 50],
                ["O5", "C4", "2025-07-01", 80],
                ["O6", "C5", "2025-09-01", 120],
                ["O7", "C6", "2026-02-02", 60],
                ["O8", "C7", "2025-08-01", 90],
            ],
            "Spend": [["Date", "Amount"], ["2026-02-10", 600]],
        },
    )


LIFETIME_VARIANTS = ("2026-Q1", "2026-Q1 by region", "2026-Q1 where region=North", "2026-03 vs 2025-09")


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_survival_lifetimes_per_segment_are_the_restricted_means_of_their_own_curves(engine, tmp_path, request):
    workbook = lifetime_workbook(tmp_path / "lifetimes.xlsx")
    sheet = Context(parse_settings(SURVIVAL), LocalWorkbook(workbook), clock=SPEND_CLOCK, one_shot=True)
    export_duckdb(sheet.read_now().snapshot, tmp_path / "crm.duckdb")
    url = source_url(request, engine, tmp_path / "crm.duckdb")
    ctx = pushed_context_with(url, SURVIVAL, SPEND_CLOCK)
    queries = [f"{m} {v}" for m in LIFETIME_METRICS for v in LIFETIME_VARIANTS]
    queries += [
        "survival by region",
        "cohorts 2025-Q3 by region",
    ]  # orders-only C5 is in no segment but (blank)'s curve
    differ = {q: d for q in queries if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))}
    assert differ == {}
    assert ctx.cache._entry is None and ctx.snapshot_uses == 0
    clv = render_json(answer("clv 2026-Q1 by region", ctx))
    # Kaplan–Meier of all seven (events at 181, 183, 275 days with 6, 5, 3 at risk): S = 5/6, 2/3, 4/9; the area up to
    # the 10-year cap (3652.5 days) is 181 + 2 × 5/6 + 92 × 2/3 + 3377.5 × 4/9 = 1745.11 days = 4.7778 years; AOV ×
    # purchases a year = revenue / purchasers = 700 / 7 = 100 over the 12 months to 2026-03-31.
    assert clv["details"]["lifetime_years"] == pytest.approx(1745.1111 / 365.25, rel=1e-6)
    assert clv["value"] == pytest.approx(100 * 1745.1111 / 365.25, rel=1e-6)
    years = {s["segment"]: s["value"] for s in clv["breakdown"]}
    # North: C1 churned at 181 of 2 → 181 + 3471.5 × 1/2 = 1916.75 days, × 300 / 2 = 150 a customer.
    # South: C3 churned at 275, C6 censored at 58 → 275 days, × 110 / 2. (blank): C4 alone (C5 is in no Customers
    # segment) → 183 days, × 80. West: no churn event → 1 / annual churn, none over the year: the 10-year cap, × 90.
    assert years == pytest.approx(
        {"North": 150 * 1916.75 / 365.25, "South": 55 * 275 / 365.25, "(blank)": 80 * 183 / 365.25, "West": 900.0}
    )
    west = render_json(answer("clv 2026-Q1 where region=West", ctx))
    assert west["details"]["lifetime_source"] == "churn"
    assert west["notes"][0] == "no churn events for a survival curve: lifetime from 1 / annual churn instead"
    # CAC = 600 of spend / 1 new customer (C6) in 2026-Q1; LTV:CAC = 477.78 / 600.
    ratio = render_json(answer("ltv-cac 2026-Q1", ctx))
    assert ratio["value"] == pytest.approx(100 * 1745.1111 / 365.25 / 600, rel=1e-6)


# Explicit churn dates at the period's edges: a churned customer is back from the day of a later order (on the first
# and on the last day of 2026-Q2 here), an order on the churn day itself does not bring one back, and orders years
# before the period still make a buyer (the warehouse groups only recent orders per customer; the rest of the history
# is in its per-customer base).
EDGE_CUSTOMERS = [
    ["customer_id", "signup_date", "churned_on", "region"],
    ["C1", D(2025, 10, 1), D(2026, 2, 10), "North"],
    ["C2", D(2025, 10, 1), D(2026, 3, 1), "South"],
    ["C3", D(2024, 12, 1), D(2026, 1, 15), "North"],
    ["C4", D(2023, 5, 1), None, "South"],
    ["C5", D(2025, 11, 1), D(2026, 2, 1), "North"],
]
EDGE_ORDERS = [
    ["order_id", "customer_id", "order_date", "amount"],
    ["O1", "C1", D(2025, 11, 5), 40.0],
    ["O2", "C1", D(2026, 4, 1), 60.0],
    ["O3", "C2", D(2026, 6, 30), 25.0],
    ["O4", "C3", D(2025, 1, 2), 80.0],
    ["O5", "C3", D(2026, 1, 15), 15.0],
    ["O6", "C4", D(2024, 2, 3), 90.0],
    ["O7", "C5", D(2026, 1, 20), -10.0],
]
EDGE_QUERIES = [
    f"{m} {p}"
    for m in ("customers", "new", "growth", "retention", "churn", "lapsed")
    for p in ("2026-Q2", "2026-04", "2026-06", "2026-Q2 by region")
] + [  # South bought in Q2 and not in Q1
    f"{m} 2026-Q2 by region" for m in ("revenue", "orders", "aov", "purchasers", "repeat", "frequency")
]


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_explicit_churn_at_the_period_edges_answers_as_in_memory(engine, tmp_path, request):
    rules = {"churn": {"mode": "explicit"}}
    clock = lambda: datetime(2026, 7, 15, 12, tzinfo=UTC)  # noqa: E731
    workbook = write_workbook(tmp_path / "edges.xlsx", {"Customers": EDGE_CUSTOMERS, "Orders": EDGE_ORDERS})
    sheet = Context(parse_settings(rules), LocalWorkbook(workbook), clock=clock, one_shot=True)
    export_duckdb(sheet.read_now().snapshot, tmp_path / "edges.duckdb")
    ctx = pushed_context_with(source_url(request, engine, tmp_path / "edges.duckdb"), rules, clock)
    differ = {
        q: d for q in EDGE_QUERIES if (d := differences(render_json(answer(q, sheet)), render_json(answer(q, ctx))))
    }
    assert differ == {}
    assert ctx.cache._entry is None
    # By hand: active on 1 April C1 (back that day) and C4; on 30 June also C2 (back that day). C3's order on its
    # churn day and C5's refund bring neither back. In Q1 all five were active on 1 January and only C4 on 31 March.
    quarter = render_json(answer("retention 2026-Q2", ctx))
    assert {k: quarter["details"][k] for k in ("start_customers", "end_customers", "retained", "reactivated")} == {
        "start_customers": 2,
        "end_customers": 3,
        "retained": 2,
        "reactivated": 1,
    }
    assert quarter["value"] == 100.0 and quarter["previous"]["value"] == 20.0


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_two_configs_with_other_survey_scales_on_one_database_each_get_their_own_checks(
    engine, demo_master, demo_export, request
):
    # The checks (which rows the rules reject) depend on the survey scales: a config whose CSAT runs 1–3 rejects the
    # 4s and 5s that the default 1–5 accepts, even after another config checked the same database first.
    url = source_url(request, engine, demo_export)
    narrow = {"surveys": {"scales": {"CSAT": {"min": 1, "max": 3, "satisfied_from": 3}}}}
    answers = {}
    for name, rules in (("default", {}), ("narrow", narrow)):
        sheet = Context(parse_settings(rules), LocalWorkbook(demo_master), clock=noon, one_shot=True)
        answers[name] = render_json(answer("csat 2026-Q3", sheet))
        assert differences(answers[name], render_json(answer("csat 2026-Q3", pushed_context_with(url, rules)))) == []
    assert answers["narrow"]["excluded_rows"] > answers["default"]["excluded_rows"]
