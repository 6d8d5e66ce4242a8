"""Planning the owned-tab write: refusals, creation with mark/freeze/bold, growth, padding and trimming."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets.google.metadata import SheetMeta, TabInfo, parse_metadata
from sheets.google.writeback import json_cell, plan_write, trim_requests, value_data
from sheets.workbook import OwnedTab


def meta(*tabs: TabInfo) -> SheetMeta:
    return SheetMeta("Book", tabs)


def tab(sheet_id: int, title: str, rows: int = 10, cols: int = 4, frozen: int = 1, owned: bool = True) -> TabInfo:
    return TabInfo(sheet_id, title, sheet_id, rows, cols, frozen, owned)


def test_metadata_marks_owned_tabs_by_developer_metadata_key():
    response = {"properties": {"title": "T"}, "sheets": [
        {"properties": {"sheetId": 5, "title": "Pulse Log", "index": 1, "gridProperties": {"rowCount": 3, "columnCount": 2}},
         "developerMetadata": [{"metadataKey": "crm-pulse-owned", "location": {"sheetId": 5}}]},
        {"properties": {"sheetId": 0, "title": "Pulse Summary", "index": 0,
                        "gridProperties": {"rowCount": 9, "columnCount": 9, "frozenRowCount": 1}},
         "developerMetadata": [{"metadataKey": "something-else"}]},
    ]}
    parsed = parse_metadata(response)
    assert [(t.title, t.owned, t.frozen_rows) for t in parsed.tabs] == [("Pulse Summary", False, 1), ("Pulse Log", True, 0)]
    assert parsed.find("pulse log ").sheet_id == 5


def test_new_tab_is_created_marked_frozen_and_bold_in_one_request_list():
    plan = plan_write(meta(tab(0, "Customers", owned=False)), {"Pulse Log": OwnedTab("Pulse Log", ["a", "b", "c"], [[1]])},
                      protected={"Customers"}, new_id=lambda used: 42)
    kinds = [next(iter(r)) for r in plan.requests]
    assert kinds == ["addSheet", "createDeveloperMetadata", "repeatCell"]
    assert plan.requests[0]["addSheet"]["properties"] == {
        "sheetId": 42, "title": "Pulse Log", "gridProperties": {"rowCount": 2, "columnCount": 3, "frozenRowCount": 1}}
    assert plan.requests[1]["createDeveloperMetadata"]["developerMetadata"] == {
        "metadataKey": "crm-pulse-owned", "metadataValue": "Pulse Log", "location": {"sheetId": 42}, "visibility": "DOCUMENT"}
    assert plan.tabs[0].created and (plan.tabs[0].grid_rows, plan.tabs[0].grid_cols) == (2, 3)


def test_existing_owned_tab_of_the_right_size_needs_no_structure():
    plan = plan_write(meta(tab(7, "Pulse Log", rows=3, cols=2)), {"Pulse Log": OwnedTab("Pulse Log", ["a", "b"], [[1, 2], [3, 4]])}, set())
    assert plan.requests == [] and plan.tabs[0].sheet_id == 7


def test_small_grid_grows_and_new_columns_are_bolded():
    plan = plan_write(meta(tab(7, "Pulse Log", rows=3, cols=2)),
                      {"Pulse Log": OwnedTab("Pulse Log", ["a", "b", "c"], [[1, 2, 3]] * 5)}, set())
    assert plan.requests[0] == {"updateSheetProperties": {
        "properties": {"sheetId": 7, "gridProperties": {"rowCount": 6, "columnCount": 3}},
        "fields": "gridProperties(rowCount,columnCount)"}}
    assert "repeatCell" in plan.requests[1]


def test_refusals():
    plan = plan_write(meta(tab(1, "pulse summary", owned=False)),
                      {"Pulse Summary": OwnedTab("Pulse Summary", ["x"], []), "Orders": OwnedTab("Orders", ["x"], []),
                       "Pulse Log": OwnedTab("Pulse Log", ["x"], [])},
                      protected={"Pulse Log"})
    assert plan.requests == [] and plan.tabs == []
    assert "'pulse summary' already exists and was not created by crm-pulse" in plan.refused["Pulse Summary"]
    assert "not a crm-pulse tab" in plan.refused["Orders"]
    assert "source tabs are never written" in plan.refused["Pulse Log"]


def test_values_cover_the_old_grid_and_trim_follows():
    plan = plan_write(meta(tab(7, "Pulse Log", rows=5, cols=3)), {"Pulse Log": OwnedTab("Pulse Log", ["a"], [["x"]])}, set())
    data = value_data(plan.tabs, {"Pulse Log": OwnedTab("Pulse Log", ["a"], [["x"]])})
    assert data == [{"range": "'Pulse Log'!A1", "majorDimension": "ROWS",
                     "values": [["a", "", ""], ["x", "", ""], ["", "", ""], ["", "", ""], ["", "", ""]]}]
    assert trim_requests(plan.tabs) == [{"updateSheetProperties": {
        "properties": {"sheetId": 7, "gridProperties": {"rowCount": 2, "columnCount": 1}},
        "fields": "gridProperties(rowCount,columnCount)"}}]


def test_json_cells_are_raw_safe():
    assert [json_cell(v) for v in (None, "=SUM(A1)", "007", True, 3, 2.5, float("nan"), float("inf"))] == \
        ["", "=SUM(A1)", "007", True, 3, 2.5, "", ""]
    assert json_cell(np.int64(4)) == 4 and isinstance(json_cell(np.int64(4)), int)
    assert json_cell(np.float64(0.25)) == 0.25 and json_cell(np.bool_(True)) is True
    assert json_cell(date(2026, 3, 5)) == "2026-03-05"
    assert json_cell(datetime(2026, 3, 5, 9, 30, 1, 999)) == "2026-03-05 09:30:01"
    assert json_cell(pd.NaT) == "" and json_cell(pd.Timestamp("2026-01-02")) == "2026-01-02 00:00:00"


cells = st.one_of(st.none(), st.text(max_size=5), st.integers(-10, 10), st.floats(allow_nan=True))


@settings(max_examples=50, deadline=None)
@given(old_rows=st.integers(1, 12), old_cols=st.integers(1, 6),
       header=st.lists(st.text(max_size=3), min_size=1, max_size=6),
       rows=st.lists(st.lists(cells, max_size=7), max_size=10))
def test_written_rectangle_covers_old_and_new_extent(old_rows, old_cols, header, rows):
    owned = OwnedTab("Pulse Cohorts", header, rows)
    plan = plan_write(meta(tab(3, "Pulse Cohorts", rows=old_rows, cols=old_cols)), {"Pulse Cohorts": owned}, set())
    rect = value_data(plan.tabs, {"Pulse Cohorts": owned})[0]["values"]
    assert len(rect) >= max(old_rows, len(rows) + 1) and all(len(r) == len(rect[0]) >= old_cols for r in rect)
    body = [header, *rows]
    for i, row in enumerate(rect):
        for j, value in enumerate(row):
            src = body[i][j] if i < len(body) and j < len(body[i]) else None
            assert value == json_cell(src) or (value == "" and json_cell(src) == "")
