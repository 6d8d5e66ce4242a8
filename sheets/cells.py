"""Typing of raw cell columns (identifiers, numbers, dates), vectorised, with a reason for every cell that fails."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

import numpy as np
import pandas as pd

SERIAL_EPOCH = pd.Timestamp("1899-12-30")
MAX_SERIAL = 2958465  # 9999-12-31
_CURRENCY = r"[\s$€£¥￥₹₩,]|USD|EUR|GBP|CNY|RMB|元"
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$")
_CJK = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME + "$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME + "$")
_SLASHED = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})" + _TIME + "$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_LEFTOVER_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y")


@dataclass
class Typed:
    """A typed column: values (missing where blank or bad), a reason per bad cell (None where fine), blank mask."""

    values: pd.Series
    errors: pd.Series
    blank: pd.Series
    ambiguous: int = 0
    ambiguous_at: object = None
    day_first_evidence: int = 0
    month_first_evidence: int = 0

    @property
    def bad(self) -> pd.Series:
        return self.errors.notna()


def display(value: object) -> str:
    """A cell as the user would read it in a report."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _kinds(raw: pd.Series) -> pd.Series:
    """A per-cell type tag: str, num, bool, date, other, blank."""
    def tag(v: object) -> str:
        if v is None:
            return "blank"
        if isinstance(v, str):
            return "str"
        if isinstance(v, bool | np.bool_):
            return "bool"
        if isinstance(v, int | float | np.integer | np.floating):
            return "blank" if isinstance(v, float | np.floating) and math.isnan(v) else "num"
        if isinstance(v, datetime | date):
            return "date"
        return "other"

    inferred = pd.api.types.infer_dtype(raw, skipna=False) if len(raw) else "empty"
    if inferred == "string":
        return pd.Series("str", index=raw.index)
    if inferred in ("floating", "integer", "mixed-integer-float"):
        out = pd.Series("num", index=raw.index)
        out[raw.isna()] = "blank"
        return out
    return raw.map(tag)


def _strings(raw: pd.Series, mask: pd.Series) -> pd.Series:
    return raw[mask].astype(str).str.strip()


def to_id(raw: pd.Series) -> Typed:
    """Identifiers as text: `007` stays `007`, a numeric 7.0 becomes `7`, surrounding spaces are dropped."""
    kinds = _kinds(raw)
    out = pd.Series(pd.NA, index=raw.index, dtype="string")
    is_str = kinds.eq("str")
    if is_str.any():
        out[is_str] = _strings(raw, is_str)
    is_num = kinds.eq("num")
    if is_num.any():
        nums = pd.to_numeric(raw[is_num]).astype(float)
        integral = np.isfinite(nums) & (nums == np.floor(nums)) & (nums.abs() < 2**53)
        out[is_num & integral.reindex(raw.index, fill_value=False)] = nums[integral].astype("int64").astype(str)
        out[is_num & ~integral.reindex(raw.index, fill_value=True)] = nums[~integral].map(repr)
    rest = kinds.isin(["bool", "date", "other"])
    if rest.any():
        out[rest] = raw[rest].map(display)
    blank = out.isna() | out.eq("")
    out[blank] = pd.NA
    return Typed(out, pd.Series(None, index=raw.index, dtype=object), blank.astype(bool))


def to_text(raw: pd.Series) -> Typed:
    """Free text, trimmed; numbers rendered without a trailing .0."""
    return to_id(raw)


def to_number(raw: pd.Series) -> Typed:
    """Numbers: numeric cells, or text like `1,234.50`, `$12`, `(12.50)`; anything else gets a reason."""
    kinds = _kinds(raw)
    values = pd.Series(np.nan, index=raw.index, dtype="float64")
    errors = pd.Series(None, index=raw.index, dtype=object)
    is_num = kinds.eq("num")
    if is_num.any():
        values[is_num] = pd.to_numeric(raw[is_num]).astype(float)
    is_str = kinds.eq("str")
    blank = kinds.eq("blank")
    if is_str.any():
        text = _strings(raw, is_str)
        blank = blank | text.eq("").reindex(raw.index, fill_value=False)
        negative = text.str.match(r"^\(.*\)$")
        cleaned = text.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(_CURRENCY, "", regex=True)
        parsed = pd.to_numeric(cleaned.where(cleaned.ne("")), errors="coerce")
        parsed = parsed.where(~negative, -parsed)
        values[is_str] = parsed
        failed = parsed.isna() & text.ne("")
        errors[failed[failed].index] = "not a number"
    values[~np.isfinite(values.fillna(0.0))] = np.nan
    wrong = kinds.isin(["bool", "date", "other"])
    errors[wrong] = "not a number"
    return Typed(values, errors, blank.astype(bool))


def to_date(raw: pd.Series, date_order: Literal["MDY", "DMY"] = "MDY") -> Typed:
    """Dates at midnight from date cells, serial numbers and the text forms listed in docs/data-model.md."""
    kinds = _kinds(raw)
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    errors = pd.Series(None, index=raw.index, dtype=object)
    blank = kinds.eq("blank")
    typed = Typed(values, errors, blank)

    is_date = kinds.eq("date")
    if is_date.any():
        values[is_date] = pd.to_datetime(raw[is_date].map(_as_datetime), errors="coerce").dt.normalize()
        errors[is_date & values.isna()] = "not a valid date"
    is_num = kinds.eq("num")
    if is_num.any():
        _serials(pd.to_numeric(raw[is_num]).astype(float), typed)
    is_str = kinds.eq("str")
    if is_str.any():
        text = _strings(raw, is_str)
        empty = text.eq("")
        typed.blank = (blank | empty.reindex(raw.index, fill_value=False)).astype(bool)
        _text_dates(text[~empty], date_order, typed)
    errors[kinds.isin(["bool", "other"])] = "not a date"
    typed.blank = typed.blank.astype(bool)
    return typed


def _as_datetime(v: object) -> datetime | None:
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return None


def _serials(nums: pd.Series, typed: Typed) -> None:
    compact = (nums >= 19000101) & (nums <= 29991231) & (nums == np.floor(nums))
    if compact.any():
        as_text = nums[compact].astype("int64").astype(str)
        _assign_ymd(as_text.str.extract(_COMPACT).astype(float), typed, as_text, ("y", "m", "d"))
    serial = ~compact & (nums >= 1) & (nums <= MAX_SERIAL)
    if serial.any():
        days = np.floor(nums[serial]).astype("int64")
        typed.values[serial[serial].index] = SERIAL_EPOCH + pd.to_timedelta(days, unit="D")
    out = ~compact & ~serial
    typed.errors[out[out].index] = "a number that is not a date (expected a date or a serial date number)"


def _text_dates(text: pd.Series, date_order: str, typed: Typed) -> None:
    left = pd.Series(True, index=text.index)
    for pattern, order in ((_YMD, ("y", "m", "d")), (_CJK, ("y", "m", "d")), (_DOTTED, ("d", "m", "y"))):
        parts = text[left].str.extract(pattern)
        hit = parts[0].notna()
        if hit.any():
            _assign_ymd(parts[hit].astype(float), typed, text[hit[hit].index], order)
            left[hit[hit].index] = False
    parts = text[left].str.extract(_SLASHED)
    hit = parts[0].notna()
    if hit.any():
        _slashed(parts[hit].astype(float), text[hit[hit].index], date_order, typed)
        left[hit[hit].index] = False
    compact = text[left].str.extract(_COMPACT)
    hit = compact[0].notna()
    if hit.any():
        _assign_ymd(compact[hit].astype(float), typed, text[hit[hit].index], ("y", "m", "d"))
        left[hit[hit].index] = False
    serial = pd.to_numeric(text[left], errors="coerce")
    serial = serial[serial.notna() & (serial >= 1) & (serial <= MAX_SERIAL) & (text[left].str.len() <= 12)]
    if len(serial):
        typed.values[serial.index] = SERIAL_EPOCH + pd.to_timedelta(np.floor(serial).astype("int64"), unit="D")
        left[serial.index] = False
    for idx in left[left].index:
        parsed = _leftover(text[idx])
        if parsed is None:
            typed.errors[idx] = "not a recognised date; use YYYY-MM-DD (e.g. 2026-03-05)"
        else:
            typed.values[idx] = parsed


def _slashed(parts: pd.DataFrame, text: pd.Series, date_order: str, typed: Typed) -> None:
    a, b = parts[0], parts[1]
    day_first = (a > 12) & (b <= 12)
    month_first = (b > 12) & (a <= 12)
    ambiguous = (a <= 12) & (b <= 12) & (a != b)
    typed.ambiguous += int(ambiguous.sum())
    if ambiguous.any() and typed.ambiguous_at is None:
        typed.ambiguous_at = ambiguous[ambiguous].index[0]
    typed.day_first_evidence += int(day_first.sum())
    typed.month_first_evidence += int(month_first.sum())
    use_dmy = day_first | (~month_first & (date_order == "DMY"))
    frame = pd.DataFrame({0: parts[2], 1: b.where(use_dmy, a), 2: a.where(use_dmy, b)})
    _assign_ymd(frame, typed, text, ("y", "m", "d"))


def _assign_ymd(parts: pd.DataFrame, typed: Typed, text: pd.Series, order: tuple[str, str, str]) -> None:
    cols = dict(zip(order, (parts[0], parts[1], parts[2])))
    ok = cols["y"].between(1, 9999) & cols["m"].between(1, 12) & cols["d"].between(1, 31)
    stamps = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        stamps[ok] = pd.to_datetime(
            pd.DataFrame({"year": cols["y"][ok], "month": cols["m"][ok], "day": cols["d"][ok]}).astype("int64"),
            errors="coerce",
        )
    good = stamps.notna()
    typed.values[good[good].index] = stamps[good]
    bad = ~good
    if bad.any():
        typed.errors[bad[bad].index] = "not a valid calendar date (month 1-12, day within the month)"


def _leftover(text: str) -> pd.Timestamp | None:
    for fmt in _LEFTOVER_FORMATS:
        try:
            return pd.Timestamp(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def to_score(raw: pd.Series) -> Typed:
    """Whole-number scores; a fraction or text gets a reason (the scale is checked by the caller)."""
    typed = to_number(raw)
    fractional = typed.values.notna() & (typed.values != np.floor(typed.values))
    typed.errors[fractional & typed.errors.isna()] = "not a whole number"
    typed.errors[typed.errors.eq("not a number")] = "not a number"
    typed.values = typed.values.where(~fractional)
    return typed
