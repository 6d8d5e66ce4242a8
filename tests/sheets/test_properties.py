"""Invariants of parsing on arbitrary cells: it never raises, and every row is kept, rejected or blank."""

from datetime import date, datetime

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from config import Settings
from sheets.cells import to_date
from sheets.validate import parse_tab_detail
from sheets.workbook import RawTab

cells = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(["2026-03-05", "03/04/2026", "13/04/2026", "2026-13-45", "abc", "NPS", "csat", "CSI", "007", " "]),
    st.integers(min_value=-(10**6), max_value=10**8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
)
HEADERS = {
    "orders": ["Order ID", "Customer ID", "Order Date", "Amount"],
    "responses": ["Date", "Survey", "Score", "Customer ID", "Comment"],
    "customers": ["Customer ID", "Signup Date", "Region"],
}


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tab=st.sampled_from(sorted(HEADERS)),
    rows=st.lists(st.lists(cells, max_size=6), max_size=12),
)
def test_rows_in_equal_kept_plus_rejected_plus_blank(tab, rows):
    parsed = parse_tab_detail(tab, RawTab("T", [HEADERS[tab], *rows]), Settings())
    assert parsed.rows_read == len(rows)
    assert parsed.rows_read == len(parsed.frame) + parsed.rejected_rows + parsed.blank_rows
    rejected_rows = {i.row for i in parsed.issues if i.severity == "rejected"}
    assert len(rejected_rows) == parsed.rejected_rows
    assert set(parsed.frame["row"]).isdisjoint(rejected_rows)
    assert all(2 <= r <= len(rows) + 1 for r in parsed.frame["row"])
    if tab == "responses" and len(parsed.frame):
        assert parsed.frame["score"].between(0, 10).all()


@hsettings(max_examples=60, deadline=None)
@given(values=st.lists(cells, max_size=20), order=st.sampled_from(["MDY", "DMY"]))
def test_dates_are_midnight_or_missing_with_a_reason(values, order):
    t = to_date(values, order)
    parsed = t.values.dropna()
    assert (parsed == parsed.dt.normalize()).all()
    missing = t.values.isna()
    assert ((missing & ~t.blank) == t.errors.notna()).all()


@hsettings(max_examples=40, deadline=None)
@given(day=st.dates(min_value=date(1900, 3, 1), max_value=date(2200, 12, 31)))
def test_serial_and_text_forms_agree(day):
    serial = (day - date(1899, 12, 30)).days
    forms = [
        serial,
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        day,
    ]
    assert set(to_date(forms).values) == {datetime(day.year, day.month, day.day)}


header_cells = st.one_of(cells, st.sampled_from(["Customer ID", "客户ID", "Order Date", "日期", "Amount", "Score", "Survey"]))


@hsettings(max_examples=50, deadline=None)
@given(
    tab=st.sampled_from(["customers", "orders", "responses", "complaints", "spend", "subscriptions"]),
    header=st.lists(header_cells, max_size=8),
    rows=st.lists(st.lists(cells, max_size=9), max_size=6),
)
def test_any_header_row_parses_or_explains_what_is_missing(tab, header, rows):
    parsed = parse_tab_detail(tab, RawTab("T", [header, *rows]), Settings())
    if parsed.usable:
        assert parsed.rows_read == len(parsed.frame) + parsed.rejected_rows + parsed.blank_rows
    else:
        assert parsed.frame.empty
        assert any(i.severity == "rejected" and i.row is not None for i in parsed.issues)
