"""A DuckDB file as the source: each `[tabs]` name is a table (or view), read with DuckDB as Arrow and handed to the
sheet's own typing and validation (as typed columns, or cell by cell for unusual column types), so bad rows are
reported exactly as a sheet's are.

Row numbers: a table written by `pulse export` keeps each row's sheet row in its `row` column, so an issue names
the row of the original sheet; any other table is numbered like a sheet whose row 1 holds the column names
(its first row is row 2). Issues recorded at export time (`data_issues`) are carried over with their counts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

import numpy as np
import pandas as pd

from config.settings import POSTGRES_SCHEMES, Settings, sql_scheme, sql_scheme_problem, url_password
from sheets.columnar import ColumnarTab
from sheets.columnar import _cells as arrow_cells  # the xlsx columnar path's Arrow → cell conversion, reused
from sheets.local import file_marker
from sheets.output import open_output
from sheets.validate import ROW_COLUMN, DataIssue
from sheets.workbook import Cell, OwnedTab, RawTab, Workbook, WorkbookError, WriteReport

if TYPE_CHECKING:
    import pyarrow as pa

META_TABLE = "pulse_export"
ISSUES_TABLE = "data_issues"
URL_ENV = "PULSE_SOURCE_URL"
READ_ONLY = (
    "summary tabs need a sheet: a SQL source is only read; name where they go with [output] workbook = "
    '"summary.xlsx" or [output] sheet = "<Google Sheet key or URL>" (docs/warehouse.md), '
    "or run `pulse refresh --workbook FILE.xlsx` on a workbook"
)


class _Rows(Protocol):
    """What a query gives back to the shared reads: DuckDB's connection, psycopg's cursor."""

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class _Connection(Protocol):
    """The connection calls both databases share (DuckDB's and psycopg's connections)."""

    def execute(self, query: str) -> _Rows: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> object: ...


def duckdb_path(url: str) -> Path:
    """The file of a `duckdb://` URL, as Ibis reads it: `duckdb:///abs/crm.duckdb` or `duckdb://relative.duckdb`."""
    sql_scheme_problem(url, raise_as=WorkbookError)
    rest = url.partition("://")[2].split("?")[0]
    if not rest or rest == ":memory:":
        raise WorkbookError("a duckdb URL names a file: duckdb:///absolute/path/crm.duckdb or duckdb://relative.duckdb")
    return Path(rest).expanduser()


def open_sql_workbook(settings: Settings) -> SqlWorkbook:
    """The configured SQL source; its URL comes from `[source] url` or the environment (PULSE_SOURCE_URL)."""
    url = settings.source.url or os.environ.get(URL_ENV)
    if not url:
        raise WorkbookError(
            f'[source] kind = "sql" needs url = "duckdb:///path/crm.duckdb" in the config (or {URL_ENV})'
        )
    workbook: SqlWorkbook
    if sql_scheme(url) in POSTGRES_SCHEMES:
        sql_scheme_problem(url, raise_as=WorkbookError)
        workbook = PgWorkbook(url)
    elif sql_scheme(url) == "bigquery":
        sql_scheme_problem(url, raise_as=WorkbookError)
        workbook = BigQueryWorkbook(url)
    else:
        workbook = SqlWorkbook(duckdb_path(url), settings.source.memory_limit, settings.source.threads)
    workbook.output = open_output(settings)
    return workbook


class SqlWorkbook:
    """Source tables in a DuckDB file, read-only: the owned tabs go to the `[output]` workbook (`output`) when one is
    configured, else they are refused. `PgWorkbook` reads PostgreSQL the same way; the two differ in how they
    connect, list tables and fetch Arrow."""

    output: Workbook | None = None

    default_schema = "main"

    def __init__(self, path: str | Path, memory_limit: str = "1GB", threads: int | None = None) -> None:
        self.path = Path(path)
        # DuckDB runs in this process: its buffer memory (and worker threads) are capped ([source] memory_limit).
        self.memory_limit, self.threads = memory_limit, threads

    def describe(self) -> str:
        return f"duckdb://{self.path}"

    def change_marker(self) -> str | None:
        """The file's modification time and size: a new export makes the cached snapshot stale."""
        return file_marker(self.path)

    def read_tabs(self, names: Sequence[str]) -> dict[str, RawTab | None]:
        """Each named table as a raw tab (column names as the header row); a missing table maps to None."""
        with self._connect() as con:
            found = self._tables(con)
            out: dict[str, RawTab | None] = {}
            for name in names:
                table = found.get(self._key(name))
                out[name] = None if table is None else _read_table(table[0], self._arrow(con, table[1]))
            return out

    def read_columns(self, names: Sequence[str]) -> dict[str, RawTab | ColumnarTab | None]:
        """Like `read_tabs`, as typed Arrow columns handed to the columnar validation (no Python object per number
        or date); a table with a column type that path does not know (intervals, lists…) is read cell by cell."""
        with self._connect() as con:
            found = self._tables(con)
            out: dict[str, RawTab | ColumnarTab | None] = {}
            for name in names:
                table = found.get(self._key(name))
                if table is None:
                    out[name] = None
                    continue
                arrow = self._arrow(con, table[1])
                out[name] = _columnar_table(table[0], arrow) or _read_table(table[0], arrow)
            return out

    def with_recorded(
        self, issues: list[DataIssue], excluded: dict[str, int]
    ) -> tuple[list[DataIssue], dict[str, int]]:
        """A read's issues and rejected-row counts plus those `pulse export` recorded (rows the sheet rejected are not
        in the tables): the recorded issues first, then the read's own that do not repeat one of them."""
        recorded, counts = self.recorded_issues()
        seen = {_same(i) for i in recorded}
        merged = [*recorded, *(i for i in issues if _same(i) not in seen)]
        return merged, {key: n + counts.get(key, 0) for key, n in excluded.items()}

    def recorded_issues(self) -> tuple[list[DataIssue], dict[str, int]]:
        """Issues `pulse export` recorded and the rejected-row count per tab; nothing for a file it did not write."""
        with self._connect() as con:
            found = self._tables(con)
            if META_TABLE not in found or ISSUES_TABLE not in found:
                return [], {}
            # Read as Arrow like every table (no SQL of ours: quoting differs between DuckDB, PostgreSQL and BigQuery).
            rows = sorted(self._arrow(con, found[ISSUES_TABLE][1]).to_pylist(), key=lambda r: r["seq"])
            counts = {r["tab_key"]: r["rejected_rows"] for r in self._arrow(con, found[META_TABLE][1]).to_pylist()}
        issues = [
            DataIssue(
                r["tab"],
                None if r["row"] is None else int(r["row"]),
                r["column"] or "",
                r["value"] or "",
                r["reason"],
                r["severity"],
                r["tab_key"] or "",
            )
            for r in rows
        ]
        return issues, {k: int(v) for k, v in counts.items()}

    def read_owned(self, name: str) -> list[list[Cell]] | None:
        """An owned tab of the `[output]` workbook; a SQL source itself holds none."""
        return None if self.output is None else self.output.read_owned(name)

    def write_owned(self, tabs: Mapping[str, OwnedTab]) -> WriteReport:
        """The summary tabs written to the `[output]` workbook; refused with a sentence without one."""
        if self.output is None:
            raise WorkbookError(READ_ONLY, status=400, title="crm-pulse cannot write summary tabs")
        return self.output.write_owned(tabs)

    def _connect(self) -> _Connection:
        import duckdb

        if not self.path.is_file():
            raise WorkbookError(
                f"DuckDB file not found: {self.path}. Create it with `pulse export --duckdb {self.path}`, "
                f'or set [source] url = "duckdb:///path/to/crm.duckdb"'
            )
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as err:
            raise WorkbookError(f"could not open {self.path} with DuckDB: {err}") from None
        # Set on the open connection, not as connect() config: DuckDB refuses a second connection to the same file
        # with another config, and these settings are the database instance's anyway.
        limit = self.memory_limit.replace("'", "''")
        con.execute(f"SET memory_limit = '{limit}'")
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        return con

    def ibis_backend(self, con: _Connection) -> Any:
        """Ibis's backend on an open connection (sheets/warehouse/pushdown.py compiles the aggregates with it)."""
        import ibis

        return ibis.duckdb.from_connection(con)

    def _arrow(self, con: _Connection, qualified: str) -> pa.Table:
        """Every row of one table as an Arrow table."""
        import duckdb

        if not isinstance(con, duckdb.DuckDBPyConnection):
            raise TypeError(f"a DuckDB connection is needed, not {type(con).__name__}")
        table: pa.Table = con.sql(f"SELECT * FROM {qualified}").to_arrow_table()
        return table

    def _key(self, name: str) -> str:
        """A table name as the database matches it: case-insensitive, the default schema implied."""
        return name.strip().casefold().removeprefix(f"{self.default_schema}.")

    def _tables(self, con: _Connection) -> dict[str, tuple[str, str]]:
        """Every table and view: matching key → (name as reports show it, quoted qualified name)."""
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        out: dict[str, tuple[str, str]] = {}
        for schema, table in rows:
            home = schema == self.default_schema
            shown = table if home else f"{schema}.{table}"
            out.setdefault(self._key(f"{schema}.{table}"), (shown, f"{_quote(schema)}.{_quote(table)}"))
            if home:
                out.setdefault(self._key(table), (shown, f"{_quote(schema)}.{_quote(table)}"))
        return out


class PgWorkbook(SqlWorkbook):
    """Source tables in a PostgreSQL database, read-only. The URL names the server and database; the password comes
    from the environment (PGPASSWORD, ~/.pgpass or the whole URL in PULSE_SOURCE_URL), never from the config file."""

    default_schema = "public"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(".")

    def describe(self) -> str:
        """The URL without its password: user, host, port and database."""
        return redact_url(self.url)

    def change_marker(self) -> str | None:
        """None: a database has no cheap change stamp, so the snapshot is read again after `cache_seconds`."""
        return None

    def _connect(self) -> _Connection:
        import psycopg

        try:
            return psycopg.connect(_libpq_url(self.url), autocommit=True, connect_timeout=10)
        except psycopg.Error as err:
            raise WorkbookError(f"could not connect to {self.describe()}: {_pg_reason(err, self.url)}") from None

    def ibis_backend(self, con: _Connection) -> Any:
        import ibis

        return ibis.postgres.from_connection(con)

    def _arrow(self, con: _Connection, qualified: str) -> pa.Table:
        """Every row of one table as an Arrow table, each column typed from its values (NUMERIC as decimals)."""
        import psycopg
        import pyarrow as pa

        if not isinstance(con, psycopg.Connection):
            raise TypeError(f"a PostgreSQL connection is needed, not {type(con).__name__}")

        with con.cursor() as cur:
            cur.execute(f"SELECT * FROM {qualified}")
            names = [d.name for d in cur.description or []]
            rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return pa.table({name: pa.array(list(values)) for name, values in zip(names, columns, strict=True)})


BIGQUERY_SCOPES = ("https://www.googleapis.com/auth/bigquery",)
BIGQUERY_EXTRA = (
    "a bigquery:// source needs the optional BigQuery support: install it with `uv sync --extra bigquery` "
    "(pip: `pip install 'crm-pulse[bigquery]'`)"
)


class BigQueryWorkbook(SqlWorkbook):
    """Source tables in a BigQuery dataset (`bigquery://project/dataset`), read-only, through Ibis's BigQuery backend
    (the optional `bigquery` extra). Credentials come from the environment only: GOOGLE_APPLICATION_CREDENTIALS (a
    service-account key file) or Application Default Credentials, never from the URL or the config."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(".")
        self.project, self.dataset = [p for p in url.partition("://")[2].split("?")[0].split("/") if p][:2]
        self.default_schema = self.dataset

    def describe(self) -> str:
        return f"bigquery://{self.project}/{self.dataset}"

    def change_marker(self) -> str | None:
        """None: a dataset has no cheap change stamp, so the snapshot is read again after `cache_seconds`."""
        return None

    def _connect(self) -> _Connection:
        """Ibis's BigQuery backend on the dataset, with the environment's Google credentials."""
        try:
            import ibis

            backend_module = ibis.bigquery
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError
        except ImportError:
            raise WorkbookError(BIGQUERY_EXTRA) from None
        try:
            credentials, _ = google.auth.default(scopes=list(BIGQUERY_SCOPES))
        except DefaultCredentialsError:
            raise WorkbookError(
                f"no Google credentials for {self.describe()}: set GOOGLE_APPLICATION_CREDENTIALS to a service-account "
                "key file (roles BigQuery Data Viewer and BigQuery Job User), or run "
                "`gcloud auth application-default login`"
            ) from None
        try:
            backend = backend_module.connect(project_id=self.project, dataset_id=self.dataset, credentials=credentials)
        except Exception as err:  # noqa: BLE001 - google-cloud's many error types; one sentence, no trace
            raise WorkbookError(f"could not connect to {self.describe()}: {str(err).splitlines()[0]}") from None
        return _IbisConnection(backend)

    def ibis_backend(self, con: _Connection) -> Any:
        return con.backend if isinstance(con, _IbisConnection) else None

    def _tables(self, con: _Connection) -> dict[str, tuple[str, str]]:
        """The dataset's tables and views: key → (name, `"dataset"."table"`, the form pushdown's table lookup reads)."""
        if not isinstance(con, _IbisConnection):
            raise TypeError(f"a BigQuery connection is needed, not {type(con).__name__}")
        out: dict[str, tuple[str, str]] = {}
        for table in con.backend.list_tables(database=self.dataset):
            qualified = f"{_quote(self.dataset)}.{_quote(table)}"
            out.setdefault(self._key(table), (table, qualified))
            out.setdefault(self._key(f"{self.dataset}.{table}"), (table, qualified))
        return out

    def _arrow(self, con: _Connection, qualified: str) -> pa.Table:
        """Every row of one table as Arrow, through Ibis (BigQuery's storage API when installed)."""
        if not isinstance(con, _IbisConnection):
            raise TypeError(f"a BigQuery connection is needed, not {type(con).__name__}")
        schema, _, table = qualified.partition('"."')
        name = table.strip('"').replace('""', '"')
        arrow: pa.Table = con.backend.table(name, database=schema.strip('"').replace('""', '"')).to_pyarrow()
        return arrow


class _IbisConnection:
    """An Ibis backend in the shape the shared reads use (`execute`, `close`, a context manager)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def execute(self, query: str) -> _Rows:
        result = self.backend.raw_sql(query)
        rows = result.result() if hasattr(result, "result") else result  # a query job, or its rows already
        return _Fetched([tuple(r.values()) for r in rows])

    def close(self) -> None:
        with contextlib.suppress(Exception):  # nothing left to close on a broken client
            self.backend.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> object:
        """Kept open: the backend is closed by `close` (pushdown keeps it between questions)."""
        return None


@dataclass(frozen=True)
class _Fetched:
    rows: list[tuple[Any, ...]]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


def redact_url(url: str) -> str:
    """A database URL as it may be shown or logged: the password replaced by ***."""
    secret = url_password(url)
    return url.replace(f":{secret}@", ":***@", 1) if secret else url


def _libpq_url(url: str) -> str:
    """A SQLAlchemy/Ibis-style `postgresql+psycopg://` URL as libpq reads it (`postgresql://`)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.split("+")[0] in POSTGRES_SCHEMES else url


def _pg_reason(err: Exception, url: str) -> str:
    """psycopg's first line, without the password should the server echo the URL."""
    line = (str(err).strip().splitlines() or ["connection failed"])[0]
    secret = url_password(url)
    return line.replace(secret, "***") if secret else line


def _same(issue: DataIssue) -> tuple[Any, ...]:
    """What makes two issues the same report (a tab lacking a column names the headers it saw, which differ)."""
    return issue.tab_key, issue.row, issue.column, issue.severity, issue.reason.split(";")[0]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _read_table(shown: str, arrow: pa.Table) -> RawTab:
    """One table as a raw tab: Arrow columns to plain cells, placed at their `row` numbers when it has them."""
    names: list[Cell] = list(arrow.column_names)
    columns = [_cells(arrow.column(i)) for i in range(arrow.num_columns)]
    rows_at = _row_numbers(columns[names.index(ROW_COLUMN)] if ROW_COLUMN in names else None)
    if rows_at is not None:
        at = names.index(ROW_COLUMN)
        names.pop(at)
        columns.pop(at)
    data = [list(r) for r in zip(*columns, strict=True)] if columns else []
    if rows_at is None:
        return RawTab(shown, [names, *data])
    grid: list[list[Cell]] = [[] for _ in range(max(rows_at, default=1))]
    grid[0] = names
    for at, row in sorted(zip(rows_at, data, strict=True), key=lambda p: p[0]):
        grid[at - 1] = row
    return RawTab(shown, grid)


def _columnar_table(shown: str, arrow: pa.Table) -> ColumnarTab | None:
    """One table as typed columns (`sheets.columnar`'s cells), placed at their `row` numbers when it has them;
    None when a column's type has no columnar reading."""
    import pyarrow as pa

    names = list(arrow.column_names)
    columns = []
    for i in range(arrow.num_columns):
        column = arrow.column(i).combine_chunks()
        if isinstance(column, pa.DictionaryArray):
            column = column.dictionary_decode()
        if pa.types.is_decimal(column.type):  # via text: Arrow's own cast gives 19.99 as 19.990000000000002
            column = column.cast(pa.string()).cast(pa.float64())
        columns.append(column)
    rows_at = _row_numbers(columns[names.index(ROW_COLUMN)].to_pylist() if ROW_COLUMN in names else None)
    if rows_at is not None:
        at = names.index(ROW_COLUMN)
        names.pop(at)
        columns.pop(at)
    converted = [cells for cells in map(arrow_cells, columns) if cells is not None]
    if len(converted) < len(columns):
        return None
    series = [c[0] for c in converted]
    filled = np.zeros(arrow.num_rows, dtype=bool)
    for _, has in converted:
        filled |= has
    if rows_at is not None:
        series, filled = _placed(series, filled, np.asarray(rows_at, dtype=np.int64))
    return ColumnarTab(shown, names, 1, series, filled)


def _placed(series: list[pd.Series], filled: np.ndarray, rows_at: np.ndarray) -> tuple[list[pd.Series], np.ndarray]:
    """Columns spread out to their sheet rows (row 2 is the first data row); the rows between are blank."""
    size = int(rows_at.max(initial=1)) - 1
    at = rows_at - 2
    out = []
    for s in series:
        values = s.to_numpy()  # numpy-typed: float, object or datetime64 (sheets.columnar's cells)
        cells = np.full(size, np.nan if values.dtype == float else None, dtype=values.dtype)
        cells[at] = values
        out.append(pd.Series(cells, dtype=s.dtype))
    spread = np.zeros(size, dtype=bool)
    spread[at] = filled
    return out, spread


def _row_numbers(values: list[Cell] | None) -> list[int] | None:
    """The sheet rows of an exported table (its `row` column: distinct whole numbers ≥ 2), else None."""
    if values is None:
        return None
    rows = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v >= 2]
    if len(rows) < len(values):
        return None
    if len(set(rows)) != len(rows) or (rows and max(rows) > 10 * len(rows) + 1_000):
        return None
    return rows


def _cells(column: pa.ChunkedArray[Any]) -> list[Cell]:
    """An Arrow column as cells the sheet parser knows (dictionary-encoded text decoded first)."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return [_plain_cell(v) for v in column.to_pylist()]


def _plain_cell(value: object) -> Cell:
    """Decimals as floats, pandas Timestamps as datetimes, instants as naive UTC datetimes; values of types no sheet
    cell has (lists, structs, blobs, UUIDs) as their text, which the parser reports as it does any bad text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if value is None or isinstance(value, str | int | float | date | time | timedelta):
        return value
    return str(value)
