"""Fixtures for the data-layer tests: settings, raw tabs and small .xlsx files written with openpyxl."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from config import Settings, parse_settings
from sheets.workbook import RawTab


@pytest.fixture
def settings() -> Settings:
    return Settings()


def make_settings(**data) -> Settings:
    return parse_settings(data)


def raw(name: str, *rows: list) -> RawTab:
    return RawTab(name, [list(r) for r in rows])


def write_xlsx(path: Path, tabs: dict[str, list[list]]) -> Path:
    """A workbook as a user's spreadsheet program would save it (openpyxl, independent of our writer)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in tabs.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path
