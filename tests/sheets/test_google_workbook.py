"""GoogleWorkbook over real HTTP: the real gspread client and google-auth token exchange against the local fake."""

from __future__ import annotations

import pytest

from config import parse_settings
from sheets.google import RetryPolicy, open_google_workbook
from sheets.workbook import OwnedTab, WorkbookError
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xyz"
FAST = RetryPolicy(base=0.01, cap=0.05, max_total=2.0)
SOURCE = {
    "Customers": [["customer_id", "signup_date", "region"], ["007", 46082, "North"], ["8", 46083.75, "South"]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", 46090, 120.5], [], ["8", 46091, 80]],
    "Responses": [["date", "survey", "score"], [46100, "NPS", 9]],
    "Complaints": [["date"], [46101]],
    "Spend": [["date", "amount"], [46102, 1000]],
    "Notes": [["anything"]],
}
ALL_TABS = ["Customers", "Orders", "Responses", "Complaints", "Spend", "Subscriptions"]


@pytest.fixture
def fake():
    with FakeSheets() as server:
        server.add_spreadsheet(KEY, tabs={k: [list(r) for r in v] for k, v in SOURCE.items()})
        yield server


@pytest.fixture
def account(fake, monkeypatch):
    return point_env_at(fake, monkeypatch)


@pytest.fixture
def settings():
    return parse_settings({"source": {"sheet": KEY}})


@pytest.fixture
def book(fake, account, settings):
    return open_google_workbook(settings, retry=FAST)


def test_opening_sends_no_request(fake, book):
    assert fake.count(api_only=False) == 0
    assert book.describe() == f"Google Sheet {KEY}"


def test_reads_all_tabs_in_one_batch_get_with_raw_cells(fake, book):
    tabs = book.read_tabs(ALL_TABS)
    assert fake.kinds(api_only=False) == ["token", "spreadsheets.get", "values.batchGet"]
    assert tabs["Subscriptions"] is None
    assert tabs["Customers"].rows == SOURCE["Customers"]
    assert tabs["Orders"].rows == [["customer_id", "order_date", "amount"], ["007", 46090, 120.5], [], ["8", 46091, 80]]
    batch = fake.requests[-1]
    assert batch.query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert batch.query["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert batch.query["ranges"] == ["'Customers'", "'Orders'", "'Responses'", "'Complaints'", "'Spend'"]
    assert book.describe() == f"Google Sheet 'CRM data' ({KEY})"


def test_one_read_request_per_refresh_whatever_the_number_of_tabs(fake, book):
    book.read_tabs(ALL_TABS)
    for names in (ALL_TABS, ["Customers"], ALL_TABS + ["Notes"]):
        fake.clear_log()
        book.read_tabs(names)
        assert fake.kinds() == ["values.batchGet"]


def test_tab_names_match_ignoring_case_and_spaces(fake, book):
    got = book.read_tabs([" customers ", "ORDERS"])
    assert got[" customers "].name == "Customers"
    assert got["ORDERS"].rows[1] == ["007", 46090, 120.5]


def test_token_uri_from_the_key_is_used_and_identity_is_the_service_account(fake, book, account):
    book.read_tabs(["Customers"])
    token = fake.requests[0]
    assert (token.kind, token.path, token.body) == ("token", "/token", {"grant_type": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]})
    assert {r.identity for r in fake.requests[1:]} == {account["client_email"]}


def test_oauth_user_credentials_refresh_at_their_token_uri(fake, monkeypatch, settings):
    point_env_at(fake, monkeypatch, info=fake.authorized_user("analyst@example.com"))
    book = open_google_workbook(settings, retry=FAST)
    assert book.read_tabs(["Spend"])["Spend"].rows == SOURCE["Spend"]
    assert fake.requests[0].body == {"grant_type": ["refresh_token"]}
    assert fake.requests[-1].identity == "analyst@example.com"


def test_recovers_after_429_and_500_bursts_and_dropped_connections(fake, book):
    book.read_tabs(["Customers"])
    fake.fail_next(429, count=3, kind="values.batchGet")
    fake.fail_next(500, count=2, kind="values.batchGet")
    fake.drop_next(1, kind="values.batchGet")
    fake.clear_log()
    assert book.read_tabs(["Customers"])["Customers"].rows == SOURCE["Customers"]
    assert [r.status for r in fake.requests] == [429, 429, 429, 500, 500, -1, 200]


def test_quota_exhaustion_is_reported_after_bounded_retries(fake, book):
    book.read_tabs(["Customers"])
    fake.fail_next(429, count=1000)
    with pytest.raises(WorkbookError, match=r"quota exhausted: still rate-limited \(HTTP 429\) after \d+ attempts"):
        book.read_tabs(["Customers"])
    assert 2 <= fake.count("values.batchGet") <= FAST.max_attempts + 1


def test_403_names_the_service_account_to_share_with(fake, book, account):
    fake.deny(KEY, 403)
    with pytest.raises(WorkbookError) as err:
        book.read_tabs(["Customers"])
    assert str(err.value).startswith(f"the sheet is not shared with the service account — share it with "
                                     f"{account['client_email']} (Viewer for reads, Editor for summary tabs)")
    assert fake.count("spreadsheets.get") == 1  # 403 is not retried


def test_unshared_sheet_gives_the_same_403(fake, monkeypatch, settings):
    fake.spreadsheet(KEY).shared_with = {"someone@example.com"}
    info = point_env_at(fake, monkeypatch)
    with pytest.raises(WorkbookError, match=f"share it with {info['client_email']}"):
        open_google_workbook(settings, retry=FAST).read_tabs(["Customers"])


def test_404_says_to_check_source_sheet(fake, account, settings):
    book = open_google_workbook(settings, sheet="NoSuchSheetKey123", retry=FAST)
    with pytest.raises(WorkbookError, match="no spreadsheet with key NoSuchSheetKey123 — check source.sheet"):
        book.read_tabs(["Customers"])


def test_sheet_url_override_is_reduced_to_its_key(fake, account, settings):
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
    book = open_google_workbook(parse_settings({}), sheet=url, retry=FAST)
    assert book.key == KEY
    assert book.read_tabs(["Spend"])["Spend"] is not None


def test_a_tab_deleted_after_the_tab_list_was_cached_is_reread(fake, book):
    book.read_tabs(ALL_TABS)
    grid = fake.grid(KEY, "Complaints")
    fake.spreadsheet(KEY).grids.remove(grid)
    fake.clear_log()
    tabs = book.read_tabs(ALL_TABS)
    assert tabs["Complaints"] is None and tabs["Customers"] is not None
    assert fake.kinds() == ["values.batchGet", "spreadsheets.get", "values.batchGet"]


# ---- write-back -----------------------------------------------------------------------------------
def summary(rows: int = 2) -> OwnedTab:
    body = [["2026-0" + str(i + 1), 41.5 + i, "=IMPORTXML(\"http://x\",\"//a\")", None] for i in range(rows)]
    return OwnedTab("Pulse Summary", ["month", "nps", "note", "blank"], body)


def test_write_creates_marked_frozen_bold_tabs_with_raw_values(fake, book):
    log = OwnedTab("Pulse Log", ["when", "what"], [["2026-11-25 17:00", "refresh"]])
    fake.clear_log()
    report = book.write_owned({"Pulse Summary": summary(), "Pulse Log": log})
    assert (report.written, report.created, report.refused) == (["Pulse Summary", "Pulse Log"], ["Pulse Summary", "Pulse Log"], {})
    assert fake.kinds() == ["spreadsheets.get", "spreadsheets.batchUpdate", "values.batchUpdate", "spreadsheets.batchUpdate"]
    (values_write,) = [r.body for r in fake.requests if r.kind == "values.batchUpdate"]
    assert values_write["valueInputOption"] == "RAW"
    assert fake.tab_titles(KEY) == [*SOURCE, "Pulse Summary", "Pulse Log"]
    assert not any(fake.grid(KEY, t).hidden for t in ("Pulse Summary", "Pulse Log"))
    assert fake.values(KEY, "Pulse Summary") == [["month", "nps", "note", "blank"], ["2026-01", 41.5, "=IMPORTXML(\"http://x\",\"//a\")"],
                                                 ["2026-02", 42.5, "=IMPORTXML(\"http://x\",\"//a\")"]]
    assert fake.cell(KEY, "Pulse Summary", 1, 2).formula is None
    meta = fake.developer_metadata(KEY, "Pulse Summary")
    assert [(m["metadataKey"], m["visibility"], m["location"]["locationType"]) for m in meta] == [("crm-pulse-owned", "DOCUMENT", "SHEET")]
    grid = fake.grid(KEY, "Pulse Summary")
    assert grid.frozen_rows == 1
    assert all(grid.formats[(0, c)]["textFormat"]["bold"] for c in range(grid.cols))
    assert book.read_owned("Pulse Log") == [["when", "what"], ["2026-11-25 17:00", "refresh"]]


def test_rewrite_keeps_the_tab_and_blanks_old_cells_in_four_requests(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=5)})
    sheet_id = fake.grid(KEY, "Pulse Summary").sheet_id
    fake.clear_log()
    book.write_owned({"Pulse Summary": OwnedTab("Pulse Summary", ["month"], [["2026-03"]])})
    assert fake.kinds() == ["spreadsheets.get", "spreadsheets.batchUpdate", "values.batchUpdate", "spreadsheets.batchUpdate"]
    assert fake.values(KEY, "Pulse Summary") == [["month"], ["2026-03"]]
    grid = fake.grid(KEY, "Pulse Summary")
    assert (grid.sheet_id, grid.rows, grid.cols, grid.frozen_rows) == (sheet_id, 2, 1, 1)
    assert fake.tab_titles(KEY) == [*SOURCE, "Pulse Summary"]


def test_user_tab_with_an_owned_name_but_no_mark_is_never_touched(fake, book):
    fake.add_tab(KEY, "Pulse Summary", [["my", "own", "notes"], ["keep", "me", 1]])
    fake.clear_log()
    report = book.write_owned({"Pulse Summary": summary(), "Pulse Cohorts": OwnedTab("Pulse Cohorts", ["cohort"], [])})
    assert "was not created by crm-pulse" in report.refused["Pulse Summary"]
    assert report.written == ["Pulse Cohorts"]
    assert fake.values(KEY, "Pulse Summary") == [["my", "own", "notes"], ["keep", "me", 1]]
    assert fake.developer_metadata(KEY, "Pulse Summary") == []
    assert all("Pulse Summary" not in str(r.body) for r in fake.requests if r.kind.endswith("batchUpdate"))
    assert book.read_owned("Pulse Summary") is None


def test_source_and_unknown_tabs_are_refused(fake, book):
    report = book.write_owned({"Customers": OwnedTab("Customers", ["x"], []), "Notes": OwnedTab("Notes", ["x"], [])})
    assert set(report.refused) == {"Customers", "Notes"} and report.written == []
    assert fake.values(KEY, "Customers") == SOURCE["Customers"]
    assert fake.count("values.batchUpdate") == 0


def snapshot_of(fake) -> dict:
    """Every tab's title, id, grid, frozen rows, hidden flag, values, formats and developer metadata."""
    out = {}
    for title in fake.tab_titles(KEY):
        grid = fake.grid(KEY, title)
        out[title] = (grid.sheet_id, grid.rows, grid.cols, grid.frozen_rows, grid.hidden, fake.values(KEY, title),
                      dict(grid.formats), fake.developer_metadata(KEY, title))
    return out


def test_failed_values_write_leaves_the_old_contents(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=3)})
    before = snapshot_of(fake)
    fake.fail_next(500, count=1000, kind="values.batchUpdate")
    with pytest.raises(WorkbookError, match="keep their previous contents"):
        book.write_owned({"Pulse Summary": summary(rows=8)})
    assert snapshot_of(fake) == before


@pytest.mark.parametrize("kind, request_kind", [("values.batchUpdate", None), ("spreadsheets.batchUpdate", "copyPaste"),
                                                ("spreadsheets.batchUpdate", "addSheet")])
def test_a_refused_later_write_leaves_every_tab_exactly_as_it_was(fake, book, kind, request_kind):
    book.write_owned({"Pulse Summary": summary(rows=3), "Pulse Log": OwnedTab("Pulse Log", ["when"], [["x"]])})
    before = snapshot_of(fake)
    fake.fail_next(403, count=1000, kind=kind, request=request_kind)
    with pytest.raises(WorkbookError) as err:
        book.write_owned({"Pulse Summary": summary(rows=30), "Pulse Log": OwnedTab("Pulse Log", ["when"], [["x"], ["y"]])})
    assert str(err.value).endswith("— the summary tabs keep their previous contents")
    assert err.value.title == "crm-pulse cannot write the summary tabs" and err.value.status == 502
    assert snapshot_of(fake) == before


@pytest.mark.parametrize("kind, request_kind", [("values.batchUpdate", None), ("spreadsheets.batchUpdate", "deleteDeveloperMetadata")])
def test_a_refused_first_write_creates_no_tab(fake, book, kind, request_kind):
    before = snapshot_of(fake)
    fake.fail_next(400, count=1000, kind=kind, request=request_kind)
    with pytest.raises(WorkbookError, match="keep their previous contents"):
        book.write_owned({"Pulse Summary": summary(rows=3), "Pulse Cohorts": OwnedTab("Pulse Cohorts", ["c"], [])})
    assert snapshot_of(fake) == before
    assert book.owned_titles() == []


def test_a_swap_whose_answer_was_lost_is_reported_as_written(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=3)})
    fake.drop_after_next(kind="spreadsheets.batchUpdate", request="copyPaste")
    report = book.write_owned({"Pulse Summary": summary(rows=6)})
    assert report.written == ["Pulse Summary"]
    assert len(fake.values(KEY, "Pulse Summary")) == 7
    assert fake.tab_titles(KEY) == [*SOURCE, "Pulse Summary"]


def test_staging_whose_answer_was_lost_is_cleaned_up(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=3)})
    before = snapshot_of(fake)
    fake.drop_after_next(kind="spreadsheets.batchUpdate", request="addSheet")  # applied, answer lost; the retry is a 400
    with pytest.raises(WorkbookError, match="keep their previous contents"):
        book.write_owned({"Pulse Summary": summary(rows=6)})
    assert snapshot_of(fake) == before


def test_a_swap_that_cannot_be_checked_does_not_claim_the_tabs_were_kept(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=3)})
    fake.drop_after_next(kind="spreadsheets.batchUpdate", request="copyPaste")
    fake.fail_next(403, count=1000, kind="spreadsheets.get", after=1)  # the tab list before the write still answers
    with pytest.raises(WorkbookError) as err:
        book.write_owned({"Pulse Summary": summary(rows=6)})
    assert "keep their previous contents" not in str(err.value)
    assert "could not check whether the summary tabs were replaced" in str(err.value)


def test_existing_tab_keeps_its_id_user_formats_and_marks(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=3)})
    grid = fake.grid(KEY, "Pulse Summary")
    grid.formats[(1, 1)] = {"numberFormat": {"type": "NUMBER", "pattern": "0.0"}}
    sheet_id, marks = grid.sheet_id, fake.developer_metadata(KEY, "Pulse Summary")
    book.write_owned({"Pulse Summary": summary(rows=4)})
    grid = fake.grid(KEY, "Pulse Summary")
    assert grid.sheet_id == sheet_id and fake.developer_metadata(KEY, "Pulse Summary") == marks
    assert grid.formats[(1, 1)]["numberFormat"]["pattern"] == "0.0"
    assert fake.cell(KEY, "Pulse Summary", 1, 2).formula is None  # "=IMPORTXML(…)" pasted as text, not run
    assert fake.values(KEY, "Pulse Summary")[1][2] == "=IMPORTXML(\"http://x\",\"//a\")"


def test_staging_tabs_left_by_an_interrupted_write_are_removed_later(fake, account, settings):
    clock = [1_900_000_000.0]
    book = open_google_workbook(settings, retry=FAST)
    book._wall = lambda: clock[0]
    fake.fail_next(500, count=1000, kind="values.batchUpdate")
    fake.fail_next(500, count=1000, kind="spreadsheets.batchUpdate", request="deleteSheet")
    with pytest.raises(WorkbookError):
        book.write_owned({"Pulse Summary": summary(rows=3)})
    staged = [t for t in fake.tab_titles(KEY) if t.startswith("Pulse Summary (crm-pulse update ")]
    assert len(staged) == 1 and fake.grid(KEY, staged[0]).hidden
    fake.clear_faults()
    book.write_owned({"Pulse Summary": summary(rows=3)})
    assert staged[0] in fake.tab_titles(KEY)  # young: it may belong to a write still running elsewhere
    clock[0] += 901
    book.write_owned({"Pulse Summary": summary(rows=3)})
    assert fake.tab_titles(KEY) == [*SOURCE, "Pulse Summary"]


def test_write_recovers_from_a_brief_outage(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=1)})
    fake.fail_next(503, count=2, kind="values.batchUpdate")
    assert book.write_owned({"Pulse Summary": summary(rows=4)}).written == ["Pulse Summary"]
    assert len(fake.values(KEY, "Pulse Summary")) == 5


def test_write_grows_the_grid_before_writing_past_it(fake, book):
    book.write_owned({"Pulse Summary": summary(rows=1)})
    wide = OwnedTab("Pulse Summary", [f"c{i}" for i in range(30)], [[i] * 30 for i in range(1500)])
    book.write_owned({"Pulse Summary": wide})
    values = fake.values(KEY, "Pulse Summary")
    assert len(values) == 1501 and values[-1] == [1499] * 30


def test_missing_credentials_name_both_variables(monkeypatch, settings):
    monkeypatch.delenv("PULSE_GOOGLE_CREDENTIALS_JSON", raising=False)
    with pytest.raises(WorkbookError) as err:
        open_google_workbook(settings)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(err.value) and "PULSE_GOOGLE_CREDENTIALS_JSON" in str(err.value)
    assert "docs/google-sheets.md" in str(err.value)


def test_viewer_only_access_says_to_share_as_editor(fake, book, account):
    fake.spreadsheet(KEY).viewers.add(account["client_email"])
    assert book.read_tabs(["Customers"])["Customers"] is not None
    with pytest.raises(WorkbookError) as err:
        book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["a"], [])})
    assert f"share it with {account['client_email']} as Editor" in str(err.value)
    assert "Pulse Log" not in fake.tab_titles(KEY)


def test_a_revoked_key_is_reported_as_a_sign_in_failure(fake, book, account):
    fake._public_keys.pop(account["client_email"])
    with pytest.raises(WorkbookError, match=f"could not sign in to Google as {account['client_email']}: invalid_grant"):
        book.read_tabs(["Customers"])
    assert fake.count() == 0


def test_a_refresh_cycle_keeps_reads_at_one_request(fake, book):
    book.read_tabs(ALL_TABS)
    book.write_owned({"Pulse Summary": summary(rows=3)})
    fake.clear_log()
    book.read_tabs(ALL_TABS)
    assert fake.kinds() == ["values.batchGet"]
    assert book.read_owned("Pulse Summary")[0] == ["month", "nps", "note", "blank"]
    assert book.owned_titles() == ["Pulse Summary"]


def test_a_hang_says_google_did_not_answer_within_the_read_timeout(fake, account, settings, monkeypatch):
    monkeypatch.setenv("PULSE_SHEETS_TIMEOUT_SECONDS", "0.2")
    book = open_google_workbook(settings, retry=RetryPolicy(base=0.01, cap=0.02, max_total=0.05))
    fake.set_delay(1.0, kind="values.batchGet")
    with pytest.raises(WorkbookError) as err:
        book.read_tabs(["Customers"])
    assert (err.value.status, err.value.title) == (504, "Google Sheets did not answer in time")
    assert str(err.value).startswith("Google did not answer within 0.2 s (")
    assert err.value.headline().startswith("Google Sheets did not answer in time: Google did not answer within 0.2 s")


def test_quota_and_sharing_failures_carry_their_status_and_title(fake, book, account):
    fake.fail_next(429, count=1000)
    with pytest.raises(WorkbookError) as limited:
        book.read_tabs(["Customers"])
    assert (limited.value.status, limited.value.title, limited.value.retry_after) == (503, "Google is rate-limiting crm-pulse", 60)
    fake.clear_faults()
    fake.deny(KEY, 403)
    with pytest.raises(WorkbookError) as denied:
        book.read_tabs(["Customers"])
    assert (denied.value.status, denied.value.title) == (502, "crm-pulse cannot read the sheet")
