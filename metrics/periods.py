"""Reporting periods: half-open date ranges [start, end) parsed from the forms METRICS.md lists.

Choices this module makes (METRICS.md leaves them open):
- Fiscal years are labelled by the calendar year in which they start: with
  `fiscal_year_start_month=4`, FY2026 runs April 2026 – March 2027 and `2026-Q1` is April–June 2026
  (the METRICS.md example); with start 10, `2026-Q1` is October–December 2026.
- When the fiscal year does not start in January, every year-shaped form is fiscal: `this-year`,
  `ytd` and `last-year` use the current/previous fiscal year, `YYYY` means fiscal year YYYY (so it is
  exactly the union of YYYY-Q1..Q4), quarters are fiscal quarters. Labels then read `FY2026`,
  `FY2026-Q1`. Months and ISO weeks are always calendar months and ISO weeks.
- Partial periods (`today`, `this-*`, `ytd`, `qtd`, `mtd`, `since`) end tomorrow (through today).
  A named period that ends after today (`2026-11` on 25 November, `2026`, a range running past today)
  is cut the same way and labelled "… to date"; one that starts after today is a PeriodError
  ("2027-03 has not started yet; today is 2026-11-25") suggesting the current period of its kind.
  Their comparison period is the same number of days from the start of the previous unit, clipped so
  it never runs past that unit (a 31-day `this-month` on 31 March compares with all of February).
- `YYYY-MM-DD..YYYY-MM-DD` may also be written with ` to `, `~` or a dash between the two dates;
  `Q3 2026`, `past-N-days`, 今天, 昨天, 上个月, 最近7天, 近3个月 are accepted as well.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from metrics.errors import BadCommand


@dataclass(frozen=True)
class Period:
    """A half-open date range [start, end). `kind` drives the comparison period; `partial` marks
    periods that run through the end of today (this-*, ytd, qtd, mtd, today)."""

    start: date
    end: date
    label: str
    kind: str = "range"
    partial: bool = False
    fiscal_year_start_month: int = 1

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)

    @property
    def end_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.end)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def mask(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of `dates` (datetime64) that fall inside the period."""
        return (dates >= self.start_ts) & (dates < self.end_ts)

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


class PeriodError(BadCommand):
    """A period text that cannot be parsed; `suggestion` is the closest accepted form, if any."""


ACCEPTED_FORMS = (
    "today, yesterday, this-/last-week|month|quarter|year, ytd, qtd, mtd, last-N-days|weeks|months, "
    "YYYY, YYYY-QN, YYYY-MM, YYYY-Www, YYYY-MM-DD..YYYY-MM-DD, since YYYY-MM-DD, "
    "本周 上周 本月 上月 本季度 上季度 今年 去年"
)

_UNIT_MONTHS = {"month": 1, "quarter": 3, "year": 12}

_KEYWORDS = {
    "today": "today",
    "今天": "today",
    "yesterday": "yesterday",
    "昨天": "yesterday",
    "this-week": "this-week",
    "本周": "this-week",
    "这周": "this-week",
    "last-week": "last-week",
    "上周": "last-week",
    "this-month": "this-month",
    "本月": "this-month",
    "这个月": "this-month",
    "last-month": "last-month",
    "上月": "last-month",
    "上个月": "last-month",
    "this-quarter": "this-quarter",
    "本季度": "this-quarter",
    "这个季度": "this-quarter",
    "last-quarter": "last-quarter",
    "上季度": "last-quarter",
    "上个季度": "last-quarter",
    "this-year": "this-year",
    "今年": "this-year",
    "last-year": "last-year",
    "去年": "last-year",
    "ytd": "this-year",
    "qtd": "this-quarter",
    "mtd": "this-month",
}

_DATE = r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
_LAST_N = re.compile(r"(?:last|past|最近|过去|近)-?(\d+)-?(day|week|month|天|日|周|个月|月)s?")
_RANGE = re.compile(_DATE + r"(?:-?(?:\.\.|to|~|–|—|至|到)-?|-)" + _DATE)
_SINCE = re.compile(r"(?:since|from|自)-?" + _DATE + r"(?:-?(?:起|以来))?")
_QUARTER = re.compile(r"(?:fy)?(\d{4})-?q(\d+)|q(\d+)-?(?:fy)?(\d{4})")
_WEEK = re.compile(r"(\d{4})-?w(\d+)")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(?:fy)?(\d{4})")
_UNITS = {
    "day": "days",
    "天": "days",
    "日": "days",
    "week": "weeks",
    "周": "weeks",
    "month": "months",
    "个月": "months",
    "月": "months",
}

# Normalised forms (digits as N) offered as "did you mean", with how each is shown.
_TEMPLATES = {k: k for k in _KEYWORDS} | {
    "last-N-days": "last-N-days",
    "last-N-weeks": "last-N-weeks",
    "last-N-months": "last-N-months",
    "since-N-N-N": "since N-N-N",
    "N-N-N..N-N-N": "N-N-N..N-N-N",
    "N-qN": "N-QN",
    "N-wN": "N-WN",
}


# The earliest start a period may have: the one before it (and a year-ago comparison) must still be a date.
EARLIEST = date(1800, 1, 1)


def parse_period(text: str, today: date, fiscal_year_start_month: int = 1) -> Period:
    """The period `text` names, relative to `today`, with quarters and years shifted by the fiscal start."""
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1–12, not {fiscal_year_start_month}")
    if isinstance(today, datetime):
        today = today.date()
    raw = (text or "").strip()
    s = normalise(raw)
    if not s:
        raise PeriodError(f"empty period. Accepted: {ACCEPTED_FORMS}")
    try:
        period = _parse(s, raw, today, fiscal_year_start_month)
    except (OverflowError, ValueError) as err:
        if isinstance(err, PeriodError):
            raise
        raise PeriodError(f"period '{raw}' is out of range ({err})") from None
    if period is None:
        suggestion = _suggest(s)
        hint = f" — did you mean {suggestion}?" if suggestion else "."
        raise PeriodError(f"unknown period '{raw}'{hint} Accepted: {ACCEPTED_FORMS}", suggestion)
    if period.start < EARLIEST:
        raise PeriodError(f"period '{raw}' is out of range: periods start on or after {EARLIEST.isoformat()}")
    return _up_to_today(period, raw, today)


# `vs same-period-last-year` (对比 去年同期, `yoy`): the period a year before the one asked about, whatever it is.
SAME_PERIOD_LAST_YEAR = "same-period-last-year"
_YEAR_AGO = {SAME_PERIOD_LAST_YEAR, "same-period-a-year-ago", "yoy", "year-over-year", "去年同期", "上年同期"}


def is_year_ago(text: str) -> bool:
    """Whether `text` asks for the same period a year earlier (`same period last year`, `去年同期`, `yoy`)."""
    return normalise(text) in _YEAR_AGO


def vs_period(text: str, period: Period, today: date, fiscal_year_start_month: int = 1) -> Period:
    """The comparison period a `vs` names: `same-period-last-year` is `year_earlier(period)`, else `parse_period`."""
    if is_year_ago(text):
        return year_earlier(period)
    return parse_period(text, today, fiscal_year_start_month)


def year_earlier(p: Period) -> Period:
    """The same period one year earlier: the same whole month, (fiscal) quarter, year or ISO week number (W53 → W52
    in a 52-week year); anything else (a range, a period to date) the same dates a year earlier (29 Feb → 28 Feb)."""
    fy = p.fiscal_year_start_month
    if p.kind in _UNIT_MONTHS and not p.partial and p.end == _unit_end(p.kind, p.start):
        return _unit_period(p.kind, _add_months(p.start, -12), fy)
    if p.kind == "week" and not p.partial and p.days == 7:
        year, week, _ = p.start.isocalendar()
        return _unit_period(
            "week", date.fromisocalendar(year - 1, min(week, date(year - 1, 12, 28).isocalendar()[1]), 1)
        )
    start, end = _a_year_before(p.start), _a_year_before(p.end)
    return Period(start, end, _range_label(start, end), "range", fiscal_year_start_month=fy)


def _a_year_before(d: date) -> date:
    return d.replace(year=d.year - 1) if (d.month, d.day) != (2, 29) else date(d.year - 1, 2, 28)


# The period to suggest instead of one that has not started yet, by kind.
_CURRENT = {"day": "today", "week": "this-week", "month": "this-month", "quarter": "this-quarter", "year": "this-year"}


def _up_to_today(p: Period, raw: str, today: date) -> Period:
    """Refuse a period that starts after today (it has no data, only zeros); cut one that ends after
    today at the end of today and label it "to date", like `this-month`."""
    if p.start > today:
        raise PeriodError(f"{p.label} has not started yet; today is {today.isoformat()}", _CURRENT.get(p.kind, "today"))
    tomorrow = today + timedelta(days=1)
    if p.end <= tomorrow or p.partial:
        return p
    label = f"{p.label} to date" if p.kind in _CURRENT else f"{_range_label(p.start, tomorrow)} to date"
    return Period(p.start, tomorrow, label, p.kind, True, p.fiscal_year_start_month)


def normalise(text: str) -> str:
    """Lower case, with runs of spaces, underscores and hyphens made one hyphen (`Last  Quarter` → `last-quarter`)."""
    s = re.sub(r"\s*\.\.\s*", "..", text.strip().lower())
    return re.sub(r"[\s_\-]+", "-", s).strip("-")


def comparison_period(p: Period) -> Period:
    """The immediately preceding period of the same length and kind (see the module docstring)."""
    fy = p.fiscal_year_start_month
    unit = p.kind
    if unit == "day":
        start = p.start - timedelta(days=1)
        return Period(start, p.start, start.isoformat(), "day", fiscal_year_start_month=fy)
    if unit in ("week", *_UNIT_MONTHS):
        start = p.start - timedelta(days=7) if unit == "week" else _add_months(p.start, -_UNIT_MONTHS[unit])
        whole = not p.partial and p.end == _unit_end(unit, p.start)
        if whole:
            return _unit_period(unit, start, fy)
        end = min(start + timedelta(days=p.days), p.start)
        return Period(start, end, _range_label(start, end), unit, fiscal_year_start_month=fy)
    if unit == "months" and p.start.day == 1 and p.end.day == 1:
        n = _month_index(p.end) - _month_index(p.start)
        start = _add_months(p.start, -n)
        return Period(
            start, p.start, f"previous {_months_label(n, start, p.start)}", "months", fiscal_year_start_month=fy
        )
    start = p.start - timedelta(days=p.days)
    if unit == "days":
        label = f"previous {_days_label(p.days, start, p.start)}"
    elif unit == "weeks":
        label = f"previous {_weeks_label(p.days // 7, start, p.start)}"
    else:
        label = _range_label(start, p.start)
    kind = unit if unit in ("days", "weeks", "months") else "range"
    return Period(start, p.start, label, kind, fiscal_year_start_month=fy)


def month_periods(first: date, last: date) -> list[Period]:
    """The calendar months (kind "month") covering `first` through `last`, both inclusive; empty if first > last."""
    if first > last:
        return []
    months = range(_month_index(first), _month_index(last) + 1)
    return [_unit_period("month", date(m // 12, m % 12 + 1, 1)) for m in months]


def week_start(d: date) -> date:
    """The Monday of `d`'s ISO week."""
    return d - timedelta(days=d.weekday())


def _parse(s: str, raw: str, today: date, fy: int) -> Period | None:
    if s in _KEYWORDS:
        return _relative(_KEYWORDS[s], today, fy)
    if m := _LAST_N.fullmatch(s):
        return _last_n(int(m.group(1)), _UNITS[m.group(2)], raw, today, fy)
    if m := _RANGE.fullmatch(s):
        first, last = _date(raw, *m.groups()[:3]), _date(raw, *m.groups()[3:])
        if last < first:
            raise PeriodError(f"period '{raw}' ends ({last}) before it starts ({first})")
        end = last + timedelta(days=1)
        return Period(first, end, _range_label(first, end), "range", fiscal_year_start_month=fy)
    if m := _SINCE.fullmatch(s):
        first = _date(raw, *m.groups())
        end = today + timedelta(days=1)
        return Period(first, end, f"since {first.isoformat()}", "since", True, fy)
    if m := _QUARTER.fullmatch(s):
        year, q = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if not 1 <= int(q) <= 4:
            raise PeriodError(f"period '{raw}': quarter must be Q1–Q4, not Q{int(q)}", f"{year}-Q4")
        return _unit_period("quarter", _add_months(date(int(year), fy, 1), 3 * (int(q) - 1)), fy)
    if m := _WEEK.fullmatch(s):
        year, week = int(m.group(1)), int(m.group(2))
        weeks = date(year, 12, 28).isocalendar()[1]
        if not 1 <= week <= weeks:
            raise PeriodError(f"period '{raw}': {year} has ISO weeks W01–W{weeks}, not W{week:02d}", f"{year}-W{weeks}")
        return _unit_period("week", date.fromisocalendar(year, week, 1), fy)
    if m := _MONTH.fullmatch(s):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period '{raw}': month must be 01–12, not {month:02d}")
        return _unit_period("month", date(year, month, 1), fy)
    if m := _YEAR.fullmatch(s):
        return _unit_period("year", date(int(m.group(1)), fy, 1), fy)
    return None


def _relative(word: str, today: date, fy: int) -> Period:
    tomorrow = today + timedelta(days=1)
    if word == "today":
        return Period(today, tomorrow, f"{today.isoformat()} (today)", "day", True, fy)
    if word == "yesterday":
        return _unit_period("day", today - timedelta(days=1), fy)
    which, unit = word.split("-")
    start = _unit_start(unit, today, fy)
    if which == "last":
        start = start - timedelta(days=7) if unit == "week" else _add_months(start, -_UNIT_MONTHS[unit])
        return _unit_period(unit, start, fy)
    return Period(start, tomorrow, f"{_unit_label(unit, start, fy)} to date", unit, True, fy)


def _last_n(n: int, unit: str, raw: str, today: date, fy: int) -> Period:
    if n < 1:
        raise PeriodError(f"period '{raw}': N must be at least 1", f"last-1-{unit}")
    if unit == "days":
        start = today - timedelta(days=n)
        return Period(start, today, f"last {_days_label(n, start, today)}", "days", fiscal_year_start_month=fy)
    if unit == "weeks":
        end = week_start(today)
        start = end - timedelta(days=7 * n)
        return Period(start, end, f"last {_weeks_label(n, start, end)}", "weeks", fiscal_year_start_month=fy)
    end = date(today.year, today.month, 1)
    start = _add_months(end, -n)
    return Period(start, end, f"last {_months_label(n, start, end)}", "months", fiscal_year_start_month=fy)


def _unit_start(unit: str, d: date, fy: int) -> date:
    """The first day of the week, month, (fiscal) quarter or (fiscal) year containing `d`."""
    if unit == "week":
        return week_start(d)
    if unit == "month":
        return date(d.year, d.month, 1)
    year_start = date(d.year if d.month >= fy else d.year - 1, fy, 1)
    if unit == "year":
        return year_start
    return _add_months(year_start, (_month_index(d) - _month_index(year_start)) // 3 * 3)


def _unit_end(unit: str, start: date) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    return _add_months(start, _UNIT_MONTHS[unit])


def _unit_period(unit: str, start: date, fy: int = 1) -> Period:
    return Period(start, _unit_end(unit, start), _unit_label(unit, start, fy), unit, fiscal_year_start_month=fy)


def _unit_label(unit: str, start: date, fy: int) -> str:
    if unit == "day":
        return start.isoformat()
    if unit == "week":
        return _week_label(start)
    if unit == "month":
        return f"{start.year}-{start.month:02d}"
    prefix = "FY" if fy != 1 else ""
    fiscal_year = start.year if start.month >= fy else start.year - 1
    if unit == "year":
        return f"{prefix}{fiscal_year}"
    quarter = (_month_index(start) - _month_index(date(fiscal_year, fy, 1))) // 3 + 1
    return f"{prefix}{fiscal_year}-Q{quarter}"


def _week_label(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def _range_label(start: date, end: date) -> str:
    """`start – last day`, or the single date when the range is one day."""
    last = end - timedelta(days=1)
    return start.isoformat() if last == start else f"{start.isoformat()} – {last.isoformat()}"


def _days_label(n: int, start: date, end: date) -> str:
    return f"{n} day{'s' * (n != 1)} ({_range_label(start, end)})"


def _weeks_label(n: int, start: date, end: date) -> str:
    last = _week_label(end - timedelta(days=7))
    return f"1 week ({last})" if n == 1 else f"{n} weeks ({_week_label(start)} – {last})"


def _months_label(n: int, start: date, end: date) -> str:
    last = _add_months(end, -1)
    last_label = f"{last.year}-{last.month:02d}"
    return f"1 month ({last_label})" if n == 1 else f"{n} months ({start.year}-{start.month:02d} – {last_label})"


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _add_months(d: date, k: int) -> date:
    """The first day of the month `k` months from `d`'s month."""
    year, month = divmod(_month_index(d) + k, 12)
    return date(year, month + 1, 1)


def _date(raw: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise PeriodError(f"period '{raw}': {year}-{month}-{day} is not a valid date") from None


def _suggest(s: str) -> str | None:
    """The accepted form closest to `s`, with its numbers put back (`lst-30-dyas` → `last-30-days`)."""
    numbers = re.findall(r"\d+", s)
    shape = re.sub(r"\d+", "N", s)
    match = difflib.get_close_matches(shape, _TEMPLATES, n=1, cutoff=0.6)
    if not match:
        return None
    shown = _TEMPLATES[match[0]]
    if shown.count("N") != len(numbers):
        return None if "N" in shown else shown
    for number in numbers:
        shown = shown.replace("N", number, 1)
    return shown
