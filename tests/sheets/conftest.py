"""Fixtures for the data-layer tests: settings, raw tabs and small .xlsx files written with openpyxl."""

from __future__ import annotations


import pytest

from config import Settings, parse_settings
from sheets.workbook import RawTab
from tests.workbooks import write_source_workbook as write_xlsx  # noqa: F401 - re-exported for the tests here


@pytest.fixture
def settings() -> Settings:
    return Settings()


def make_settings(**data) -> Settings:
    return parse_settings(data)


def raw(name: str, *rows: list) -> RawTab:
    return RawTab(name, [list(r) for r in rows])


