"""Every period form of METRICS.md against hand-computed dates, with their comparison periods and errors."""

from datetime import date, datetime

import pytest

from metrics.periods import Period, PeriodError, comparison_period, month_periods, parse_period, week_start

WED = date(2026, 11, 25)  # a Wednesday; ISO week 2026-W48
LATER = date(2028, 1, 15)  # a "today" after every 2026/2027 period, for calendar arithmetic on whole periods


def span(p):
    return p.start, p.end


def d(text):
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    "text, start, end, kind, partial, label",
    [
        ("today", "2026-11-25", "2026-11-26", "day", True, "2026-11-25 (today)"),
        ("yesterday", "2026-11-24", "2026-11-25", "day", False, "2026-11-24"),
        ("this-week", "2026-11-23", "2026-11-26", "week", True, "2026-W48 to date"),
        ("last-week", "2026-11-16", "2026-11-23", "week", False, "2026-W47"),
        ("this-month", "2026-11-01", "2026-11-26", "month", True, "2026-11 to date"),
        ("last-month", "2026-10-01", "2026-11-01", "month", False, "2026-10"),
        ("this-quarter", "2026-10-01", "2026-11-26", "quarter", True, "2026-Q4 to date"),
        ("last-quarter", "2026-07-01", "2026-10-01", "quarter", False, "2026-Q3"),
        ("this-year", "2026-01-01", "2026-11-26", "year", True, "2026 to date"),
        ("last-year", "2025-01-01", "2026-01-01", "year", False, "2025"),
        ("ytd", "2026-01-01", "2026-11-26", "year", True, "2026 to date"),
        ("qtd", "2026-10-01", "2026-11-26", "quarter", True, "2026-Q4 to date"),
        ("mtd", "2026-11-01", "2026-11-26", "month", True, "2026-11 to date"),
        ("last-30-days", "2026-10-26", "2026-11-25", "days", False, "last 30 days (2026-10-26 – 2026-11-24)"),
        ("last-1-days", "2026-11-24", "2026-11-25", "days", False, "last 1 day (2026-11-24)"),
        ("last-4-weeks", "2026-10-26", "2026-11-23", "weeks", False, "last 4 weeks (2026-W44 – 2026-W47)"),
        ("last-1-weeks", "2026-11-16", "2026-11-23", "weeks", False, "last 1 week (2026-W47)"),
        ("last-3-months", "2026-08-01", "2026-11-01", "months", False, "last 3 months (2026-08 – 2026-10)"),
        ("last-12-months", "2025-11-01", "2026-11-01", "months", False, "last 12 months (2025-11 – 2026-10)"),
        ("2025", "2025-01-01", "2026-01-01", "year", False, "2025"),
        ("2026", "2026-01-01", "2026-11-26", "year", True, "2026 to date"),
        ("2026-Q1", "2026-01-01", "2026-04-01", "quarter", False, "2026-Q1"),
        ("2026-Q3", "2026-07-01", "2026-10-01", "quarter", False, "2026-Q3"),
        ("2026-02", "2026-02-01", "2026-03-01", "month", False, "2026-02"),
        ("2026-W47", "2026-11-16", "2026-11-23", "week", False, "2026-W47"),
        ("2026-W48", "2026-11-23", "2026-11-26", "week", True, "2026-W48 to date"),
        ("2026-11", "2026-11-01", "2026-11-26", "month", True, "2026-11 to date"),
        ("2026-Q4", "2026-10-01", "2026-11-26", "quarter", True, "2026-Q4 to date"),
        ("2026-11-01..2026-12-31", "2026-11-01", "2026-11-26", "range", True, "2026-11-01 – 2026-11-25 to date"),
        ("2026-11-25..2026-11-25", "2026-11-25", "2026-11-26", "range", False, "2026-11-25"),
        ("2026-01-01..2026-01-31", "2026-01-01", "2026-02-01", "range", False, "2026-01-01 – 2026-01-31"),
        ("2026-03-05..2026-03-05", "2026-03-05", "2026-03-06", "range", False, "2026-03-05"),
        ("since 2026-11-01", "2026-11-01", "2026-11-26", "since", True, "since 2026-11-01"),
        ("since 2026-11-25", "2026-11-25", "2026-11-26", "since", True, "since 2026-11-25"),
    ],
)
def test_every_form_on_a_wednesday(text, start, end, kind, partial, label):
    p = parse_period(text, WED)
    assert (p.start, p.end, p.kind, p.partial, p.label) == (d(start), d(end), kind, partial, label)


@pytest.mark.parametrize(
    "text, same_as",
    [
        ("本周", "this-week"), ("上周", "last-week"), ("本月", "this-month"), ("上月", "last-month"),
        ("上个月", "last-month"), ("本季度", "this-quarter"), ("上季度", "last-quarter"), ("今年", "this-year"),
        ("去年", "last-year"), ("今天", "today"), ("昨天", "yesterday"), ("最近7天", "last-7-days"),
        ("近3个月", "last-3-months"), ("过去 4 周", "last-4-weeks"),
        ("LAST QUARTER", "last-quarter"), ("Last_Quarter", "last-quarter"), ("last  -  quarter", "last-quarter"),
        ("Last 30 Days", "last-30-days"), ("last-1-day", "last-1-days"), ("past 7 days", "last-7-days"),
        ("YTD", "ytd"), ("2026-q3", "2026-Q3"), ("2026 Q3", "2026-Q3"), ("Q3 2026", "2026-Q3"), ("2026q3", "2026-Q3"),
        ("2026-w05", "2026-W05"), ("2026W5", "2026-W05"), ("2026-2", "2026-02"),
        ("2026-01-01 .. 2026-01-31", "2026-01-01..2026-01-31"), ("2026-01-01 to 2026-01-31", "2026-01-01..2026-01-31"),
        ("2026/01/01..2026/01/31", "2026-01-01..2026-01-31"), ("2026-01-01-2026-01-31", "2026-01-01..2026-01-31"),
        ("SINCE 2026-11-01", "since 2026-11-01"), ("since-2026-11-01", "since 2026-11-01"),
    ],
)
def test_aliases_case_and_spacing(text, same_as):
    assert parse_period(text, WED) == parse_period(same_as, WED)


def test_datetime_today_is_taken_as_its_date():
    assert parse_period("today", datetime(2026, 11, 25, 23, 59)) == parse_period("today", WED)


def test_new_year_day_crosses_years_and_iso_weeks():
    jan1 = date(2026, 1, 1)  # a Thursday in ISO week 2026-W01, which starts 2025-12-29
    assert span(parse_period("yesterday", jan1)) == (d("2025-12-31"), jan1)
    assert parse_period("this-week", jan1).start == d("2025-12-29")
    assert parse_period("this-week", jan1).label == "2026-W01 to date"
    assert span(parse_period("last-week", jan1)) == (d("2025-12-22"), d("2025-12-29"))
    assert parse_period("last-week", jan1).label == "2025-W52"
    assert span(parse_period("last-month", jan1)) == (d("2025-12-01"), jan1)
    assert parse_period("last-quarter", jan1).label == "2025-Q4"
    assert span(parse_period("this-year", jan1)) == (jan1, d("2026-01-02"))
    assert span(parse_period("last-7-days", jan1)) == (d("2025-12-25"), jan1)
    assert span(parse_period("last-2-weeks", jan1)) == (d("2025-12-15"), d("2025-12-29"))


def test_iso_week_53():
    assert span(parse_period("2026-W53", LATER)) == (d("2026-12-28"), d("2027-01-04"))
    assert span(parse_period("2020-W53", WED)) == (d("2020-12-28"), d("2021-01-04"))
    assert span(parse_period("2026-W01", WED)) == (d("2025-12-29"), d("2026-01-05"))
    with pytest.raises(PeriodError, match="2021 has ISO weeks W01–W52, not W53") as err:
        parse_period("2021-W53", WED)
    assert err.value.suggestion == "2021-W52"


def test_leap_february():
    assert parse_period("2024-02", WED).days == 29
    assert parse_period("2025-02", WED).days == 28
    assert parse_period("2024", WED).days == 366
    assert span(parse_period("2024-02-28..2024-03-01", WED)) == (d("2024-02-28"), d("2024-03-02"))


def test_last_n_months_crosses_the_year():
    p = parse_period("last-3-months", date(2026, 1, 15))
    assert span(p) == (d("2025-10-01"), d("2026-01-01"))
    assert span(comparison_period(p)) == (d("2025-07-01"), d("2025-10-01"))
    assert comparison_period(p).label == "previous 3 months (2025-07 – 2025-09)"


def test_last_month_on_march_31():
    assert span(parse_period("last-month", date(2026, 3, 31))) == (d("2026-02-01"), d("2026-03-01"))


class TestFiscalYearStartingInApril:
    def test_quarters_and_years_are_labelled_by_the_year_they_start(self):
        assert span(parse_period("2026-Q1", WED, 4)) == (d("2026-04-01"), d("2026-07-01"))
        assert span(parse_period("2026-Q4", LATER, 4)) == (d("2027-01-01"), d("2027-04-01"))
        assert parse_period("2026-Q4", LATER, 4).label == "FY2026-Q4"
        year = parse_period("2026", LATER, 4)
        assert (year.start, year.end, year.label) == (d("2026-04-01"), d("2027-04-01"), "FY2026")

    def test_relative_forms_in_february(self):
        feb = date(2026, 2, 10)
        this_year = parse_period("this-year", feb, 4)
        assert (this_year.start, this_year.end, this_year.label) == (d("2025-04-01"), d("2026-02-11"), "FY2025 to date")
        assert parse_period("ytd", feb, 4) == this_year
        last_year = parse_period("last-year", feb, 4)
        assert (last_year.start, last_year.end, last_year.label) == (d("2024-04-01"), d("2025-04-01"), "FY2024")
        this_q = parse_period("qtd", feb, 4)
        assert (this_q.start, this_q.label) == (d("2026-01-01"), "FY2025-Q4 to date")
        last_q = parse_period("last-quarter", feb, 4)
        assert (last_q.start, last_q.end, last_q.label) == (d("2025-10-01"), d("2026-01-01"), "FY2025-Q3")

    def test_comparison_of_the_first_fiscal_quarter_is_the_last_of_the_previous_year(self):
        c = comparison_period(parse_period("2026-Q1", WED, 4))
        assert (c.start, c.end, c.label) == (d("2026-01-01"), d("2026-04-01"), "FY2025-Q4")
        assert comparison_period(parse_period("2026", LATER, 4)).label == "FY2025"

    def test_months_and_weeks_stay_calendar(self):
        assert parse_period("last-month", WED, 4) == Period(d("2026-10-01"), d("2026-11-01"), "2026-10", "month", False, 4)
        assert span(parse_period("2026-W48", WED, 4)) == span(parse_period("2026-W48", WED))


class TestFiscalYearStartingInOctober:
    def test_quarters(self):
        assert span(parse_period("2026-Q1", LATER, 10)) == (d("2026-10-01"), d("2027-01-01"))
        assert span(parse_period("2026-Q2", LATER, 10)) == (d("2027-01-01"), d("2027-04-01"))
        assert span(parse_period("2026-Q4", LATER, 10)) == (d("2027-07-01"), d("2027-10-01"))

    def test_relative_forms(self):
        assert parse_period("this-quarter", WED, 10).label == "FY2026-Q1 to date"
        last_q = parse_period("last-quarter", WED, 10)
        assert (last_q.start, last_q.end, last_q.label) == (d("2026-07-01"), d("2026-10-01"), "FY2025-Q4")
        assert span(parse_period("ytd", WED, 10)) == (d("2026-10-01"), d("2026-11-26"))
        assert span(parse_period("last-year", WED, 10)) == (d("2025-10-01"), d("2026-10-01"))


def test_fiscal_year_starting_in_february_has_quarters_off_the_calendar():
    assert span(parse_period("this-quarter", WED, 2)) == (d("2026-11-01"), d("2026-11-26"))
    assert parse_period("this-quarter", WED, 2).label == "FY2026-Q4 to date"
    assert span(parse_period("last-quarter", WED, 2)) == (d("2026-08-01"), d("2026-11-01"))
    assert span(parse_period("2026-Q4", LATER, 2)) == (d("2026-11-01"), d("2027-02-01"))


def test_bad_fiscal_start_is_a_programming_error():
    with pytest.raises(ValueError, match="1–12"):
        parse_period("2026", WED, 13)


@pytest.mark.parametrize(
    "text, start, end, label",
    [
        ("today", "2026-11-24", "2026-11-25", "2026-11-24"),
        ("yesterday", "2026-11-23", "2026-11-24", "2026-11-23"),
        ("last-week", "2026-11-09", "2026-11-16", "2026-W46"),
        ("2026-W01", "2025-12-22", "2025-12-29", "2025-W52"),
        ("this-week", "2026-11-16", "2026-11-19", "2026-11-16 – 2026-11-18"),
        ("last-month", "2026-09-01", "2026-10-01", "2026-09"),
        ("2026-03", "2026-02-01", "2026-03-01", "2026-02"),  # previous calendar month although shorter
        ("this-month", "2026-10-01", "2026-10-26", "2026-10-01 – 2026-10-25"),
        ("last-quarter", "2026-04-01", "2026-07-01", "2026-Q2"),
        ("2026-Q1", "2025-10-01", "2026-01-01", "2025-Q4"),
        ("this-quarter", "2026-07-01", "2026-08-26", "2026-07-01 – 2026-08-25"),
        ("last-year", "2024-01-01", "2025-01-01", "2024"),
        ("ytd", "2025-01-01", "2025-11-26", "2025-01-01 – 2025-11-25"),
        ("last-30-days", "2026-09-26", "2026-10-26", "previous 30 days (2026-09-26 – 2026-10-25)"),
        ("last-4-weeks", "2026-09-28", "2026-10-26", "previous 4 weeks (2026-W40 – 2026-W43)"),
        ("last-1-months", "2026-09-01", "2026-10-01", "previous 1 month (2026-09)"),
        ("2026-01-01..2026-01-31", "2025-12-01", "2026-01-01", "2025-12-01 – 2025-12-31"),
        ("since 2026-11-01", "2026-10-07", "2026-11-01", "2026-10-07 – 2026-10-31"),
    ],
)
def test_comparison_periods(text, start, end, label):
    c = comparison_period(parse_period(text, WED))
    assert (c.start, c.end, c.label, c.partial) == (d(start), d(end), label, False)


def test_comparison_keeps_kind_except_since_becomes_range():
    for text in ("today", "last-week", "this-month", "last-quarter", "ytd", "last-7-days", "last-2-weeks", "last-2-months"):
        p = parse_period(text, WED)
        assert comparison_period(p).kind == p.kind
    assert comparison_period(parse_period("since 2026-01-01", WED)).kind == "range"
    assert comparison_period(parse_period("2026-Q2", WED, 4)).fiscal_year_start_month == 4


@pytest.mark.parametrize(
    "today, text, start, end",
    [
        ("2024-03-31", "this-month", "2024-02-01", "2024-03-01"),  # 31 days clipped to leap February
        ("2025-03-31", "this-month", "2025-02-01", "2025-03-01"),
        ("2026-11-30", "this-month", "2026-10-01", "2026-10-31"),  # 30 days, not all of October
        ("2024-03-31", "this-week", "2024-03-18", "2024-03-25"),  # a Sunday: the whole previous week
        ("2026-03-31", "this-quarter", "2025-10-01", "2025-12-30"),  # 90 days of a 92-day quarter
        ("2026-09-30", "this-quarter", "2026-04-01", "2026-07-01"),  # 92 days clipped to Q2's 91
        ("2024-12-31", "this-year", "2023-01-01", "2024-01-01"),  # 366 days clipped to 365
        ("2025-12-31", "ytd", "2024-01-01", "2024-12-31"),  # 365 days of leap 2024
    ],
)
def test_partial_comparisons_at_month_quarter_and_year_ends(today, text, start, end):
    assert span(comparison_period(parse_period(text, d(today)))) == (d(start), d(end))


def test_comparison_of_a_fragment_is_again_a_fragment():
    c = comparison_period(comparison_period(parse_period("this-month", WED)))
    assert span(c) == (d("2026-09-01"), d("2026-09-26"))


class TestErrors:
    @pytest.mark.parametrize(
        "text, suggestion",
        [
            ("last-quater", "last-quarter"), ("last quater", "last-quarter"), ("yestrday", "yesterday"),
            ("thismonth", "this-month"), ("lst-30-dyas", "last-30-days"), ("last-7-dys", "last-7-days"),
            ("sinse 2026-01-01", "since 2026-01-01"), ("上季", "上季度"),
        ],
    )
    def test_unknown_names_the_closest_match_and_the_accepted_forms(self, text, suggestion):
        with pytest.raises(PeriodError) as err:
            parse_period(text, WED)
        assert err.value.suggestion == suggestion
        assert str(err.value).startswith(f"unknown period '{text}' — did you mean {suggestion}? Accepted: today")
        assert "YYYY-MM-DD..YYYY-MM-DD" in str(err.value) and "本季度" in str(err.value)

    def test_the_spec_example(self):
        with pytest.raises(PeriodError, match="^unknown period 'last-quater' — did you mean last-quarter\\?"):
            parse_period("last-quater", WED)

    def test_nothing_close(self):
        with pytest.raises(PeriodError, match="^unknown period 'banana'. Accepted: ") as err:
            parse_period("banana", WED)
        assert err.value.suggestion is None

    @pytest.mark.parametrize(
        "text, message",
        [
            ("", "empty period"),
            ("   ", "empty period"),
            ("2026-13", "month must be 01–12, not 13"),
            ("2026-00", "month must be 01–12, not 00"),
            ("2026-Q5", "quarter must be Q1–Q4, not Q5"),
            ("2026-Q0", "quarter must be Q1–Q4, not Q0"),
            ("2026-W00", "2026 has ISO weeks W01–W53, not W00"),
            ("last-0-days", "N must be at least 1"),
            ("2026-02-30..2026-03-01", "2026-02-30 is not a valid date"),
            ("2026-02-01..2026-01-01", "ends \\(2026-01-01\\) before it starts \\(2026-02-01\\)"),
            ("since 2026-11-26", "since 2026-11-26 has not started yet; today is 2026-11-25"),
            ("since 2026-13-01", "2026-13-01 is not a valid date"),
            ("last-99999999-days", "out of range"),
            ("0000", "out of range"),
            # the period before these would start before year 1 (issue 14.5: a 500 in the add-on before)
            ("since 0001-01-01", "out of range: periods start on or after 1800-01-01"),
            ("0001", "out of range: periods start on or after 1800-01-01"),
            ("0001-01-01..0001-02-01", "out of range: periods start on or after 1800-01-01"),
        ],
    )
    def test_specific_messages(self, text, message):
        with pytest.raises(PeriodError, match=message):
            parse_period(text, WED)

    def test_is_a_value_error(self):
        assert issubclass(PeriodError, ValueError)


def test_month_periods():
    months = month_periods(date(2025, 11, 15), date(2026, 2, 1))
    assert [(m.start, m.end, m.label, m.kind) for m in months] == [
        (d("2025-11-01"), d("2025-12-01"), "2025-11", "month"),
        (d("2025-12-01"), d("2026-01-01"), "2025-12", "month"),
        (d("2026-01-01"), d("2026-02-01"), "2026-01", "month"),
        (d("2026-02-01"), d("2026-03-01"), "2026-02", "month"),
    ]
    assert [m.label for m in month_periods(WED, WED)] == ["2026-11"]
    assert month_periods(WED, date(2026, 11, 1)) == []
    assert month_periods(date(2026, 2, 1), date(2026, 2, 28))[0] == parse_period("2026-02", WED)


@pytest.mark.parametrize(
    "day, monday",
    [("2026-11-25", "2026-11-23"), ("2026-11-23", "2026-11-23"), ("2026-11-29", "2026-11-23"), ("2026-01-01", "2025-12-29")],
)
def test_week_start(day, monday):
    assert week_start(d(day)) == d(monday)


class TestPeriodsAfterToday:
    """METRICS.md "Periods": a period that starts after today is an error with a suggestion, never an answer;
    one that ends after today is cut at the end of today and labelled "to date"."""

    @pytest.mark.parametrize(
        "text, message, suggestion",
        [
            ("2027-03", "2027-03 has not started yet; today is 2026-11-25", "this-month"),
            ("2026-12", "2026-12 has not started yet; today is 2026-11-25", "this-month"),
            ("2027-Q1", "2027-Q1 has not started yet; today is 2026-11-25", "this-quarter"),
            ("2026-W49", "2026-W49 has not started yet; today is 2026-11-25", "this-week"),
            ("2027", "2027 has not started yet; today is 2026-11-25", "this-year"),
            ("2026-12-01..2026-12-31", "2026-12-01 – 2026-12-31 has not started yet; today is 2026-11-25", "today"),
        ],
    )
    def test_a_period_starting_after_today_is_an_error(self, text, message, suggestion):
        with pytest.raises(PeriodError) as err:
            parse_period(text, WED)
        assert str(err.value) == message
        assert err.value.suggestion == suggestion

    def test_a_fiscal_quarter_after_today(self):
        # fiscal start 4: FY2026-Q4 is January–March 2027, after 2026-11-25
        with pytest.raises(PeriodError, match="FY2026-Q4 has not started yet; today is 2026-11-25"):
            parse_period("2026-Q4", WED, 4)

    def test_a_period_starting_today_is_partial(self):
        # 2026-11-23 (Monday of W48) is before today, 2026-11-25 is today itself: both run through today
        p = parse_period("2026-11-25..2026-12-05", WED)
        assert (p.start, p.end, p.partial, p.label) == (WED, d("2026-11-26"), True, "2026-11-25 to date")

    def test_the_partial_month_compares_with_the_same_days_of_the_previous_month(self):
        # 2026-11 on 25 Nov → 1–25 Nov (25 days) against 1–25 Oct, like this-month
        p = parse_period("2026-11", WED)
        c = comparison_period(p)
        assert (c.start, c.end) == (d("2026-10-01"), d("2026-10-26"))
        assert p == parse_period("this-month", WED)
