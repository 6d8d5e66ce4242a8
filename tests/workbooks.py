"""Build small source workbooks by hand for tests, the way a user would type them into a sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from openpyxl import Workbook, load_workbook


def write_source_workbook(path: Path, tabs: dict[str, Iterable[Sequence]]) -> Path:
    """Create `path` with one sheet per tab; the first row of each tab is its header."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in tabs.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


def append_rows(path: Path, tab: str, rows: Iterable[Sequence]) -> None:
    """Append rows to a tab, as a user typing new answers would."""
    wb = load_workbook(path)
    for row in rows:
        wb[tab].append(list(row))
    wb.save(path)
