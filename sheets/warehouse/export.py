"""`pulse export --duckdb FILE`: the snapshot's typed tables, its data issues and what was read, in a DuckDB file.

The file is built beside the target under a temporary name and renamed over it only when complete, so a reader
sees the old file or the new one, never half of one. A target that `pulse export` did not write is never replaced.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from metrics.schema import SOURCE_TABS
from sheets.snapshot import Snapshot
from sheets.warehouse.source import ISSUES_TABLE, META_TABLE
from sheets.workbook import WorkbookError

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

FORMAT_VERSION = 1


@dataclass
class ExportReport:
    """What an export wrote: rows per table, the file and how long it took."""

    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    issues: int = 0
    rejected_rows: int = 0
    seconds: float = 0.0
    size: int = 0

    def summary(self) -> str:
        """One line: the file, the tables with their rows, the issues."""
        tables = ", ".join(f"{name} {n:,}" for name, n in self.tables.items()) or "no source tables"
        return (
            f"wrote {self.path} ({self.size / 1e6:.1f} MB) in {self.seconds:.1f} s: {tables}; "
            f"{ISSUES_TABLE} {self.issues:,} ({self.rejected_rows:,} rows rejected)"
        )


def export_duckdb(
    snapshot: Snapshot, path: str | Path, progress: Callable[[str], None] = lambda _: None
) -> ExportReport:
    """Write the snapshot's tables to the DuckDB file at `path`, replacing it whole and atomically."""
    import duckdb

    started = time.monotonic()
    target = Path(path).expanduser()
    _check_target(target)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    report = ExportReport(target)
    try:
        with duckdb.connect(str(tmp)) as con:
            for key in SOURCE_TABS:
                if key in snapshot.missing_tabs:
                    progress(f"{key}: no such tab in the source, no table written")
                    continue
                report.tables[key] = _write_table(con, key, _exportable(snapshot, key))
                progress(f"{key}: {report.tables[key]:,} rows")
            report.issues = _write_issues(con, snapshot)
            report.rejected_rows = sum(snapshot.excluded.values())
            progress(f"{ISSUES_TABLE}: {report.issues:,} issues ({report.rejected_rows:,} rows rejected)")
            _write_meta(con, snapshot, report.tables)
            con.execute("CHECKPOINT")
        os.chmod(tmp, 0o600 if not target.exists() else target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    except (duckdb.Error, OSError) as err:
        raise WorkbookError(f"could not write {target}: {err}; the file was left unchanged") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    report.seconds = time.monotonic() - started
    report.size = target.stat().st_size
    return report


def _check_target(target: Path) -> None:
    """Refuse, with what to do, a target that is a directory, sits in a directory we cannot write, or is a file that
    `pulse export` did not write (export replaces the whole file)."""
    if target.is_dir():
        raise WorkbookError(
            f"cannot export to {target}: it is a directory; name a file such as {target / 'crm.duckdb'}"
        )
    parent = target.parent
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise WorkbookError(f"cannot export to {target}: {parent} {problem}; choose a directory you can write to")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WorkbookError(
            f"cannot export to {target}: no permission to write in {parent}; choose a directory you can write to"
        )
    if target.exists() and not _written_by_export(target):
        raise WorkbookError(
            f"cannot export to {target}: it exists and was not written by `pulse export` "
            f"(export replaces the whole file); choose a new file name"
        )


def _written_by_export(target: Path) -> bool:
    """Whether `target` is a DuckDB file holding our metadata table."""
    import duckdb

    try:
        with duckdb.connect(str(target), read_only=True) as con:
            names = {n for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    except duckdb.Error:
        return False
    return META_TABLE in names


def _exportable(snapshot: Snapshot, key: str) -> pd.DataFrame:
    """The tab's typed frame as stored: instants at microsecond precision (DuckDB's TIMESTAMP), and without the
    required columns the tab lacked, so reading the file says the same thing is missing."""
    frame = snapshot.frames[key].drop(columns=snapshot.missing_columns.get(key, []), errors="ignore")
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = frame[name].astype("datetime64[us]")
    return frame


def _write_table(con: DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    """Create table `name` from `frame`; its row count."""
    con.register("pulse_frame", frame)
    try:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM pulse_frame')
    finally:
        con.unregister("pulse_frame")
    return len(frame)


def _write_issues(con: DuckDBPyConnection, snapshot: Snapshot) -> int:
    """The `data_issues` table: every issue in order (`seq`), except the missing-tab notes any read repeats."""
    kept = [i for i in snapshot.issues if not (i.row is None and i.tab_key in snapshot.missing_tabs)]
    frame = pd.DataFrame(
        {
            "seq": pd.Series(range(len(kept)), dtype="int64"),
            "tab": pd.Series([i.tab for i in kept], dtype="string"),
            "row": pd.Series([i.row for i in kept], dtype="Int64"),
            "column": pd.Series([i.column for i in kept], dtype="string"),
            "value": pd.Series([i.value for i in kept], dtype="string"),
            "reason": pd.Series([i.reason for i in kept], dtype="string"),
            "severity": pd.Series([i.severity for i in kept], dtype="string"),
            "tab_key": pd.Series([i.tab_key for i in kept], dtype="string"),
        }
    )
    return _write_table(con, ISSUES_TABLE, frame)


def _write_meta(con: DuckDBPyConnection, snapshot: Snapshot, written: dict[str, int]) -> None:
    """The `pulse_export` table: per source tab, its rows and rejected rows, the columns it lacked, where from."""
    exported_at = datetime.now(UTC).replace(tzinfo=None)
    read_at = snapshot.read_at.astimezone(UTC).replace(tzinfo=None)
    frame = pd.DataFrame(
        {
            "tab_key": pd.Series(list(written), dtype="string"),
            "rows": pd.Series(list(written.values()), dtype="int64"),
            "rejected_rows": pd.Series([snapshot.excluded.get(k, 0) for k in written], dtype="int64"),
            "missing_columns": pd.Series(
                [", ".join(snapshot.missing_columns.get(k, [])) for k in written], dtype="string"
            ),
            "source": pd.Series([snapshot.source] * len(written), dtype="string"),
            "read_at": pd.Series([read_at] * len(written), dtype="datetime64[us]"),
            "exported_at": pd.Series([exported_at] * len(written), dtype="datetime64[us]"),
            "format_version": pd.Series([FORMAT_VERSION] * len(written), dtype="int64"),
        }
    )
    _write_table(con, META_TABLE, frame)
