"""Planning the owned-tab write: refusals, creation with mark/freeze/bold, growth, padding and trimming."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets.google.metadata import SheetMeta, TabInfo, parse_metadata
from sheets.google.writeback import (TabPlan, discard_requests, json_cell, plan_write, stage_requests, swap_requests,
                                     swapped, value_data)
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


NOW = 1_900_000_000.0


def kinds(requests: list[dict]) -> list[str]:
    return [next(iter(r)) for r in requests]


def test_new_tab_is_staged_hidden_marked_frozen_and_bold_then_renamed_and_marked_as_owned():
    plan = plan_write(meta(tab(0, "Customers", owned=False)), {"Pulse Log": OwnedTab("Pulse Log", ["a", "b", "c"], [[1]])},
                      protected={"Customers"}, now=NOW, new_id=lambda used: 42, token="t0")
    assert plan.tabs == [TabPlan("Pulse Log", 42, "Pulse Log (crm-pulse update t0)", 2, 3, None)] and plan.tabs[0].created
    stage = stage_requests(plan.tabs, NOW)
    assert kinds(stage) == ["addSheet", "createDeveloperMetadata", "repeatCell"]
    assert stage[0]["addSheet"]["properties"] == {
        "sheetId": 42, "title": "Pulse Log (crm-pulse update t0)", "hidden": True,
        "gridProperties": {"rowCount": 2, "columnCount": 3, "frozenRowCount": 1}}
    assert stage[1]["createDeveloperMetadata"]["developerMetadata"] == {
        "metadataKey": "crm-pulse-staging", "metadataValue": "1900000000", "location": {"sheetId": 42}, "visibility": "DOCUMENT"}
    swap = swap_requests(plan.tabs)
    assert kinds(swap) == ["updateSheetProperties", "deleteDeveloperMetadata", "createDeveloperMetadata"]
    assert swap[0]["updateSheetProperties"] == {"properties": {"sheetId": 42, "title": "Pulse Log", "hidden": False},
                                                "fields": "title,hidden"}
    assert swap[2]["createDeveloperMetadata"]["developerMetadata"] == {
        "metadataKey": "crm-pulse-owned", "metadataValue": "Pulse Log", "location": {"sheetId": 42}, "visibility": "DOCUMENT"}


def test_existing_tab_takes_the_staged_values_in_place_and_the_staging_tab_goes():
    plan = plan_write(meta(tab(7, "Pulse Log", rows=30, cols=9)), {"Pulse Log": OwnedTab("Pulse Log", ["a", "b"], [[1, 2]] * 4)},
                      set(), now=NOW, new_id=lambda used: 8, token="t1")
    assert plan.tabs == [TabPlan("Pulse Log", 8, "Pulse Log (crm-pulse update t1)", 5, 2, 7)]
    swap = swap_requests(plan.tabs)
    assert kinds(swap) == ["updateSheetProperties", "updateCells", "copyPaste", "repeatCell", "deleteSheet"]
    assert swap[0]["updateSheetProperties"]["properties"] == {
        "sheetId": 7, "gridProperties": {"rowCount": 5, "columnCount": 2, "frozenRowCount": 1}}
    assert swap[1] == {"updateCells": {"range": {"sheetId": 7}, "fields": "userEnteredValue"}}
    whole = {"startRowIndex": 0, "endRowIndex": 5, "startColumnIndex": 0, "endColumnIndex": 2}
    assert swap[2]["copyPaste"] == {"source": {"sheetId": 8, **whole}, "destination": {"sheetId": 7, **whole},
                                    "pasteType": "PASTE_VALUES", "pasteOrientation": "NORMAL"}
    assert swap[4] == {"deleteSheet": {"sheetId": 8}}
    assert discard_requests([8]) == [{"deleteSheet": {"sheetId": 8}}]


def test_refusals():
    plan = plan_write(meta(tab(1, "pulse summary", owned=False)),
                      {"Pulse Summary": OwnedTab("Pulse Summary", ["x"], []), "Orders": OwnedTab("Orders", ["x"], []),
                       "Pulse Log": OwnedTab("Pulse Log", ["x"], [])},
                      protected={"Pulse Log"}, now=NOW)
    assert plan.tabs == [] and plan.stale == []
    assert "'pulse summary' already exists and was not created by crm-pulse" in plan.refused["Pulse Summary"]
    assert "not a crm-pulse tab" in plan.refused["Orders"]
    assert "source tabs are never written" in plan.refused["Pulse Log"]


def test_staging_tabs_older_than_fifteen_minutes_are_stale():
    old = TabInfo(3, "Pulse Log (crm-pulse update aa)", 3, 2, 2, 1, False, staged_at=NOW - 901)
    young = TabInfo(4, "Pulse Log (crm-pulse update bb)", 4, 2, 2, 1, False, staged_at=NOW - 899)
    assert plan_write(meta(old, young), {}, set(), now=NOW).stale == [3]
    response = {"sheets": [{"properties": {"sheetId": 3, "title": "x", "index": 0},
                            "developerMetadata": [{"metadataKey": "crm-pulse-staging", "metadataValue": "garbage"}]}]}
    assert parse_metadata(response).tabs[0].staged_at == 0.0  # unreadable: cleaned up as stale


def test_values_cover_the_staging_grid():
    plan = plan_write(meta(), {"Pulse Log": OwnedTab("Pulse Log", ["a", "b"], [["x"]])}, set(), now=NOW, token="t2")
    data = value_data(plan.tabs, {"Pulse Log": OwnedTab("Pulse Log", ["a", "b"], [["x"]])})
    assert data == [{"range": "'Pulse Log (crm-pulse update t2)'!A1", "majorDimension": "ROWS",
                     "values": [["a", "b"], ["x", ""]]}]


def test_swapped_tells_a_landed_swap_from_one_that_did_not():
    new = TabPlan("Pulse Log", 42, "Pulse Log (crm-pulse update t)", 2, 2, None)
    kept = TabPlan("Pulse Summary", 43, "Pulse Summary (crm-pulse update t)", 2, 2, 7)
    before = meta(tab(7, "Pulse Summary"), tab(42, new.stage_title, owned=False), tab(43, kept.stage_title, owned=False))
    after = meta(tab(7, "Pulse Summary"), tab(42, "Pulse Log"))
    assert not swapped(before, [new, kept]) and swapped(after, [new, kept])


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
@given(header=st.lists(st.text(max_size=3), min_size=1, max_size=6),
       rows=st.lists(st.lists(cells, max_size=7), max_size=10))
def test_written_rectangle_is_the_new_contents_padded_with_blanks(header, rows):
    owned = OwnedTab("Pulse Cohorts", header, rows)
    plan = plan_write(meta(tab(3, "Pulse Cohorts", rows=40, cols=9)), {"Pulse Cohorts": owned}, set(), now=NOW)
    rect = value_data(plan.tabs, {"Pulse Cohorts": owned})[0]["values"]
    width = max([len(header), *(len(r) for r in rows), 1])
    assert len(rect) == max(len(rows) + 1, 2) and all(len(r) == width for r in rect)
    body = [header, *rows]
    for i, row in enumerate(rect):
        for j, value in enumerate(row):
            src = body[i][j] if i < len(body) and j < len(body[i]) else None
            assert value == json_cell(src) or (value == "" and json_cell(src) == "")
