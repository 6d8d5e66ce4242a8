"""The analyses behind `why` and `forecast`, pure: tables in, results out — a metric's change split by segment,
its monthly correlations with retention, and its monthly series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from metrics.decompose import Correlation, Decomposition, mix_rate, spearman_table
from metrics.engine import evaluate, segment_tables, spec_for
from metrics.options import MetricOptions
from metrics.periods import Period, month_periods
from metrics.result import MetricResult
from metrics.schema import DATED
from metrics.tables import Tables

ADDITIVE = {"revenue", "orders", "purchasers", "customers", "new"}
# Values that are a ratio with a per-segment denominator (growth: |S|, AOV: orders, frequency: purchasers).
RATIOS = {"growth", "aov", "frequency"}
CORRELATED = ("nps", "csat", "complaints", "repeat")


def _weight(name: str, r: MetricResult) -> float | None:
    """How much a segment counts in the overall value: the rate's denominator, or NPS's n."""
    if name in ADDITIVE:
        return 1.0
    if r.denominator:
        return float(r.denominator)
    if r.details.get("n"):
        return float(r.details["n"])
    return None


def decompose(name: str, t: Tables, now: Period, before: Period, o: MetricOptions, dimension: str) -> Decomposition:
    """Split the change of `name` between `before` and `now` by the segments of `dimension`.

    Totals (revenue, orders…) are the sum of their segments: every segment weighs 1/k with its value scaled
    by k, so the parts are each segment's own change and the displayed values stay unscaled."""
    spec = spec_for(name)
    segments = []
    for value in t.dimension_of(dimension).unique():
        part = segment_tables(t, dimension, str(value))
        segments.append((str(value), spec.fn(part, now, o), spec.fn(part, before, o)))
    return decomposition_of(name, spec.fn(t, now, o), spec.fn(t, before, o), segments)


def decomposition_of(
    name: str,
    overall_now: MetricResult,
    overall_before: MetricResult,
    segments: Sequence[tuple[str, MetricResult, MetricResult]],
) -> Decomposition:
    """`decompose` from the results themselves — overall and (segment, now, before) for each segment — computed in
    memory or from a warehouse's aggregates (bot.analyses.what_moved_line on a pushed-down source)."""
    rows_now = [(segment, _weight(name, a) or 0.0, a.value) for segment, a, _ in segments]
    rows_before = [(segment, _weight(name, b) or 0.0, b.value) for segment, _, b in segments]
    cols = ["segment", "weight", "value"]
    after_frame, before_frame = pd.DataFrame(rows_now, columns=cols), pd.DataFrame(rows_before, columns=cols)
    if name not in ADDITIVE:
        return mix_rate(before_frame, after_frame, total_before=overall_before.value, total_after=overall_now.value)
    k = len(rows_now)
    after_frame["value"] = after_frame["value"].astype(float) * k
    before_frame["value"] = before_frame["value"].astype(float) * k
    d = mix_rate(before_frame, after_frame, total_before=overall_before.value, total_after=overall_now.value)
    d.parts = [
        replace(p, value_before=_unscale(p.value_before, k), value_after=_unscale(p.value_after, k)) for p in d.parts
    ]
    return d


def _unscale(v: float | None, k: int) -> float | None:
    return None if v is None else v / k


def best_dimension(
    name: str, t: Tables, now: Period, before: Period, o: MetricOptions, dims: list[str]
) -> tuple[str, Decomposition]:
    """The dimension that explains the change best, with its decomposition (see `concentration`)."""
    return most_concentrated([(d, decompose(name, t, now, before, o, d)) for d in dims])


def most_concentrated(options: Sequence[tuple[str, Decomposition]]) -> tuple[str, Decomposition]:
    """The (dimension, decomposition) whose change is most concentrated in one segment (the first on a tie)."""
    return max(options, key=lambda x: concentration(x[1]))


def concentration(d: Decomposition) -> float:
    """How far one segment's part strays from its weight's share of the change: max |Δᵢ − w̄ᵢ·ΣΔ|.

    When every segment moves alike, each part is about its weight's share and the dimension explains nothing;
    a segment that moved on its own (South's NPS dropping) stands out however small it is."""
    explained = sum(p.total for p in d.parts)
    return max((abs(p.total - (p.weight_before + p.weight_after) / 2 * explained) for p in d.parts), default=0.0)


def correlations(t: Tables, months: list[Period], o: MetricOptions, dimension: str | None) -> list[Correlation]:
    """Spearman correlation of retention with NPS, CSAT, complaint and repeat rates over months × segments; a metric
    whose tab is missing is n/a in every month (`evaluate`), so it has no pair to correlate, never a rate of 0."""
    groups = [("all", t)]
    if dimension:
        groups = [(str(v), segment_tables(t, dimension, str(v))) for v in t.dimension_of(dimension).unique()]
    rows = []
    for _, part in groups:
        for p in months:
            rows.append({m: evaluate(spec_for(m), part, p, o).value for m in ("retention", *CORRELATED)})
    return correlation_table(rows)


def correlation_table(rows: Sequence[Mapping[str, float | None]]) -> list[Correlation]:
    """`correlations` from the values of retention and each CORRELATED metric, one row per month × segment, computed
    in memory or from a warehouse's aggregates (bot.analyses on a pushed-down source); None is a missing value."""
    return spearman_table(
        pd.DataFrame(list(rows), columns=["retention", *CORRELATED], dtype=float), "retention", list(CORRELATED)
    )


def trailing_months(end: date, count: int) -> list[Period]:
    """The last `count` full calendar months that end on or before `end` (oldest first)."""
    last = end - timedelta(days=1)
    first = date(last.year - (count // 12 + 1), last.month, 1)
    return [m for m in month_periods(first, last) if m.end <= end][-count:]


def monthly_series(name: str, t: Tables, today: date, o: MetricOptions, months: int = 24) -> pd.Series:
    """The metric for each of the last `months` full calendar months that the data fully covers, indexed YYYY-MM.

    Months before the first dated row of the metric's tabs (and the partial month it falls in) are left out, so
    a total such as revenue does not count empty months as zeros."""
    spec = spec_for(name)
    periods = series_months(first_data_day(t, spec.tabs), today, months)
    return month_series(periods, [spec.fn(t, p, o).value for p in periods])


def series_months(first: date | None, today: date, months: int = 24) -> list[Period]:
    """The months of `monthly_series`: the last `months` full calendar months before `today` that start on or after
    `first`, the first dated row (none without one)."""
    if first is None:
        return []
    return [p for p in trailing_months(today.replace(day=1), months) if p.start >= first]


def month_series(periods: list[Period], values: list[float | None]) -> pd.Series:
    """Each month's value indexed YYYY-MM (NaN for n/a), as `metrics.forecast.forecast_series` reads a series."""
    return pd.Series({p.start.strftime("%Y-%m"): v for p, v in zip(periods, values, strict=True)}, dtype=float)


def first_data_day(t: Tables, tabs: tuple[str, ...]) -> date | None:
    """The earliest date in the dated columns of `tabs` (signups, orders, answers, complaints, spend, contracts)."""
    found = []
    for tab in tabs:
        frame = t.frame(tab)
        column = DATED.get(tab)
        if column in frame and len(frame):
            first = frame[column].dropna().min()
            if pd.notna(first):
                found.append(pd.Timestamp(first).date())
    return min(found) if found else None
