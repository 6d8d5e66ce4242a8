"""The Sheets API fake answers like the real API (shapes from the v4 reference and gspread's cassettes)."""

from __future__ import annotations

import pytest
import requests
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from tests.fakes.sheets_api import FakeSheets

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


@pytest.fixture(scope="module")
def fake():
    with FakeSheets() as server:
        yield server


@pytest.fixture(scope="module")
def session(fake):
    creds = service_account.Credentials.from_service_account_info(fake.service_account(), scopes=SCOPES)
    return AuthorizedSession(creds)


@pytest.fixture
def book(fake, request):
    key = "K" + request.node.name.replace("_", "")[:30]
    fake.add_spreadsheet(key, tabs={"Customers": [["customer_id", "signup"], ["007", 46000], [], ["8", 46001.5]],
                                    "Pulse Summary": [["month"]]})
    return key


def api(fake, key, tail=""):
    return f"{fake.url}/v4/spreadsheets/{key}{tail}"


def test_requests_without_a_token_are_unauthenticated(fake, book):
    r = requests.get(api(fake, book))
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_get_honours_fields_and_shapes_sheets(fake, session, book):
    r = session.get(api(fake, book), params={"fields": "properties.title,sheets(properties(sheetId,title))"})
    assert r.json() == {"properties": {"title": "CRM data"},
                        "sheets": [{"properties": {"sheetId": 0, "title": "Customers"}},
                                   {"properties": {"sheetId": 1001, "title": "Pulse Summary"}}]}


def test_batch_get_trims_and_keeps_types(fake, session, book):
    r = session.get(api(fake, book, "/values:batchGet"),
                    params={"ranges": ["'Customers'", "'Pulse Summary'!A1:B2"], "valueRenderOption": "UNFORMATTED_VALUE"})
    ranges = r.json()["valueRanges"]
    assert ranges[0] == {"range": "Customers!A1:Z1000", "majorDimension": "ROWS",
                         "values": [["customer_id", "signup"], ["007", 46000], [], ["8", 46001.5]]}
    assert ranges[1] == {"range": "'Pulse Summary'!A1:B2", "majorDimension": "ROWS", "values": [["month"]]}
    formatted = session.get(api(fake, book, "/values/Customers!B2:B4")).json()
    assert formatted["values"] == [["46000"], [], ["46001.5"]]


def test_unknown_tab_in_a_range_is_a_400(fake, session, book):
    r = session.get(api(fake, book, "/values:batchGet"), params={"ranges": ["'Nope'!A1:Z"]})
    assert r.status_code == 400
    assert r.json()["error"] == {"code": 400, "message": "Unable to parse range: 'Nope'!A1:Z", "status": "INVALID_ARGUMENT"}


def test_raw_keeps_formula_text_and_user_entered_parses(fake, session, book):
    body = {"valueInputOption": "RAW", "data": [{"range": "'Pulse Summary'!A1", "values": [["=IMPORTXML(\"x\")", "12"]]}]}
    assert session.post(api(fake, book, "/values:batchUpdate"), json=body).json()["totalUpdatedCells"] == 2
    assert fake.cell(book, "Pulse Summary", 0, 0).formula is None
    assert fake.values(book, "Pulse Summary") == [["=IMPORTXML(\"x\")", "12"]]
    body["valueInputOption"] = "USER_ENTERED"
    session.post(api(fake, book, "/values:batchUpdate"), json=body)
    assert fake.cell(book, "Pulse Summary", 0, 0).formula == "=IMPORTXML(\"x\")"
    assert fake.values(book, "Pulse Summary")[0][1] == 12


def test_writes_beyond_the_grid_fail_atomically(fake, session, book):
    body = {"valueInputOption": "RAW", "data": [{"range": "'Pulse Summary'!A1", "values": [["new"]]},
                                                 {"range": "'Pulse Summary'!A1000", "values": [["x"], ["y"]]}]}
    r = session.post(api(fake, book, "/values:batchUpdate"), json=body)
    assert r.status_code == 400 and "exceeds grid limits. Max rows: 1000, max columns: 26" in r.json()["error"]["message"]
    assert fake.values(book, "Pulse Summary") == [["month"]]


def test_batch_update_is_atomic(fake, session, book):
    reqs = [{"addSheet": {"properties": {"title": "New"}}}, {"addSheet": {"properties": {"title": "Customers"}}}]
    r = session.post(api(fake, book, ":batchUpdate"), json={"requests": reqs})
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith('Invalid requests[1].addSheet: A sheet with the name "Customers"')
    assert fake.tab_titles(book) == ["Customers", "Pulse Summary"]


def test_developer_metadata_and_formatting(fake, session, book):
    reqs = [
        {"addSheet": {"properties": {"sheetId": 77, "title": "Owned", "gridProperties": {"rowCount": 5, "columnCount": 3}}}},
        {"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "k", "metadataValue": "v",
                                                           "location": {"sheetId": 77}, "visibility": "DOCUMENT"}}},
        {"updateSheetProperties": {"properties": {"sheetId": 77, "gridProperties": {"frozenRowCount": 1}},
                                   "fields": "gridProperties.frozenRowCount"}},
        {"repeatCell": {"range": {"sheetId": 77, "startRowIndex": 0, "endRowIndex": 1},
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold"}},
    ]
    replies = session.post(api(fake, book, ":batchUpdate"), json={"requests": reqs}).json()["replies"]
    assert replies[0]["addSheet"]["properties"]["gridProperties"] == {"rowCount": 5, "columnCount": 3}
    assert replies[1]["createDeveloperMetadata"]["developerMetadata"]["location"] == {"locationType": "SHEET", "sheetId": 77}
    assert replies[2:] == [{}, {}]
    meta = session.get(api(fake, book), params={"fields": "sheets(properties.title,developerMetadata.metadataKey)"}).json()
    assert meta["sheets"][2] == {"properties": {"title": "Owned"}, "developerMetadata": [{"metadataKey": "k"}]}
    assert fake.grid(book, "Owned").frozen_rows == 1
    assert fake.grid(book, "Owned").formats[(0, 2)] == {"textFormat": {"bold": True}}
    found = session.post(api(fake, book, "/developerMetadata:search"),
                         json={"dataFilters": [{"developerMetadataLookup": {"metadataKey": "k"}}]}).json()
    assert [m["developerMetadata"]["metadataValue"] for m in found["matchedDeveloperMetadata"]] == ["v"]


def test_faults_and_log(fake, session, book):
    fake.clear_log()
    fake.fail_next(429, count=2, kind="values.batchGet")
    url = api(fake, book, "/values:batchGet")
    codes = [session.get(url, params={"ranges": "Customers"}).status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    fake.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        session.get(api(fake, book))
    fake.deny(book, 403)
    assert session.get(api(fake, book)).json()["error"]["status"] == "PERMISSION_DENIED"
    fake.deny(book, 0)
    assert fake.count("values.batchGet") == 3 and fake.count("spreadsheets.get") == 2



def test_copy_paste_values_and_clearing_update_cells(fake, session, book):
    summary = fake.grid(book, "Pulse Summary").sheet_id
    fake.spreadsheet(book).grid_by_id(summary).formats[(1, 0)] = {"numberFormat": {"pattern": "0.0"}}
    reqs = [
        {"updateCells": {"range": {"sheetId": summary}, "fields": "userEnteredValue"}},
        {"copyPaste": {"source": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0,
                                  "endColumnIndex": 2},
                       "destination": {"sheetId": summary, "startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0,
                                       "endColumnIndex": 2},
                       "pasteType": "PASTE_VALUES", "pasteOrientation": "NORMAL"}},
    ]
    assert session.post(api(fake, book, ":batchUpdate"), json={"requests": reqs}).status_code == 200
    assert fake.values(book, "Pulse Summary") == [["customer_id", "signup"], ["007", 46000]]
    assert fake.grid(book, "Pulse Summary").formats[(1, 0)] == {"numberFormat": {"pattern": "0.0"}}  # values only
    too_far = {"copyPaste": {"source": {"sheetId": 0}, "destination": {"sheetId": summary, "startRowIndex": 999},
                             "pasteType": "PASTE_VALUES"}}
    r = session.post(api(fake, book, ":batchUpdate"), json={"requests": [too_far]})
    assert r.status_code == 400 and "exceeds grid limits" in r.json()["error"]["message"]


def test_hidden_tabs_and_never_all_hidden(fake, session, book):
    add = {"addSheet": {"properties": {"sheetId": 90, "title": "Staging", "hidden": True}}}
    r = session.post(api(fake, book, ":batchUpdate"), json={"requests": [add]})
    assert r.json()["replies"][0]["addSheet"]["properties"]["hidden"] is True
    show = {"updateSheetProperties": {"properties": {"sheetId": 90, "title": "Shown", "hidden": False}, "fields": "title,hidden"}}
    session.post(api(fake, book, ":batchUpdate"), json={"requests": [show]})
    assert not fake.grid(book, "Shown").hidden
    hide_all = [{"updateSheetProperties": {"properties": {"sheetId": g.sheet_id, "hidden": True}, "fields": "hidden"}}
                for g in fake.spreadsheet(book).grids]
    r = session.post(api(fake, book, ":batchUpdate"), json={"requests": hide_all})
    assert r.status_code == 400 and "hide all the sheets" in r.json()["error"]["message"]
    assert not any(g.hidden for g in fake.spreadsheet(book).grids)


def test_faults_by_request_kind_after_some_and_lost_answers(fake, session, book):
    rename = {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "Clients"}, "fields": "title"}}
    fake.fail_next(500, kind="spreadsheets.batchUpdate", request="copyPaste")
    assert session.post(api(fake, book, ":batchUpdate"), json={"requests": [rename]}).status_code == 200
    fake.fail_next(500, kind="spreadsheets.get", after=1)
    assert [session.get(api(fake, book)).status_code for _ in range(3)] == [200, 500, 200]
    fake.drop_after_next(kind="spreadsheets.batchUpdate")
    back = {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "Customers"}, "fields": "title"}}
    with pytest.raises(requests.ConnectionError):
        session.post(api(fake, book, ":batchUpdate"), json={"requests": [back]})
    assert fake.tab_titles(book)[0] == "Customers"  # applied although no answer came back
    fake.clear_faults()  # the copyPaste fault never matched; the fake is shared by this module


def test_gspread_high_level_api_works_against_the_fake(fake, book):
    import gspread

    from sheets.google.transport import build_session

    creds = service_account.Credentials.from_service_account_info(fake.service_account(), scopes=SCOPES)
    client = gspread.Client(auth=creds, session=build_session(creds, fake.url))
    sheet = client.open_by_key(book)
    assert sheet.title == "CRM data"
    assert sheet.worksheet("Customers").get_all_values(value_render_option="UNFORMATTED_VALUE")[1] == ["007", 46000]
    new = sheet.add_worksheet("New tab", rows=10, cols=5)
    new.update([["a", "=1+1"], [1, 2]], "A1")
    new.update([["=SUM(1,2)"]], "C1", value_input_option="USER_ENTERED")
    assert new.get("A1:C2", value_render_option="FORMULA") == [["a", "=1+1", "=SUM(1,2)"], [1, 2]]
    assert fake.cell(book, "New tab", 0, 1).formula is None and fake.cell(book, "New tab", 0, 2).formula == "=SUM(1,2)"
    new.append_row(["appended", 7])
    assert new.get_all_values(value_render_option="UNFORMATTED_VALUE")[2] == ["appended", 7, ""]
    new.freeze(rows=1)
    new.batch_clear(["A2:B3"])
    assert new.get_all_values() == [["a", "=1+1", "#N/A"]]
    sheet.del_worksheet(new)
    assert "New tab" not in fake.tab_titles(book)
