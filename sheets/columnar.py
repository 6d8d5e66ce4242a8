"""Columnar read of a local .xlsx tab: fastexcel parses the sheet straight into typed Arrow columns, so no Python
object is made per number or date and no row lists are transposed (issue 16 item 1).

The cells handed to the parser are the same values the per-cell path (python-calamine's rows) gives: numbers as
float, text as str (untrimmed), dates as datetime (a datetime64 column when every date fits one), booleans as
bool, empty as None. Whenever fastexcel could
not give exactly that — a column mixing types (a text in a number column), a time-of-day column, a header row it
cannot name one to one, a sheet whose first row with a value is not the header — `read_columns` returns None
and the caller uses the per-cell path for that tab, which stays the reference.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(/?)>(.*?)(?:</(?:\w+:)?row>|$)", re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>")
_UNNAMED = re.compile(r"^__UNNAMED__\d+$|_\d+$")
PEEK_BYTES = 1 << 16


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
    import fastexcel

    try:
        sheet = fastexcel.read_excel(path).load_sheet(
            title, header_row=0, schema_sample_rows=None, dtype_coercion="strict"
        )
        batch = sheet.to_arrow()
    except Exception:  # noqa: BLE001 - a mixed column, an unknown cell type: the per-cell path reads it
        return None
    names = list(batch.schema.names)
    if not names or any(_UNNAMED.search(n) or not n.strip() for n in names):
        return None  # an empty or repeated header cell: fastexcel renamed it, so the names are not the sheet's
    columns = []
    filled = np.zeros(batch.num_rows, dtype=bool)
    for i in range(batch.num_columns):
        converted = _cells(batch.column(i))
        if converted is None:
            return None
        series, has = converted
        columns.append(series)
        filled |= has
    return ColumnarTab(title, [n.strip() for n in names], header_row, columns, filled)


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
