"""A DuckDB file as the source (`[source] kind = "sql"`) and `pulse export --duckdb`: round trips keep every typed
row and every rejected-row count; warehouse tables are typed and validated like a sheet's tabs."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from config import ConfigError
from sheets.local import LocalWorkbook
from sheets.open import open_workbook
from sheets.snapshot import load_snapshot
from sheets.warehouse.export import export_duckdb
from sheets.warehouse.source import PgWorkbook, SqlWorkbook, duckdb_path
from sheets.workbook import OwnedTab, WorkbookError
from tests.postgres import copy_duckdb
from tests.sheets.conftest import make_settings, write_xlsx

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def messy_workbook(path):
    """A hand-typed workbook with one of each kind of bad row (rejected rows in the comments), a blank row, a tab
    without a required column (Spend lacks amount) and no Complaints or Subscriptions tab."""
    return write_xlsx(
        path,
        {
            "Customers": [
                ["Customer ID", "Signup Date", "Region", "Customer Type"],
                ["007", "2026-01-05", "North", "SMB"],
                ["C2", "05.02.2026", "South", None],
                ["007", "2026-03-01", "East", "SMB"],  # row 4: duplicate customer_id → rejected (1)
                [None, None, None, None],  # row 5: blank, ignored
                ["C3", "2026年3月5日", None, "Enterprise"],
            ],
            "Orders": [
                ["订单号", "客户ID", "订单日期", "金额", "Margin"],
                ["O1", "007", "2026-02-01", 120.5, 0.4],
                ["O2", "C2", "2026-13-45", 50, None],  # row 3: bad date → rejected (1)
                ["O3", None, "2026-02-03", 70, None],  # row 4: missing customer → rejected (2)
                ["O1", "C2", "2026-02-04", 80, None],  # row 5: duplicate order_id → rejected (3)
                ["O4", "C3", datetime(2026, 3, 7, 14, 30), "$1,200.00", "abc"],  # margin not a number: warning only
                ["O5", "C2", "2026-03-09", -20, None],  # a refund, kept
            ],
            "Responses": [
                ["Date", "Survey", "Score", "Customer ID", "Comment"],
                ["2026-02-10", "nps", 9, "007", "  great  "],
                ["2026-02-11", "NPS", 11, "C2", None],  # row 3: outside 0–10 → rejected (1)
                ["2026-02-12", "poll", 3, "C2", None],  # row 4: unknown survey → rejected (2)
                ["2026-02-13", "CSAT", 4, None, "ok"],
            ],
            "Spend": [["Date", "Channel"], ["2026-02-01", "ads"], ["2026-03-01", "ads"]],  # no amount: 2 rows unusable
        },
    )


def roundtrip(tmp_path, settings, workbook_path, columnar: bool):
    """The snapshot of a workbook, and the snapshot read back from its export (as Arrow columns or cell by cell)."""
    original = load_snapshot(LocalWorkbook(workbook_path), settings, now=NOW)
    export_duckdb(original, tmp_path / "crm.duckdb")
    return original, load_snapshot(SqlWorkbook(tmp_path / "crm.duckdb"), settings, now=NOW, columnar=columnar)


@pytest.mark.parametrize("columnar", [True, False])
def test_messy_workbook_round_trip_keeps_rows_rejected_counts_and_issues(tmp_path, columnar):
    settings = make_settings()
    original, back = roundtrip(tmp_path, settings, messy_workbook(tmp_path / "messy.xlsx"), columnar)
    # Rejected rows counted by hand in messy_workbook: customers 1, orders 3, responses 2, spend 2 (the whole tab).
    assert original.excluded == {
        "customers": 1,
        "orders": 3,
        "responses": 2,
        "complaints": 0,
        "spend": 2,
        "subscriptions": 0,
    }
    assert back.excluded == original.excluded
    assert back.missing_tabs == original.missing_tabs == ["complaints", "subscriptions"]
    assert back.missing_columns == original.missing_columns == {"spend": ["amount"]}
    assert back.dimensions == original.dimensions == ["region", "customer_type"]
    for key, frame in original.frames.items():
        pd.testing.assert_frame_equal(back.frames[key], frame, check_dtype=True, obj=key)
    assert [i for i in back.issues if i.row is not None] == [i for i in original.issues if i.row is not None]
    assert len(back.rejected()) == len(original.rejected())


@pytest.mark.parametrize("columnar", [True, False])
def test_messy_workbook_keeps_rows_rejected_counts_and_issues_through_postgresql(tmp_path, postgres_server, columnar):
    settings = make_settings()
    original, _ = roundtrip(tmp_path, settings, messy_workbook(tmp_path / "messy.xlsx"), columnar)
    url = postgres_server.new_database()
    copy_duckdb(tmp_path / "crm.duckdb", url)
    back = load_snapshot(PgWorkbook(url), settings, now=NOW, columnar=columnar)
    assert back.excluded == original.excluded and sum(back.excluded.values()) == 8  # 1 + 3 + 2 + 2, as above
    assert back.missing_tabs == original.missing_tabs and back.missing_columns == original.missing_columns
    for key, frame in original.frames.items():
        pd.testing.assert_frame_equal(back.frames[key], frame, check_dtype=True, obj=key)
    assert [i for i in back.issues if i.row is not None] == [i for i in original.issues if i.row is not None]


def test_export_writes_typed_tables_issues_and_metadata(tmp_path):
    original = load_snapshot(LocalWorkbook(messy_workbook(tmp_path / "messy.xlsx")), make_settings(), now=NOW)
    lines = []
    report = export_duckdb(original, tmp_path / "crm.duckdb", progress=lines.append)
    assert report.tables == {"customers": 3, "orders": 3, "responses": 2, "spend": 0}
    assert report.rejected_rows == 8  # 1 + 3 + 2 + 2
    assert "complaints: no such tab in the source, no table written" in lines
    assert "wrote" in report.summary() and "orders 3" in report.summary()
    assert oct(os.stat(tmp_path / "crm.duckdb").st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'orders'"
            ).fetchall()
        )
        assert types == {
            "order_id": "VARCHAR",
            "customer_id": "VARCHAR",
            "order_date": "TIMESTAMP",
            "amount": "DOUBLE",
            "gross_margin": "DOUBLE",
            "row": "BIGINT",
        }
        assert con.execute("SELECT customer_id FROM customers ORDER BY row").fetchall() == [("007",), ("C2",), ("C3",)]
        assert con.execute("SELECT amount FROM orders WHERE order_id = 'O4'").fetchone() == (1200.0,)
        issues = con.execute(
            'SELECT tab, "row", "column", reason FROM data_issues WHERE severity = \'rejected\' '
            "AND tab = 'Orders' ORDER BY seq"
        ).fetchall()
        assert [(t, r, c) for t, r, c, _ in issues] == [
            ("Orders", 3, "订单日期"),
            ("Orders", 4, "客户ID"),
            ("Orders", 5, "订单号"),
        ]
        assert con.execute(
            "SELECT tab_key, rejected_rows, missing_columns FROM pulse_export ORDER BY tab_key"
        ).fetchall() == [("customers", 1, ""), ("orders", 3, ""), ("responses", 2, ""), ("spend", 2, "amount")]


def test_export_replaces_its_own_file_and_refuses_anything_else(tmp_path):
    snap = load_snapshot(LocalWorkbook(messy_workbook(tmp_path / "messy.xlsx")), make_settings(), now=NOW)
    target = tmp_path / "crm.duckdb"
    export_duckdb(snap, target)
    export_duckdb(snap, target)  # a second export replaces the first
    assert len(load_snapshot(SqlWorkbook(target), make_settings()).frames["orders"]) == 3

    foreign = tmp_path / "theirs.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE sales AS SELECT 1 AS x")
    with pytest.raises(WorkbookError, match="was not written by `pulse export`"):
        export_duckdb(snap, foreign)
    with duckdb.connect(str(foreign), read_only=True) as con:
        assert con.execute("SELECT x FROM sales").fetchall() == [(1,)]  # left as it was
    with pytest.raises(WorkbookError, match="is a directory"):
        export_duckdb(snap, tmp_path)
    with pytest.raises(WorkbookError, match="does not exist; choose a directory you can write to"):
        export_duckdb(snap, tmp_path / "no" / "crm.duckdb")
    with pytest.raises(WorkbookError, match="is not a directory"):
        export_duckdb(snap, tmp_path / "messy.xlsx" / "crm.duckdb")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any directory, so there is no unwritable one")
def test_export_into_a_directory_without_write_permission_is_refused(tmp_path):
    snap = load_snapshot(LocalWorkbook(messy_workbook(tmp_path / "messy.xlsx")), make_settings(), now=NOW)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(WorkbookError, match=r"no permission to write in .*locked; choose a directory you can write to"):
        export_duckdb(snap, locked / "crm.duckdb")
    assert list(locked.iterdir()) == []


def warehouse(path, sql: str):
    with duckdb.connect(str(path)) as con:
        con.execute(sql)
    return path


@pytest.mark.parametrize("columnar", [True, False])
def test_mapped_warehouse_tables_are_typed_and_validated_like_tabs(tmp_path, columnar):
    db = warehouse(
        tmp_path / "wh.duckdb",
        """
        CREATE SCHEMA analytics;
        CREATE TABLE analytics.orders ("Customer ID" INTEGER, "Order Date" DATE, "Total" DECIMAL(10, 2));
        INSERT INTO analytics.orders VALUES (7, DATE '2026-02-01', 19.99), (NULL, DATE '2026-02-02', 5), (8, NULL, 3);
        CREATE TABLE Clients (customer_id VARCHAR, signup_date TIMESTAMPTZ, plan VARCHAR);
        INSERT INTO Clients VALUES ('007', TIMESTAMPTZ '2026-01-05 23:30:00+00', 'Pro');
    """,
    )
    settings = make_settings(
        source={"kind": "sql", "url": f"duckdb://{db}"}, tabs={"orders": "analytics.orders", "customers": "clients"}
    )
    snap = load_snapshot(open_workbook(settings), settings, columnar=columnar)
    orders = snap.frames["orders"]
    assert list(orders["customer_id"]) == ["7"] and list(orders["amount"]) == [19.99]
    assert list(orders["order_date"]) == [pd.Timestamp("2026-02-01")]
    # A table without a `row` column is numbered like a sheet whose row 1 holds the column names.
    rejected = [(i.tab, i.row, i.column, i.value, i.reason) for i in snap.rejected()]
    assert rejected == [
        ("analytics.orders", 3, "Customer ID", "", "required value is missing"),
        ("analytics.orders", 4, "Order Date", "", "required value is missing"),
    ]
    assert snap.excluded["orders"] == 2
    assert list(snap.frames["customers"]["signup_date"]) == [pd.Timestamp("2026-01-05")]  # a day, as in a sheet
    assert snap.dimensions == ["plan"]
    assert snap.missing_tabs == ["responses", "complaints", "spend", "subscriptions"]


def test_sql_source_urls_and_settings_fail_clearly(tmp_path, monkeypatch):
    with pytest.raises(
        ConfigError, match=r"'mysql://' sources are not supported yet; supported: duckdb:///.*postgresql://"
    ):
        make_settings(source={"kind": "sql", "url": "mysql://ana:secret@db/crm"})
    with pytest.raises(ConfigError) as err:
        make_settings(source={"kind": "sql", "url": "bigquery://project"})  # no dataset
    assert "bigquery://project/dataset" in str(err.value)
    with pytest.raises(ConfigError, match='url is read only with kind = "sql"'):
        make_settings(source={"url": "duckdb:///x.duckdb"})
    settings = make_settings(source={"kind": "sql"})
    with pytest.raises(WorkbookError, match=r'needs url = "duckdb:///path/crm.duckdb".*PULSE_SOURCE_URL'):
        open_workbook(settings)
    monkeypatch.setenv("PULSE_SOURCE_URL", "snowflake://db/crm")
    with pytest.raises(WorkbookError, match="not supported yet"):
        open_workbook(settings)
    monkeypatch.setenv("PULSE_SOURCE_URL", f"duckdb://{tmp_path / 'none.duckdb'}")
    wb = open_workbook(settings)
    with pytest.raises(WorkbookError, match=r"DuckDB file not found.*pulse export --duckdb"):
        wb.read_tabs(["Orders"])
    assert duckdb_path("duckdb:///srv/crm.duckdb").as_posix() == "/srv/crm.duckdb"
    assert duckdb_path("duckdb://crm.duckdb").as_posix() == "crm.duckdb"
    assert open_workbook(settings, workbook=str(tmp_path / "a.xlsx")).describe().endswith("a.xlsx")  # flags win


def test_a_sql_source_refuses_to_write_summary_tabs(tmp_path):
    wb = SqlWorkbook(tmp_path / "crm.duckdb")
    assert wb.read_owned("Pulse Log") is None
    with pytest.raises(WorkbookError, match="summary tabs need a sheet") as err:
        wb.write_owned({"Pulse Summary": OwnedTab("Pulse Summary", ["Month"], [])})
    assert err.value.status == 400


def test_a_duckdb_source_caps_duckdbs_memory_and_threads(tmp_path):
    path = tmp_path / "crm.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE orders (customer_id VARCHAR, order_date DATE, amount DOUBLE)")
    url = f"duckdb://{path}"
    capped = open_workbook(make_settings(source={"kind": "sql", "url": url, "memory_limit": "256MB", "threads": 1}))
    setting = "SELECT current_setting('memory_limit'), current_setting('threads')"
    with capped._connect() as con:
        assert con.execute(setting).fetchall() == [("244.1 MiB", 1)]  # 256,000,000 B / 2^20 = 244.14 MiB
    default = open_workbook(make_settings(source={"kind": "sql", "url": url}))
    with default._connect() as con:
        assert con.execute(setting).fetchall()[0][0] == "953.6 MiB"  # the default 1GB: 10^9 B / 2^20 = 953.67 MiB
    with pytest.raises(ConfigError, match=r"memory_limit.*e\.g\. \"1GB\""):
        make_settings(source={"kind": "sql", "url": url, "memory_limit": "lots"})
