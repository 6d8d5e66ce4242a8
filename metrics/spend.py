"""Spend in a period and in a segment (METRICS.md "Spend over time" and "Spend by segment").

- A row with an `end_date` (inclusive) is spread evenly over the days from `date` to `end_date`.
- A row without one is spend on its day, except monthly budgets: when every such row of a channel (or of
  the tab, where no channel is given) is dated the 1st of a month, each covers its calendar month.
  Which channels are monthly is decided on the whole tab, so a segment never changes it.
- Spend in P is the sum of each row's share of days inside P; a row cut by P gives a note.
- In a segment (`Tables.spend_filters`), spend is the rows whose same-named column holds the segment's
  value (case-insensitive); rows with an empty value are unallocated and reported; without such a column
  the segment's spend is unknown (None), never the total.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.periods import Period
from metrics.tables import Tables

BLANK_SEGMENT = "(blank)"


@dataclass(frozen=True)
class Spans:
    """Per Spend row: first day (days since 1970-01-01), number of days covered and amount."""

    first: np.ndarray
    days: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class SpendIn:
    """Spend of the tables' scope in a period (None when the segment's spend is unknown), with notes."""

    amount: float | None
    unallocated: float = 0.0
    notes: list[str] = field(default_factory=list)


def _days(dates: pd.Series) -> np.ndarray:
    """datetime64 values as numpy days (NaT stays NaT)."""
    return dates.to_numpy("datetime64[ns]").astype("datetime64[D]")


def monthly_budget_rows(spend: pd.DataFrame) -> np.ndarray:
    """Rows without an end_date in a channel (or a tab without channels) whose every such row is on the 1st."""
    day = _days(spend["date"])
    single = ~np.isnat(day)
    if "end_date" in spend:
        single &= spend["end_date"].isna().to_numpy(bool)
    channel = spend["channel"] if "channel" in spend else pd.Series(pd.NA, index=spend.index, dtype="string")
    codes, _ = pd.factorize(channel.astype("string"), use_na_sentinel=False)
    on_first = (spend["date"].dt.day == 1).to_numpy(bool)
    off = np.unique(codes[single & ~on_first])
    rows: np.ndarray = single & ~np.isin(codes, off)
    return rows


_SPANS: dict[int, Spans] = {}


def spans(spend: pd.DataFrame) -> Spans:
    """`_spans` of a Spend frame, once per frame object (segments share the whole tab's frame)."""
    key = id(spend)
    if key not in _SPANS:
        _SPANS[key] = _spans(spend)
        weakref.finalize(spend, _SPANS.pop, key, None)
    return _SPANS[key]


def _spans(spend: pd.DataFrame) -> Spans:
    """Each row's days: date..end_date, its calendar month for monthly budgets, else its day."""
    start = _days(spend["date"])
    valid = ~np.isnat(start)
    stop = start + np.timedelta64(1, "D")  # exclusive
    if "end_date" in spend:
        end = _days(spend["end_date"]) + np.timedelta64(1, "D")
        ranged = valid & ~np.isnat(end) & (end > start)
        stop = np.where(ranged, end, stop)
    monthly = monthly_budget_rows(spend)
    month_days = spend["date"].dt.days_in_month.fillna(1).to_numpy(np.int64).astype("timedelta64[D]")
    stop = np.where(monthly, start + month_days, stop)  # budgets are on the 1st: the 1st of the next month
    first = np.where(valid, start, np.datetime64(0, "D")).astype(np.int64)
    days = np.where(valid, stop.astype(np.int64) - first, 1)
    amount = pd.to_numeric(spend["amount"], errors="coerce").fillna(0.0).to_numpy(float)
    return Spans(first, days, np.where(valid, amount, 0.0))


def _in_period(s: Spans, p: Period) -> tuple[np.ndarray, np.ndarray]:
    """Each row's share of its amount inside P, and whether P cuts a row that covers several days."""
    lo = (pd.Timestamp(p.start) - pd.Timestamp(0)).days
    hi = (pd.Timestamp(p.end) - pd.Timestamp(0)).days
    overlap = np.clip(np.minimum(s.first + s.days, hi) - np.maximum(s.first, lo), 0, None)
    cut = (overlap > 0) & (overlap < s.days)
    return s.amount * overlap / s.days, cut


@dataclass(frozen=True)
class SpendRows:
    """Spend rows in one period, or groups of rows with the same segment values (as a warehouse sums them): each
    one's share of its amount inside P, how many rows P cuts, how many rows it stands for (whatever the period),
    and its text in each segment column of `columns` (the Spend tab's columns) that a filter or split reads."""

    share: np.ndarray
    cut: np.ndarray
    rows: np.ndarray
    values: Mapping[str, pd.Series]
    columns: frozenset[str]


def rows_in(t: Tables, p: Period, dimensions: Iterable[str] = ()) -> SpendRows:
    """The tables' Spend rows in P, one entry per row, with the segment columns the filters and `dimensions` read."""
    share, cut = _in_period(spans(t.spend), p)
    wanted = {d for d, _ in t.spend_filters} | set(dimensions)
    values = {d: t.spend[d].reset_index(drop=True) for d in wanted if d in t.spend.columns}
    return SpendRows(share, cut.astype(np.int64), np.ones(len(share), np.int64), values, frozenset(t.spend.columns))


def _matches(column: pd.Series, value: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose value equals `value` (case-insensitive, trimmed) and rows with no value."""
    text = column.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(bool)
    same = (text.str.casefold() == value.strip().casefold()).fillna(False).to_numpy(bool)
    return same & ~blank, blank


Filters = tuple[tuple[str, str], ...]


def _scope(s: SpendRows, filters: Filters) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Rows in the segment of `filters`, rows unallocated for it, or the reason its spend is unknown."""
    n = len(s.share)
    inside, candidate, any_blank = np.ones(n, bool), np.ones(n, bool), np.zeros(n, bool)
    for dimension, value in filters:
        if dimension not in s.columns:
            return (
                inside,
                any_blank,
                (
                    f"the Spend tab has no '{dimension}' column, so spend (and CAC) for {dimension} = {value} is n/a"
                    f" — add a '{dimension}' column to Spend to split spend by {dimension}"
                ),
            )
        if value == BLANK_SEGMENT:
            return inside, any_blank, f"customers with no {dimension} have no spend of their own, so their CAC is n/a"
        same, blank = _matches(s.values[dimension], value)
        inside &= same
        candidate &= same | blank
        any_blank |= blank
    return inside, candidate & any_blank, None


def segment_rows(t: Tables) -> pd.DataFrame:
    """The Spend rows of the tables' segment, by the segment columns Spend has (all rows for the others)."""
    keep = np.ones(len(t.spend), bool)
    for dimension, value in t.spend_filters:
        if dimension in t.spend.columns:
            keep &= _matches(t.spend[dimension], value)[0]
    return t.spend[keep]


def spend_in(t: Tables, p: Period) -> SpendIn:
    """Spend of the tables' scope in P, spread by days, with the notes the rules call for."""
    return spend_of(rows_in(t, p), t.spend_filters, p)


def spend_of(s: SpendRows, filters: Filters, p: Period) -> SpendIn:
    """The same from the period's spend rows (in memory, or grouped and summed by a warehouse)."""
    inside, unallocated, unknown = _scope(s, filters)
    if unknown:
        return SpendIn(None, notes=[unknown])
    notes = []
    if filters and not s.rows[inside].sum():
        scope = " and ".join(f"{d} = {v}" for d, v in filters)
        notes.append(f"the Spend tab has no rows with {scope}, so its spend counts as 0")
    k = int(s.cut[inside].sum())
    if k:
        plural = "s" if k > 1 else ""
        notes.append(
            f"spend was spread by days ({k} monthly budget{plural} or date range{plural} only partly in {p.label})"
        )
    loose = float(s.share[unallocated].sum())
    if loose:
        notes.append(_unallocated_note(loose, " or ".join(d for d, _ in filters), p))
    return SpendIn(float(s.share[inside].sum()), loose, notes)


def breakdown_notes(t: Tables, dimension: str, p: Period, label: str = "CAC") -> list[str]:
    """For a `by <dimension>` of a spend metric: the missing Spend column, or the unallocated spend in P."""
    return breakdown_notes_of(rows_in(t, p, (dimension,)), t.spend_filters, dimension, p, label)


def breakdown_notes_of(s: SpendRows, filters: Filters, dimension: str, p: Period, label: str = "CAC") -> list[str]:
    """The same from the period's spend rows (in memory, or grouped and summed by a warehouse)."""
    if dimension not in s.columns:
        return [
            f"the Spend tab has no '{dimension}' column, so {label} by {dimension} is n/a"
            f" — add a '{dimension}' column to Spend to split spend by {dimension}"
        ]
    inside, _, unknown = _scope(s, filters)
    if unknown:
        return []
    _, blank = _matches(s.values[dimension], "")
    loose = float(s.share[inside & blank].sum())
    if not loose:
        return []
    return [_unallocated_note(loose, dimension, p)]


def _unallocated_note(amount: float, dimensions: str, p: Period) -> str:
    return f"{amount:,.2f} of spend in {p.label} has no {dimensions} in the Spend tab: unallocated, in no segment's CAC"
