"""Compute any registered metric with its comparison period, target status, `where` filters and `by` breakdown."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from metrics import stats
from metrics.customers import per_tables
from metrics.errors import BadCommand
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period
from metrics.registry import METRICS, MetricSpec
from metrics.result import Comparison, MetricResult, SegmentValue, TargetStatus
from metrics.spend import breakdown_notes as spend_breakdown_notes
from metrics.tables import Tables

SIGNIFICANCE_LEVEL = 0.05
# Kinds whose values have a known sampling noise, hence an interval, a significance test and a small-sample flag.
NOISY = ("proportion", "nps")


class MetricError(BadCommand):
    """A request the data cannot answer (unknown metric or dimension), with a suggestion."""


def compute(
    name: str,
    t: Tables,
    period: Period,
    o: MetricOptions,
    *,
    by: str | None = None,
    where: Mapping[str, str] | None = None,
    compare_to: Period | None = None,
) -> MetricResult:
    """`name` over `period`, compared with `compare_to` (default: the preceding period of the same kind)."""
    spec = spec_for(name)
    o = resolve_options(t, o)
    where = dict(where or {})
    scoped = filter_where(t, where)
    before = compare_to or comparison_period(period)
    result = evaluate(spec, scoped, period, o)
    previous = evaluate(spec, scoped, before, o)
    result.previous = compare(spec, result, previous)
    result.target = target_status(spec, result.value, o.targets)
    result.where = where
    if by:
        result.by = check_dimension(t, by)
        gap = what_to_add(spec, t) is not None
        result.breakdown = [] if gap else breakdown(spec, scoped, period, before, o, result.by)
        if "spend" in spec.tabs and "spend" not in t.missing:
            result.notes.extend(spend_breakdown_notes(scoped, result.by, period, result.label))
    return result


def evaluate(spec: MetricSpec, t: Tables, period: Period, o: MetricOptions) -> MetricResult:
    """The metric over one period, named and labelled as the catalogue says; undefined (None, one note saying what
    to add) when a tab it cannot do without is missing or lacks a required column — never the 0 an empty frame
    would give."""
    result = replace(spec.fn(t, period, o), metric=spec.name, label=spec.label, unit=spec.unit or "count")
    gap = what_to_add(spec, t)
    if gap is None:
        return result
    return replace(result, value=None, n=None, numerator=None, denominator=None, interval=None, details={}, notes=[gap])


def what_to_add(spec: MetricSpec, t: Tables) -> str | None:
    """ "add an Orders tab with customer_id, order_date, amount" when a needed tab is unusable, else None."""
    fixes = []
    for need in spec.required:
        tabs = need.split("|")
        if all(tab in t.missing for tab in tabs):
            fixes.append(" or ".join(t.fixes.get(tab, f"add a {tab} tab") for tab in tabs))
    return "; ".join(fixes) or None


def resolve_options(t: Tables, o: MetricOptions) -> MetricOptions:
    """Fix `auto` churn mode on the whole workbook, so a segment without churn dates keeps the same rule."""
    if o.churn_mode != "auto":
        return o
    from metrics.customers import resolve_mode

    return replace(o, churn_mode=resolve_mode(t, o))


def spec_for(name: str) -> MetricSpec:
    if name not in METRICS:
        close = difflib.get_close_matches(name, METRICS, n=1)
        raise MetricError(f"unknown metric '{name}'", close[0] if close else None)
    return METRICS[name]


def check_dimension(t: Tables, dimension: str) -> str:
    """The dimension as named in the data (case-insensitive), or a MetricError listing the choices."""
    by_lower = {d.lower(): d for d in t.dimensions}
    key = dimension.strip().lower().replace(" ", "_")
    if key in by_lower:
        return by_lower[key]
    close = difflib.get_close_matches(key, list(by_lower), n=1)
    choices = ", ".join(t.dimensions) or "none — add columns such as region or plan to Customers"
    raise MetricError(
        f"unknown dimension '{dimension}'; the Customers tab has: {choices}",
        by_lower[close[0]] if close else None,
    )


def filter_where(t: Tables, where: Mapping[str, str]) -> Tables:
    """Keep only customers whose dimensions match every `dimension=value` (case-insensitive)."""
    for dimension, value in where.items():
        t = segment_tables(t, check_dimension(t, dimension), _match_value(t, check_dimension(t, dimension), value))
    return t


def _match_value(t: Tables, dimension: str, value: str) -> str:
    return match_value(dimension_values(t, dimension).unique(), dimension, value)


def match_value(values: Iterable[object], dimension: str, value: str) -> str:
    """The value of `dimension` as the data spells it (case-insensitive match), or a MetricError listing some."""
    values = list(values)
    for v in values:
        if str(v).lower() == value.strip().lower():
            return str(v)
    close = difflib.get_close_matches(value, [str(v) for v in values], n=1)
    raise MetricError(
        f"no customers with {dimension} = '{value}'; values: {', '.join(sorted(map(str, values))[:12])}",
        close[0] if close else None,
    )


def segment_tables(t: Tables, dimension: str, value: str) -> Tables:
    """Tables for the customers in one segment. The segment is recorded for spend, which metrics.spend splits
    only by a same-named Spend column (spend by channel for CAC by channel), never by dividing the total.

    Built once per Tables object and segment, and kept while `t` lives: every later `by`/`where` on the same
    snapshot reuses the segment and the arrays its metrics built (customer state, order book), and a reload
    releases them with the old snapshot."""
    return per_tables(t, f"segment\0{dimension}\0{value}", lambda t: _segment(t, dimension, value))


def _segment(t: Tables, dimension: str, value: str) -> Tables:
    """The rows of the segment's customers, chosen by integer customer code (the same rows as by string id)."""
    dims = dimension_values(t, dimension)
    codes = customer_codes(t)
    member = np.zeros(len(codes.ids) + 1, dtype=bool)  # the extra last slot is code -1: no customer
    member[codes.ids.get_indexer(dims.index[dims == value])] = True
    rows = {tab: t.frame(tab)[member[codes.rows[tab]]] for tab in SEGMENTED_TABS}
    scoped = replace(
        t,
        customers=rows["customers"],
        orders=rows["orders"],
        responses=rows["responses"],
        complaints=rows["complaints"],
        subscriptions=rows["subscriptions"],
    )
    return replace(scoped, spend_filters=(*t.spend_filters, (dimension, value)))


SEGMENTED_TABS = ("customers", "orders", "responses", "complaints", "subscriptions")


@dataclass(frozen=True)
class CustomerCodes:
    """One integer code per customer id (`ids`: code → id) and, per customer-keyed tab, each row's code
    (-1 where the row has no customer or one outside `ids`)."""

    ids: pd.Index
    rows: dict[str, np.ndarray]


def customer_codes(t: Tables) -> CustomerCodes:
    """The integer customer codes of `t`, shared by every segment of it; built once per Tables object."""

    def build(t: Tables) -> CustomerCodes:
        ids = pd.Index(t.customer_ids())
        rows = {}
        for tab in SEGMENTED_TABS:
            column = t.frame(tab)["customer_id"]
            codes = np.asarray(ids.get_indexer(column), dtype=np.int64)
            codes[column.isna().to_numpy()] = -1
            rows[tab] = codes
        return CustomerCodes(ids, rows)

    return per_tables(t, "customer_codes", build)


def dimension_values(t: Tables, dimension: str) -> pd.Series:
    """`t.dimension_of(dimension)`, built once per Tables object."""
    return per_tables(t, f"dimension\0{dimension}", lambda t: t.dimension_of(dimension))


def breakdown(
    spec: MetricSpec, t: Tables, period: Period, previous: Period, o: MetricOptions, dimension: str
) -> list[SegmentValue]:
    """The metric per segment value, largest segments first, each with its interval, change, whether the
    change beats the noise (the headline's test) and a small-sample flag below `o.min_n`."""
    rows = []
    for value in dimension_values(t, dimension).unique():
        part = segment_tables(t, dimension, str(value))
        now, before = evaluate(spec, part, period, o), evaluate(spec, part, previous, o)
        rows.append(segment_value(spec, str(value), now, before, o))
    return sorted(rows, key=lambda r: (-r.n, r.segment))


def segment_value(
    spec: MetricSpec, segment: str, now: MetricResult, before: MetricResult, o: MetricOptions
) -> SegmentValue:
    """One row of a breakdown from the segment's result in the period and in the comparison period."""
    c = compare(spec, now, before)
    return SegmentValue(
        segment=segment,
        value=now.value,
        n=int(now.n or 0),
        numerator=now.numerator,
        denominator=now.denominator,
        previous=before.value,
        change=c.change,
        interval=now.interval,
        significant=c.significant,
        p_value=c.p_value,
        small_sample=spec.kind in NOISY and stats.small_sample_note(now.n, o.min_n) is not None,
    )


def compare(spec: MetricSpec, now: MetricResult, before: MetricResult) -> Comparison:
    """The comparison with the previous period; significance only where the noise is known."""
    p_value: float | None = None
    significant: bool | None = None
    if (
        spec.kind == "proportion"
        and now.numerator is not None
        and before.numerator is not None
        and now.denominator
        and before.denominator
    ):
        p_value = stats.two_proportion_test(now.numerator, now.denominator, before.numerator, before.denominator)
        significant = None if p_value is None else p_value < SIGNIFICANCE_LEVEL
    elif spec.kind == "nps" and now.details.get("n") and before.details.get("n"):
        significant = stats.nps_change_significant(_pdn(now), _pdn(before))
    return Comparison(
        period=before.period,
        value=before.value,
        change=_change(now.value, before.value),
        significant=significant,
        p_value=p_value,
    )


def _pdn(r: MetricResult) -> tuple[int, int, int]:
    return int(r.details["promoters"]), int(r.details["detractors"]), int(r.details["n"])


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    return float(now) - float(before)


def target_status(spec: MetricSpec, value: float | None, targets: Mapping[str, float]) -> TargetStatus | None:
    """Met or missed against `targets[metric]`, with direction from the spec."""
    target = targets.get(spec.name)
    if target is None or value is None:
        return None
    met = value <= target if spec.lower_is_better else value >= target
    return TargetStatus(
        target=float(target),
        direction="lower" if spec.lower_is_better else "higher",
        met=bool(met),
        distance=float(value) - float(target),
    )
