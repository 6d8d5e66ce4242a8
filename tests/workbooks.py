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


def two_month_workbook(path: Path) -> Path:
    """Four customers signed up on 1 December 2025; C1 and C2 order $100 and $50 in January and again in February;
    NPS answers: January 10 and 3 (one promoter, one detractor), February 10 and 9 (two promoters)."""
    from datetime import datetime as D

    return write_source_workbook(path, {
        "Customers": [["customer_id", "signup_date"]] + [[f"C{i}", D(2025, 12, 1)] for i in range(1, 5)],
        "Orders": [["customer_id", "order_date", "amount"], ["C1", D(2026, 1, 5), 100.0], ["C2", D(2026, 1, 6), 50.0],
                   ["C1", D(2026, 2, 5), 100.0], ["C2", D(2026, 2, 6), 50.0]],
        "Responses": [["date", "survey", "score", "customer_id"], [D(2026, 1, 5), "NPS", 10, "C1"], [D(2026, 1, 6), "NPS", 3, "C2"],
                      [D(2026, 2, 5), "NPS", 10, "C1"], [D(2026, 2, 6), "NPS", 9, "C2"]],
    })
