"""A Sheets values read taken column by column (majorDimension=COLUMNS), typed as whole columns (issue 16).

Each column arrives as one JSON list, so no row lists are built and transposed: a column of numbers (serial dates,
amounts, numeric ids) becomes one float array, any other column one object array of the cells exactly as the
API sent them. `sheets.validate` then types and validates the tab as it does a local .xlsx read column by column,
giving the same frames and the same rejected rows (tab, row, column, value, reason) as the per-cell path over the
same cells read row by row (`GoogleWorkbook.read_tabs`, the reference).

The two reads differ only in where the API trims empty cells: a row's trailing empties (rows) or a column's
(columns). Both are blank cells to the parser (None or ""), so the answers are the same.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from sheets.cells import display
from sheets.columnar import ColumnarTab

_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float"}
_EXACT = 2**53  # integers beyond this do not survive float64 (the per-cell path would show their exact digits)


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of JSON lists are made (none of them is a cycle);
    each pass would otherwise walk every list made so far."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode(body: bytes) -> Any:
    """A JSON answer of the API, decoded with the collector paused."""
    with no_gc():
        return json.loads(body)


def columnar_tab(title: str, columns: list[list[Any]]) -> ColumnarTab | None:
    """The tab `title` from its columns as values.batchGet sent them (majorDimension=COLUMNS, trailing empties
    trimmed): the header is the first row with a non-blank cell, as the per-cell path finds it. None for a tab
    without one (the per-cell path reports it as empty)."""
    height = max(map(len, columns), default=0)
    header_at = _header_row(columns)
    if header_at is None:
        return None
    header = [display(c[header_at]).strip() if header_at < len(c) else "" for c in columns]
    while header and not header[-1]:
        header.pop()  # the header row as the API sends it by rows: trailing empties trimmed
    n = height - header_at - 1
    filled = np.zeros(n, dtype=bool)
    typed = []
    with no_gc():
        for i, column in enumerate(columns):
            cells, has = _column(column[header_at + 1 :], n)
            filled |= has
            if i < len(header):
                typed.append(cells)
    return ColumnarTab(title, header, header_at + 1, typed, filled)


def rows_of(columns: list[list[Any]]) -> list[list[Any]]:
    """Columns back to rows, each trimmed of trailing empty cells as a read by rows returns them."""
    height = max(map(len, columns), default=0)
    rows = []
    for r in range(height):
        row = [c[r] if r < len(c) else "" for c in columns]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    return rows


def _header_row(columns: list[list[Any]]) -> int | None:
    """The index of the first row holding a cell with text (display form, trimmed), else None."""
    first = [next((r for r, v in enumerate(c) if display(v).strip()), None) for c in columns]
    return min((r for r in first if r is not None), default=None)


def _column(cells: list[Any], n: int) -> tuple[pd.Series, np.ndarray]:
    """One column's data cells, padded to `n` rows with None, and which rows have content: a float Series when
    every filled cell is a number that float64 holds exactly, else the cells as an object Series."""
    arr = np.full(n, None, dtype=object)
    arr[: len(cells)] = cells
    blank = arr == ""
    blank[len(cells) :] = True  # the padding below a column's last value
    if None in cells:  # never in what Sheets sends; pd.isna only when there is one
        blank |= pd.isna(arr)
    rest = arr[~blank]
    kind = pd.api.types.infer_dtype(rest, skipna=False) if len(rest) else "empty"
    if kind in _NUMBER_KINDS and (kind == "floating" or np.abs(rest.astype(float)).max() < _EXACT):
        values = np.full(n, np.nan)
        values[~blank] = rest.astype(float)
        return pd.Series(values, dtype=float), ~blank
    if kind in ("string", "empty"):
        has = ~blank
        has[has] = ~np.fromiter(map(str.isspace, rest), dtype=bool, count=len(rest))
        return pd.Series(arr, dtype=object), has
    return pd.Series(arr, dtype=object), np.fromiter(map(_filled, arr), dtype=bool, count=n)


def _filled(cell: object) -> bool:
    """True for a cell with content (the per-cell path's test for a row that is not blank)."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return False
    return bool(cell.strip()) if isinstance(cell, str) else True
