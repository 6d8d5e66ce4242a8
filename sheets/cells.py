"""Typing of raw cell columns (identifiers, numbers, dates), vectorised, with a reason for every cell that fails.

Common shapes take vectorised paths (all-text, all-number, all-date columns; ISO and other fixed date formats via
`pd.to_datetime(format=...)`); only leftovers are examined cell by cell, so a 1M-row tab types in seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

import numpy as np
import pandas as pd

SERIAL_EPOCH = pd.Timestamp("1899-12-30")
MAX_SERIAL = 132_320  # 2262-04-11, the last day a datetime64[ns] can hold
_CURRENCY = re.compile(r"[\s$€£¥￥₹₩,]|USD|EUR|GBP|CNY|RMB|元")
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$")
_CJK = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME + "$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME + "$")
_SLASHED = re.compile(r"^(\d{1,2})([/-])(\d{1,2})[/-](\d{4})" + _TIME + "$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_FAST_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%Y年%m月%d日", "%d.%m.%Y")
_LEFTOVER_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y")

BLANK, TEXT, NUMBER, BOOL, DATE, OTHER = range(6)
_STRIP = np.frompyfunc(str.strip, 1, 1)  # str.strip over an object array, straight into an object array
_FAST_KINDS = {
    "string": TEXT,
    "floating": NUMBER,
    "integer": NUMBER,
    "mixed-integer-float": NUMBER,
    "decimal": NUMBER,
    "datetime": DATE,
    "datetime64": DATE,
    "date": DATE,
    "boolean": BOOL,
    "empty": BLANK,
}
NOT_A_NUMBER = "not a number"
NOT_A_DATE = "not a recognised date; use YYYY-MM-DD (e.g. 2026-03-05)"
BAD_CALENDAR = "not a valid calendar date (month 1-12, day within the month)"


@dataclass
class Typed:
    """A typed column: values (missing where blank or bad), a reason per bad cell (None where fine), blank mask."""

    values: pd.Series
    errors: pd.Series
    blank: pd.Series
    ambiguous: int = 0
    ambiguous_at: int | None = None  # position of the first ambiguous cell
    day_first_evidence: int = 0
    month_first_evidence: int = 0

    @property
    def bad(self) -> pd.Series:
        return self.errors.notna()


def display(value: object) -> str:
    """A cell as the user would read it in a report."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _tag(v: object) -> int:
    if v is None:
        return BLANK
    if isinstance(v, str):
        return TEXT
    if isinstance(v, bool | np.bool_):
        return BOOL
    if isinstance(v, int | float | np.integer | np.floating):
        return BLANK if isinstance(v, float | np.floating) and math.isnan(v) else NUMBER
    if v is pd.NaT:
        return BLANK
    if isinstance(v, datetime | date):
        return DATE
    return OTHER


def _prepare(raw: pd.Series | Sequence[object]) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The cells as an object array (text trimmed) and a kind code per cell (whitespace-only text is blank).

    A float64 column (numbers read column by column) stays a float array: every cell is a number or blank (NaN),
    which is what the object path would find, without a Python object per cell."""
    if isinstance(raw, pd.Series) and raw.dtype == np.float64:
        floats = raw.to_numpy(dtype=np.float64, copy=True)
        return raw.index, floats, np.where(np.isnan(floats), BLANK, NUMBER).astype(np.int8)
    index = raw.index if isinstance(raw, pd.Series) else pd.RangeIndex(len(raw))
    arr = raw.to_numpy(dtype=object, copy=True) if isinstance(raw, pd.Series) else np.asarray(list(raw), dtype=object)
    if len(arr) == 0:
        return index, arr, np.zeros(0, dtype=np.int8)
    na = pd.isna(arr)
    inferred = pd.api.types.infer_dtype(arr, skipna=True)
    if inferred not in _FAST_KINDS:
        na |= arr == ""
        inferred = pd.api.types.infer_dtype(arr[~na], skipna=True) if (~na).any() else "empty"
    if inferred in _FAST_KINDS:
        kinds = np.where(na, BLANK, _FAST_KINDS[inferred]).astype(np.int8)
    else:
        kinds = np.fromiter((_tag(v) for v in arr), dtype=np.int8, count=len(arr))
    text = np.flatnonzero(kinds == TEXT)
    if len(text):
        stripped = np.asarray(_STRIP(arr[text]), dtype=object)
        arr[text] = stripped
        kinds[text[stripped == ""]] = BLANK
    return index, arr, kinds


def to_id(raw: pd.Series | Sequence[object]) -> Typed:
    """Identifiers as text: `007` stays `007`, a numeric 7.0 becomes `7`, surrounding spaces are dropped."""
    index, arr, kinds = _prepare(raw)
    out = np.full(len(arr), None, dtype=object)
    text = kinds == TEXT
    if text.any():
        out[text] = arr[text]
    num = kinds == NUMBER
    if num.any():
        values = arr[num].astype(float)
        integral = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2**53)
        rendered = np.empty(len(values), dtype=object)
        rendered[integral] = values[integral].astype(np.int64).astype(str)
        rendered[~integral] = [repr(float(v)) for v in values[~integral]]
        out[num] = rendered
    rest = np.isin(kinds, (BOOL, DATE, OTHER))
    if rest.any():
        out[rest] = [display(v) for v in arr[rest]]
    blank = kinds == BLANK
    return Typed(
        pd.Series(out, index=index, dtype="string"),
        pd.Series(None, index=index, dtype=object),
        pd.Series(blank, index=index),
    )


def to_text(raw: pd.Series | Sequence[object]) -> Typed:
    """Free text, trimmed; numbers rendered without a trailing .0."""
    return to_id(raw)


def to_number(raw: pd.Series | Sequence[object]) -> Typed:
    """Numbers: numeric cells, or text like `1,234.50`, `$12`, `(12.50)`; anything else gets a reason."""
    index, arr, kinds = _prepare(raw)
    values = np.full(len(arr), np.nan)
    errors = np.full(len(arr), None, dtype=object)
    num = kinds == NUMBER
    if num.any():
        values[num] = arr[num].astype(float)
    text = kinds == TEXT
    if text.any():
        parsed = _parse_numbers(arr[text])
        values[text] = parsed
        failed = np.zeros(len(arr), dtype=bool)
        failed[text] = np.isnan(parsed)
        errors[failed] = NOT_A_NUMBER
    infinite = ~np.isfinite(values) & ~np.isnan(values)
    values[infinite] = np.nan
    errors[infinite] = NOT_A_NUMBER
    errors[np.isin(kinds, (BOOL, DATE, OTHER))] = NOT_A_NUMBER
    return Typed(pd.Series(values, index=index), pd.Series(errors, index=index), pd.Series(kinds == BLANK, index=index))


def _parse_numbers(text: np.ndarray) -> np.ndarray:
    try:
        return text.astype(float)
    except ValueError:
        pass
    out = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(np.isnan(out)):
        s = text[i]
        negative = s.startswith("(") and s.endswith(")")
        cleaned = _CURRENCY.sub("", s.strip("()") if negative else s)
        try:
            value = float(cleaned) if cleaned else math.nan
        except ValueError:
            continue
        out[i] = -value if negative else value
    return out


def to_score(raw: pd.Series | Sequence[object]) -> Typed:
    """Whole-number scores; a fraction or text gets a reason (the scale is checked by the caller)."""
    typed = to_number(raw)
    v = typed.values
    fractional = v.notna() & (v != np.floor(v))
    typed.errors[fractional & typed.errors.isna()] = "not a whole number"
    typed.values = v.where(~fractional)
    typed.errors = _none_where_fine(typed.errors)
    return typed


def to_date(raw: pd.Series | Sequence[object], date_order: Literal["MDY", "DMY"] = "MDY") -> Typed:
    """Dates at midnight from date cells, serial numbers and the text forms listed in docs/data-model.md.

    Each distinct cell value is parsed once (columns of dates repeat a lot), then spread back to its rows.
    A datetime64 column (the columnar reader's date cells) is only normalised to midnight.
    """
    if isinstance(raw, pd.Series) and pd.api.types.is_datetime64_ns_dtype(raw.dtype) and raw.dt.tz is None:
        blank = raw.isna()
        return Typed(raw.dt.normalize(), pd.Series(None, index=raw.index, dtype=object), blank)
    index, arr, kinds = _prepare(raw)
    n = len(arr)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    errors = np.full(n, None, dtype=object)
    evidence = np.zeros(n, dtype=np.int8)
    for kind in (DATE, NUMBER, TEXT):
        rows = np.flatnonzero(kinds == kind)
        if not len(rows):
            continue
        codes, uniques = pd.factorize(arr[rows])
        work = _Work.empty(len(uniques))
        if kind == DATE:
            work.values[:] = _date_objects(np.asarray(uniques, dtype=object))
            work.errors[work.values.isna().to_numpy()] = BAD_CALENDAR
        elif kind == NUMBER:
            _serials(pd.Series(np.asarray(uniques, dtype=object).astype(float)), work)
        else:
            _text_dates(pd.Series(np.asarray(uniques, dtype=object)), date_order, work)
        values[rows] = work.values.to_numpy()[codes]
        errors[rows] = work.errors.to_numpy()[codes]
        evidence[rows] = work.evidence[codes]
    errors[np.isin(kinds, (BOOL, OTHER))] = "not a date"
    ambiguous = np.flatnonzero(evidence == _AMBIGUOUS)
    return Typed(
        pd.Series(values, index=index),
        _none_where_fine(pd.Series(errors, index=index)),
        pd.Series(kinds == BLANK, index=index),
        ambiguous=len(ambiguous),
        ambiguous_at=int(ambiguous[0]) if len(ambiguous) else None,
        day_first_evidence=int((evidence == _DAY_FIRST).sum()),
        month_first_evidence=int((evidence == _MONTH_FIRST).sum()),
    )


_AMBIGUOUS, _DAY_FIRST, _MONTH_FIRST = 1, 2, 3


def _none_where_fine(errors: pd.Series) -> pd.Series:
    """Errors with None (not NaN) where a cell is fine."""
    return errors.astype(object).where(errors.notna(), None)


@dataclass
class _Work:
    """Parse results for the distinct values of a column (positional index)."""

    values: pd.Series
    errors: pd.Series
    evidence: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Work:
        return cls(
            pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype="datetime64[ns]"),
            pd.Series(None, index=pd.RangeIndex(n), dtype=object),
            np.zeros(n, dtype=np.int8),
        )


def _date_objects(values: np.ndarray) -> np.ndarray:
    try:
        parsed = pd.to_datetime(pd.Series(values), errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    except (TypeError, ValueError):
        parsed = pd.to_datetime(pd.Series([_naive(v) for v in values]), errors="coerce")
    return parsed.dt.normalize().to_numpy()


def _naive(v: object) -> datetime | None:
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return None


def _serials(nums: pd.Series, typed: _Work) -> None:
    compact = (nums >= 19000101) & (nums <= 29991231) & (nums == np.floor(nums))
    if compact.any():
        as_text = nums[compact].astype("int64").astype(str)
        _assign_ymd(as_text.str.extract(_COMPACT).astype(float), typed, ("y", "m", "d"))
    serial = ~compact & (nums >= 1) & (nums <= MAX_SERIAL)
    if serial.any():
        days = np.floor(nums[serial]).astype("int64")
        typed.values[days.index] = _from_serial(days)
    out = ~compact & ~serial
    typed.errors[out[out].index] = "a number that is not a date (expected a date or a serial date number)"


def _from_serial(days: pd.Series) -> np.ndarray:
    return (np.datetime64("1899-12-30", "D") + days.to_numpy().astype("timedelta64[D]")).astype("datetime64[ns]")


def _text_dates(text: pd.Series, date_order: str, typed: _Work) -> None:
    left = text
    for fmt in _FAST_FORMATS:
        if left.empty:
            return
        parsed = pd.to_datetime(left, format=fmt, errors="coerce")
        hit = parsed.notna()
        typed.values[parsed.index[hit]] = parsed[hit].dt.normalize()
        left = left[~hit]
    left = _slashed(left, date_order, typed)
    for pattern, order in (
        (_YMD, ("y", "m", "d")),
        (_CJK, ("y", "m", "d")),
        (_DOTTED, ("d", "m", "y")),
        (_COMPACT, ("y", "m", "d")),
    ):
        if left.empty:
            return
        parts = left.str.extract(pattern)
        hit = parts[0].notna()
        if hit.any():
            _assign_ymd(parts[hit].astype(float), typed, order)
            left = left[~hit]
    serial = pd.to_numeric(left, errors="coerce")
    serial = serial[serial.notna() & (serial >= 1) & (serial <= MAX_SERIAL) & (left.str.len() <= 12)]
    if len(serial):
        typed.values[serial.index] = _from_serial(np.floor(serial).astype("int64"))
        left = left.drop(serial.index)
    for idx, value in left.items():
        day = _leftover(value)
        if day is None:
            typed.errors.at[idx] = NOT_A_DATE
        else:
            typed.values.at[idx] = day


def _slashed(text: pd.Series, date_order: str, work: _Work) -> pd.Series:
    """`a/b/yyyy` (or `a-b-yyyy`): unambiguous when a or b > 12, otherwise read by `date_order` and flagged."""
    if text.empty:
        return text
    parts = text.str.extract(_SLASHED)
    hit = parts[0].notna()
    if not hit.any():
        return text
    parts = parts[hit]
    a, b = parts[0].astype(float), parts[2].astype(float)
    day_first = (a > 12) & (b <= 12)
    month_first = (b > 12) & (a <= 12)
    ambiguous = (a <= 12) & (b <= 12) & (a != b)
    for mask, code in ((ambiguous, _AMBIGUOUS), (day_first, _DAY_FIRST), (month_first, _MONTH_FIRST)):
        work.evidence[mask.index[mask.to_numpy()].to_numpy()] = code
    use_dmy = day_first | (~month_first & (date_order == "DMY"))
    frame = pd.DataFrame({0: parts[3].astype(float), 1: b.where(use_dmy, a), 2: a.where(use_dmy, b)})
    _assign_ymd(frame, work, ("y", "m", "d"))
    return text[~hit]


def _assign_ymd(parts: pd.DataFrame, typed: _Work, order: tuple[str, str, str]) -> None:
    cols = dict(zip(order, (parts[0], parts[1], parts[2]), strict=True))
    ok = cols["y"].between(1, 9999) & cols["m"].between(1, 12) & cols["d"].between(1, 31)
    stamps = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        stamps[ok] = pd.to_datetime(
            pd.DataFrame({"year": cols["y"][ok], "month": cols["m"][ok], "day": cols["d"][ok]}).astype("int64"),
            errors="coerce",
        )
    good = stamps.notna()
    typed.values[stamps.index[good]] = stamps[good]
    typed.errors[stamps.index[~good]] = BAD_CALENDAR


def _leftover(text: str) -> pd.Timestamp | None:
    for fmt in _LEFTOVER_FORMATS:
        try:
            return pd.Timestamp(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None
