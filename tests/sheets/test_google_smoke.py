"""Opt-in smoke test against a real Google Sheet: runs only with PULSE_SMOKE_SHEET and Google credentials set.

    PULSE_SMOKE_SHEET=<key or URL> GOOGLE_APPLICATION_CREDENTIALS=key.json uv run pytest tests/sheets/test_google_smoke.py
PULSE_SMOKE_WRITE=1 also writes (and rewrites) the `Pulse Log` tab.
"""

from __future__ import annotations

import os

import pytest

from config import parse_settings
from sheets.workbook import OwnedTab

# Captured at import: the suite-wide conftest removes Google credentials from each test's environment.
_ENV = {k: os.environ.get(k) for k in ("PULSE_SMOKE_SHEET", "PULSE_SMOKE_WRITE", "GOOGLE_APPLICATION_CREDENTIALS",
                                       "PULSE_GOOGLE_CREDENTIALS_JSON")}
pytestmark = pytest.mark.skipif(
    not _ENV["PULSE_SMOKE_SHEET"] or not (_ENV["GOOGLE_APPLICATION_CREDENTIALS"] or _ENV["PULSE_GOOGLE_CREDENTIALS_JSON"]),
    reason="opt-in: set PULSE_SMOKE_SHEET and Google credentials to run against a real sheet",
)


@pytest.fixture
def book(monkeypatch):
    from sheets.google import open_google_workbook

    for name, value in _ENV.items():
        if value:
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("PULSE_SHEETS_API_URL", raising=False)
    return open_google_workbook(parse_settings({"source": {"sheet": _ENV["PULSE_SMOKE_SHEET"]}}))


def test_reads_the_real_sheet_in_one_batch(book):
    tabs = book.read_tabs(["Customers", "Orders", "Responses", "Complaints", "Spend", "Subscriptions"])
    assert any(tab is not None for tab in tabs.values()), "none of the source tabs exist in the smoke sheet"
    assert book.describe().startswith("Google Sheet '")


@pytest.mark.skipif(not _ENV["PULSE_SMOKE_WRITE"], reason="set PULSE_SMOKE_WRITE=1 to write Pulse Log")
def test_writes_an_owned_tab_as_raw_text(book):
    log = OwnedTab("Pulse Log", ["when", "what"], [["smoke", "=IMPORTXML(\"https://example.com\",\"//a\")"]])
    report = book.write_owned({"Pulse Log": log})
    assert report.written == ["Pulse Log"] or "Pulse Log" in report.refused
    if report.written:
        assert book.read_owned("Pulse Log")[1] == ["smoke", "=IMPORTXML(\"https://example.com\",\"//a\")"]
