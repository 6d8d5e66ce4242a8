"""Columnar read of a local .xlsx tab: fastexcel parses the sheet straight into typed Arrow columns, so no Python
object is made per number or date and no row lists are transposed (issue 16 item 1).

The cells handed to the parser are the same values the per-cell path (python-calamine's rows) gives: numbers as
float, text as str (untrimmed), dates as datetime (a datetime64 column when every date fits one), booleans as
bool, empty as None. A column mixing types (a text among dates or amounts, ids typed both as `007` and `7`) is
read as durations, which only date cells convert to, so every other cell comes back as a cell error naming its
exact value (`String("007")`, `Float(7.0)`, `Bool(true)`): the clean columns stay typed arrays and only the mixed
column's cells become Python objects. Each mixed column costs one more parse of the sheet, so a tab with more than
`MAX_MIXED_COLUMNS` of them, and whatever fastexcel cannot give exactly — a time-of-day column, a cell kind the
errors do not spell (an error cell such as `#N/A`), a mixed date column on the 1904 calendar, a header row it cannot
name one to one, a sheet whose first row with a value is not the header — makes `read_columns` return None and the
caller uses the per-cell path for that tab, which stays the reference.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(/?)>(.*?)(?:</(?:\w+:)?row>|$)", re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>")
_UNNAMED = re.compile(r"^__UNNAMED__\d+$|_\d+$")
PEEK_BYTES = 1 << 16
# Each mixed column costs one more parse of the sheet: one breaks even with the per-cell read of the tab (200k
# orders: 2.1–2.2 s CPU either way, typing 0.9 → 0.6 s), two cost 1.7× more, so two or more are read cell by cell.
MAX_MIXED_COLUMNS = 1
_MIXED_COLUMN = re.compile(r"could not determine dtype for column (.+?)\s*$", re.M)
_CELL_ERROR = re.compile(r"Expected duration but got '(\w+)\((.*)\)'?$", re.S)
_RUST_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|.)", re.S)
_RUST_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
SERIAL_EPOCH = np.datetime64("1899-12-30", "ms")


@dataclass(frozen=True)
class ColumnarTab:
    """A tab read column by column: the header row's text, its sheet row (1-based), each column's data cells."""

    name: str
    header: list[str]
    header_row: int
    columns: list[pd.Series]
    filled: np.ndarray  # per data row: True when any cell of the row (any column) has content

    @property
    def n_rows(self) -> int:
        return len(self.filled)


def read_columns(path: str, title: str, part: str | None) -> ColumnarTab | None:
    """The tab `title` of the workbook at `path` as typed columns, or None when only the per-cell path is exact."""
    header_row = _first_value_row(path, part)
    if header_row is None:
        return None
    loaded = _load(path, title)
    if loaded is None:
        return None
    batch, mixed = loaded
    names = list(batch.schema.names)
    if not names or any(_UNNAMED.search(n) or not n.strip() for n in names):
        return None  # an empty or repeated header cell: fastexcel renamed it, so the names are not the sheet's
    columns = []
    filled = np.zeros(batch.num_rows, dtype=bool)
    for i in range(batch.num_columns):
        converted = _mixed_cells(batch.column(i), mixed[i]) if i in mixed else _cells(batch.column(i))
        if converted is None:
            return None
        series, has = converted
        columns.append(series)
        filled |= has
    return ColumnarTab(title, [n.strip() for n in names], header_row, columns, filled)


def _load(path: str, title: str) -> tuple[Any, dict[int, list[tuple[int, str]]]] | None:
    """The sheet as Arrow columns, strictly typed, and each mixed column's cell errors (data row, detail) by index.

    A strict load names the first column mixing types; that column is then loaded as durations and the load
    repeated, up to `MAX_MIXED_COLUMNS` times.
    """
    import fastexcel

    logging.getLogger("fastexcel").setLevel(logging.ERROR)  # "falling back to string": every column is checked here
    reader = fastexcel.read_excel(path)
    as_durations: dict[str, str] = {}
    for _ in range((0 if _calendar_1904(path) else MAX_MIXED_COLUMNS) + 1):
        try:
            sheet = reader.load_sheet(
                title,
                header_row=0,
                schema_sample_rows=None,
                dtype_coercion="strict",
                dtypes=cast(Any, as_durations) or None,
            )
            if not as_durations:
                return sheet.to_arrow(), {}
            batch, errors = sheet.to_arrow_with_errors()
        except fastexcel.UnsupportedColumnTypeCombinationError as err:
            found = _MIXED_COLUMN.search(str(err))
            if found is None or found.group(1) in as_durations:
                return None
            as_durations[found.group(1)] = "duration"
            continue
        except Exception:  # noqa: BLE001 - an unknown cell type, an unreadable sheet: the per-cell path reads it
            return None
        index = {name: i for i, name in enumerate(batch.schema.names)}
        if any(name not in index for name in as_durations):
            return None
        mixed: dict[int, list[tuple[int, str]]] = {index[name]: [] for name in as_durations}
        for error in errors.errors if errors is not None else ():
            row, col = error.offset_position
            if col not in mixed:
                return None
            mixed[col].append((row, error.detail))
        return batch, mixed
    return None


def _calendar_1904(path: str) -> bool:
    """True for a workbook on the 1904 calendar, whose serial days do not count from 1899-12-30 (or unreadable)."""
    try:
        with zipfile.ZipFile(path) as z:
            head = z.read("xl/workbook.xml")[:PEEK_BYTES]
    except (KeyError, zipfile.BadZipFile, OSError, zlib.error):
        return True
    return re.search(rb'date1904="(?:1|true)"', head) is not None


def _mixed_cells(col: Any, errors: list[tuple[int, str]]) -> tuple[pd.Series, np.ndarray] | None:
    """A mixed column loaded as durations: date cells from the durations, every other cell from its cell error."""
    import pyarrow.compute as pc

    cells = np.full(len(col), None, dtype=object)
    has = pc.is_valid(col).to_numpy(zero_copy_only=False)
    if has.any():
        days = col.to_numpy(zero_copy_only=False)[has].astype("timedelta64[ms]")
        if (days < np.timedelta64(1, "D")).any():
            return None  # a time of day (the per-cell path gives a time): only that path is exact
        stamps = (SERIAL_EPOCH + days).astype(object)
        cells[has] = [d.date() if d.time() == time(0) else d for d in stamps]
    for row, detail in errors:
        value = _error_value(detail)
        if value is None:
            return None
        cells[row] = value
        has[row] = bool(value.strip()) if isinstance(value, str) else True
    return pd.Series(cells, dtype=object), has


def _error_value(detail: str) -> str | float | bool | None:
    """The cell a fastexcel cell error names (`String("a\\"b")`, `Float(1e20)`, `Bool(true)`); None for others."""
    found = _CELL_ERROR.match(detail)
    if found is None:
        return None
    kind, inner = found.groups()
    if kind == "String" and len(inner) >= 2 and inner[0] == inner[-1] == '"':
        return _RUST_ESCAPE.sub(_unescape, inner[1:-1])
    if kind == "Float":
        try:
            return float(inner)
        except ValueError:
            return None
    if kind == "Bool" and inner in ("true", "false"):
        return inner == "true"
    return None


def _unescape(m: re.Match[str]) -> str:
    """One Rust debug escape (`\\n`, `\\"`, `\\u{202e}`) as the character it stands for."""
    code = m.group(1)
    if code.startswith("u{") and len(code) > 3:
        return chr(int(code[2:-1], 16))
    return _RUST_ESCAPES.get(code, code)


def _cells(col: pa.Array[Any]) -> tuple[pd.Series, np.ndarray] | None:
    """One Arrow column as the per-cell path's values, and which cells have content; None for other types."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = col.type
    if pa.types.is_null(kind):
        return pd.Series(np.full(len(col), None, dtype=object)), np.zeros(len(col), dtype=bool)
    valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return pd.Series(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=float), valid
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        nonblank = pc.not_equal(pc.utf8_trim_whitespace(col), pa.scalar(""))
        has = nonblank.fill_null(False).to_numpy(zero_copy_only=False)
        return pd.Series(col.to_numpy(zero_copy_only=False), dtype=object), has
    if pa.types.is_boolean(kind):
        return pd.Series(np.asarray(col.to_pylist(), dtype=object)), valid
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        try:  # within datetime64[ns] (1677–2262): a datetime column, typed without a Python object per cell
            return pd.Series(pc.cast(col, pa.timestamp("ns")).to_numpy(zero_copy_only=False)), valid
        except pa.ArrowInvalid:
            pass
        stamps = pd.Series(pc.cast(col, pa.timestamp("us")).to_numpy(zero_copy_only=False))
        cells = np.full(len(col), None, dtype=object)
        cells[valid] = pd.DatetimeIndex(stamps[valid]).to_pydatetime()
        return pd.Series(cells, dtype=object), valid
    return None


def _first_value_row(path: str, part: str | None) -> int | None:
    """The sheet row number (1-based) of the first row holding a value, from the first bytes of the sheet's XML.

    fastexcel takes that row as the header; the per-cell path takes the first row with non-blank text, so a
    first value row that is blank or whitespace only gives different answers and the per-cell path is used.
    """
    if part is None:
        return None
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as raw:
            head = raw.read(PEEK_BYTES)
    except (KeyError, zipfile.BadZipFile, OSError, zlib.error):
        return None
    start = head.find(b"<sheetData")
    if start < 0:
        return None
    for m in _ROW.finditer(head, start):
        attrs, empty, body = m.groups()
        if empty or not _VALUE.search(body):
            continue
        number = _ROW_NUMBER.search(attrs)
        if number is None or not body.rstrip().endswith(b"</c>") or not _plain_text_row(body):
            return None
        return int(number.group(1))
    return None


def _plain_text_row(body: bytes) -> bool:
    """True when every valued cell of the header row is non-blank text (shared, inline or formula text)."""
    cells = re.findall(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", body, re.S)
    for attrs, inner in cells:
        if not inner or not _VALUE.search(inner):
            continue
        kind = re.search(rb'\bt="(\w+)"', attrs)
        if kind is None or kind.group(1) not in (b"s", b"inlineStr", b"str"):
            return False
    return True
