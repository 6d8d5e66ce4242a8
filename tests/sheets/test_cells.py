from datetime import date, datetime

import pandas as pd
import pytest

from sheets.cells import BAD_CALENDAR, NOT_A_DATE, display, to_date, to_id, to_number, to_score


def one_date(value, order="MDY"):
    t = to_date([value], order)
    return t.values[0], t.errors[0]


@pytest.mark.parametrize(
    "cell",
    [
        "2026-03-05",
        "2026-3-5",
        "2026-03-05 14:30",
        "2026-03-05T14:30:00Z",
        "2026-03-05 14:30:00.250",
        "2026/03/05",
        "2026.03.05",
        "05.03.2026",
        "2026年3月5日",
        "2026 年 3 月 5 日",
        "20260305",
        20260305,
        46086,  # Sheets serial for 2026-03-05
        46086.99,  # the fraction is the time of day, dropped
        "46086",
        date(2026, 3, 5),
        datetime(2026, 3, 5, 23, 59),
        "5 Mar 2026",
        "March 5, 2026",
    ],
)
def test_every_date_form_parses_to_midnight(cell):
    value, error = one_date(cell)
    assert error is None
    assert value == pd.Timestamp("2026-03-05")


def test_serial_day_zero_and_one():
    assert one_date(1)[0] == pd.Timestamp("1899-12-31")
    assert one_date(61)[0] == pd.Timestamp("1900-03-01")


def test_ambiguous_slash_dates_follow_date_order_and_are_counted_once_per_column():
    cells = ["03/04/2026", "05/06/2026", "13/04/2026", "04/13/2026", "07/07/2026"]
    mdy = to_date(cells, "MDY")
    assert list(mdy.values) == [
        pd.Timestamp(x) for x in ("2026-03-04", "2026-05-06", "2026-04-13", "2026-04-13", "2026-07-07")
    ]
    assert mdy.ambiguous == 2 and mdy.ambiguous_at == 0
    assert (mdy.day_first_evidence, mdy.month_first_evidence) == (1, 1)
    dmy = to_date(cells, "DMY")
    assert list(dmy.values) == [
        pd.Timestamp(x) for x in ("2026-04-03", "2026-06-05", "2026-04-13", "2026-04-13", "2026-07-07")
    ]
    assert dmy.errors.isna().all()


def test_unambiguous_slash_dates_are_not_counted():
    t = to_date(["13/04/2026", "4/30/2026", "02/02/2026"], "MDY")
    assert t.ambiguous == 0
    assert list(t.values) == [pd.Timestamp("2026-04-13"), pd.Timestamp("2026-04-30"), pd.Timestamp("2026-02-02")]


@pytest.mark.parametrize(
    "cell, reason",
    [
        ("2026-13-45", BAD_CALENDAR),
        ("2026-02-30", BAD_CALENDAR),
        ("31.02.2026", BAD_CALENDAR),
        ("13/13/2026", BAD_CALENDAR),
        ("abc", NOT_A_DATE),
        ("3/4/26", NOT_A_DATE),
        (True, "not a date"),
        (-5, "a number that is not a date (expected a date or a serial date number)"),
    ],
)
def test_bad_dates_get_a_reason(cell, reason):
    value, error = one_date(cell)
    assert pd.isna(value)
    assert error == reason


def test_blank_date_cells_are_blank_not_errors():
    t = to_date([None, "", "   ", float("nan")])
    assert t.blank.all() and t.errors.isna().all()


def test_identifiers_stay_text():
    t = to_id(["007", 7.0, 7, 7.5, " C-1 ", None, "", 123456789012.0])
    assert list(t.values.astype(object).fillna("<NA>")) == [
        "007",
        "7",
        "7",
        "7.5",
        "C-1",
        "<NA>",
        "<NA>",
        "123456789012",
    ]
    assert list(t.blank) == [False, False, False, False, False, True, True, False]


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("1,234.50", 1234.5),
        ("$12", 12.0),
        ("12.5", 12.5),
        (" 7 ", 7.0),
        ("(3.50)", -3.5),
        ("-4", -4.0),
        ("¥1,000", 1000.0),
        (5, 5.0),
        (2.25, 2.25),
    ],
)
def test_numbers(cell, expected):
    t = to_number([cell])
    assert t.values[0] == expected and t.errors[0] is None


@pytest.mark.parametrize("cell", ["abc", "12abc", True, date(2026, 1, 1), float("inf")])
def test_non_numbers_are_rejected(cell):
    t = to_number([cell])
    assert pd.isna(t.values[0]) and t.errors[0] == "not a number"


def test_scores_must_be_whole_numbers():
    t = to_score([9, "10", 3.5, "abc", 7.0])
    assert list(t.values.fillna(-1)) == [9, 10, -1, -1, 7]
    assert list(t.errors) == [None, None, "not a whole number", "not a number", None]


def test_display_renders_cells_as_seen():
    assert display(7.0) == "7" and display(2.5) == "2.5" and display(None) == ""
    assert display(datetime(2026, 3, 5)) == "2026-03-05"
    assert display(datetime(2026, 3, 5, 10, 30)) == "2026-03-05 10:30:00"
