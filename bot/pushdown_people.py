"""The pushed-down period metrics that read customers, complaints and spend (issue 18): active customers, new,
growth, retention, churn, complaint and resolution rates, CAC, historical CLV, net CLV and LTV:CAC. The warehouse
counts and sums (`sheets.warehouse.people`, and the orders aggregate of `sheets.warehouse.pushdown`), and the
in-memory metrics' own `*_of` functions finish them, so a warehouse answer equals the in-memory one.
bot/pushdown.py decides when a metric is pushed down and calls `figures_of` with the question's periods (and
`people_notes` for a `by`); bot/pushed_series.py calls it with the summary tab's months as the periods."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from metrics import complaints, purchasing, renewal, retention, value
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period
from metrics.result import MetricResult
from metrics.spend import SpendRows, breakdown_notes_of, spend_of

FLOW: dict[str, Callable[[retention.Flow, Period, MetricOptions], MetricResult]] = {
    "customers": retention.active_customers_of,
    "growth": retention.growth_of,
    "retention": retention.retention_of,
    "churn": retention.churn_of,
}
VALUE = ("cac", "clv", "net-clv", "ltv-cac")
BUYERS = ("lapsed", "returning")
REVENUE = ("nrr", "grr")
PEOPLE = (*FLOW, "new", *BUYERS, *REVENUE, "complaints", "resolution", "renewal", *VALUE)
# The tables each metric of this module reads (bot/pushdown.py adds Customers for any `by`/`where`).
PEOPLE_TABS: dict[str, tuple[str, ...]] = {
    **{name: ("customers", "orders") for name in (*FLOW, "new", *BUYERS, *REVENUE, "clv")},
    "complaints": ("complaints", "orders", "customers"),
    "resolution": ("complaints",),
    "renewal": ("subscriptions",),
    "cac": ("spend", "customers", "orders"),
    "net-clv": ("spend", "customers", "orders"),
    "ltv-cac": ("spend", "customers", "orders"),
}
# The rows each metric counts as left out, by tab (as the in-memory metric sums `t.excluded`).
EXCLUDED = {
    **{name: ("customers", "orders") for name in (*FLOW, "new", "clv")},
    **{name: ("orders",) for name in (*BUYERS, *REVENUE)},
    "complaints": ("complaints", "orders"),
    "resolution": ("complaints",),
    "renewal": ("subscriptions",),
    "cac": ("spend", "customers", "orders"),
    "net-clv": ("orders", "customers", "spend"),
    "ltv-cac": ("orders", "customers", "spend"),
}

Results = dict[str | None, MetricResult]
Scope = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Ask:
    """One question: the warehouse, its periods (the asked one and the one compared with; the summary's months),
    options, scope, split and its segments, and the orders aggregate of the periods when already known."""

    wh: Any
    periods: tuple[Period, ...]
    o: MetricOptions
    scope: Scope
    by: str | None
    segments: list[str]
    orders: Mapping[tuple[int, str | None], Any] | None = None

    @property
    def keys(self) -> list[str | None]:
        return [None, *self.segments]

    def flows(self, windows: list[Period]) -> dict[tuple[int, str | None], retention.Flow]:
        """The customer flow of each window (one per period), whole scope and per segment."""
        from sheets.warehouse.people import FlowStats, flow_stats

        days = [(w.start, w.end) for w in windows]
        stats = flow_stats(self.wh, days, self.o.churn_mode, self.o.churn_after_days, self.scope, self.by)
        mode, after = self.o.churn_mode, self.o.churn_after_days
        out = {}
        for i in range(len(windows)):
            for k in self.keys:
                s = stats.get((i, k), FlowStats())
                out[(i, k)] = retention.Flow(s.start, s.end, s.new, s.retained, s.reactivated, mode, after, s.undated)
        return out

    def baskets(self, windows: list[Period]) -> dict[tuple[int, str | None], Any]:
        """The orders aggregate of each window, whole scope and per segment."""
        from sheets.warehouse.pushdown import BasketStats

        bounds = [(_naive(w.start), _naive(w.end)) for w in windows]
        known = self.orders if list(windows) == list(self.periods) else None
        stats = known if known is not None else self.wh.basket_stats(bounds, self.scope, self.by)
        return {(i, k): stats.get((i, k), BasketStats()) for i in range(len(windows)) for k in self.keys}

    def spend(self, extra: tuple[str, ...] = ()) -> dict[tuple[int, str | None], SpendRows]:
        """The spend rows of each period, grouped by the segment columns the scope and split read."""
        from sheets.warehouse.people import spend_groups

        dims = tuple(d for d, _ in self.scope) + ((self.by,) if self.by else ()) + extra
        g = spend_groups(self.wh, [(p.start, p.end) for p in self.periods], dims)
        values = {d: pd.Series(v, dtype="object") for d, v in g.values.items()}
        rows = np.array(g.rows, dtype=np.int64)
        return {
            (i, None): SpendRows(np.array(g.shares[i], float), np.array(g.cuts[i], np.int64), rows, values, g.columns)
            for i in range(len(self.periods))
        }

    def filters(self, k: str | None) -> Scope:
        """The spend filters of the whole scope (None) or of one segment of `by`."""
        return self.scope if k is None or self.by is None else (*self.scope, (self.by, k))


def figures_of(ask: _Ask, name: str, excluded: Mapping[str, int]) -> list[Results]:
    """The metric over each of the question's periods, in one query per kind of aggregate for all of them (two
    periods of a question, or the summary's months): whole scope under None and each segment under its value."""
    periods, o = ask.periods, ask.o
    rows = sum(int(excluded.get(tab, 0)) for tab in EXCLUDED[name])
    out: list[Results] = [{} for _ in periods]
    if name in BUYERS:
        _buyers(ask, name, rows, out)
    elif name in REVENUE:
        _revenue(ask, name, rows, out)
    elif name in FLOW or name == "new":
        flows = ask.flows(list(periods))
        for (i, k), f in flows.items():
            out[i][k] = flow_result(name, f, rows, periods[i], o)
    elif name == "complaints":
        _complaints(ask, excluded, out)
    elif name == "resolution":
        _resolution(ask, rows, out)
    elif name == "renewal":
        _renewal(ask, rows, out)
    else:
        _value(ask, name, rows, out)
    return out


def _buyers(ask: _Ask, name: str, rows: int, out: list[Results]) -> None:
    """Lapsed share and returning-customer rate, from the customer counts' buyers and purchasers."""
    from sheets.warehouse.people import FlowStats, flow_stats

    days = [(p.start, p.end) for p in ask.periods]
    stats = flow_stats(ask.wh, days, ask.o.churn_mode, ask.o.churn_after_days, ask.scope, ask.by)
    for i, p in enumerate(ask.periods):
        for k in ask.keys:
            s = stats.get((i, k), FlowStats())
            if name == "lapsed":
                out[i][k] = retention.lapsed_of(s.buyers, s.lapsed, rows, p, ask.o)
            else:
                out[i][k] = purchasing.returning_rate_of(s.purchasers, s.returning, rows, p, ask.o)


def flow_result(name: str, f: retention.Flow, rows: int, p: Period, o: MetricOptions) -> MetricResult:
    """New customers, active customers, growth, retention or churn of one period from its customer flow."""
    if name == "new":
        return retention.new_customers_of(f.new, f.undated, rows, p)
    return FLOW[name](replace(f, excluded_rows=rows), p, o)


def _revenue(ask: _Ask, name: str, rows: int, out: list[Results]) -> None:
    """Net and gross revenue retention: each period against the one before it (its comparison period)."""
    from sheets.warehouse.people import RevenueStats, revenue_stats

    pairs = [((p.start, p.end), (q.start, q.end)) for p in ask.periods for q in (comparison_period(p),)]
    stats = revenue_stats(ask.wh, pairs, ask.scope, ask.by)
    for i, p in enumerate(ask.periods):
        for k in ask.keys:
            s = stats.get((i, k), RevenueStats())
            if name == "nrr":
                out[i][k] = retention.nrr_of(s.revenue, s.new_revenue, s.base, s.base_customers, rows, p)
            else:
                out[i][k] = retention.grr_of(s.kept, s.positive_base, s.positive_customers, s.anonymous, rows, p)


def _complaints(ask: _Ask, excluded: Mapping[str, int], out: list[Results]) -> None:
    """Complaint rate: complaints per order, or per customer active on the last day."""
    from sheets.warehouse.people import complaint_counts

    periods, o = ask.periods, ask.o
    counts = complaint_counts(ask.wh, [(_naive(p.start), _naive(p.end)) for p in periods], ask.scope, ask.by)
    rows = int(excluded.get("complaints", 0))
    if o.complaints_denominator == "customers":
        flows = ask.flows(list(periods))
        denominators = {key: f.end for key, f in flows.items()}
        rows += int(excluded.get("customers", 0)) + int(excluded.get("orders", 0))
    else:
        denominators = {key: b.orders for key, b in ask.baskets(list(periods)).items()}
        rows += int(excluded.get("orders", 0))
    for (i, k), n in denominators.items():
        out[i][k] = complaints.complaint_rate_of(counts.get((i, k), 0), n, rows, periods[i], o)


def _resolution(ask: _Ask, rows: int, out: list[Results]) -> None:
    """Resolution rate: resolved complaints among those filed, and the median days to resolve, from the counts."""
    from sheets.warehouse.people import ResolutionStats, resolution_stats

    bounds = [(_naive(p.start), _naive(p.end)) for p in ask.periods]
    stats = resolution_stats(ask.wh, bounds, ask.o.resolved_statuses, ask.scope, ask.by)
    for i, p in enumerate(ask.periods):
        for k in ask.keys:
            s = stats.get((i, k), ResolutionStats())
            out[i][k] = complaints.resolution_of(s.resolved, s.filed, s.days, rows, p, ask.o)


def _renewal(ask: _Ask, rows: int, out: list[Results]) -> None:
    """Renewal rate: contracts ending in the period with a customer, those renewed, and those without a customer."""
    from sheets.warehouse.people import RenewalStats, renewal_stats

    days = [(p.start, p.end) for p in ask.periods]
    stats = renewal_stats(ask.wh, days, ask.o.renewal_grace_days, ask.scope, ask.by)
    for i, p in enumerate(ask.periods):
        for k in ask.keys:
            s = stats.get((i, k), RenewalStats())
            out[i][k] = renewal.renewal_of(s.renewed, s.ending, s.anonymous, rows, p, ask.o)


def _value(ask: _Ask, name: str, rows: int, out: list[Results]) -> None:
    """CAC, CLV, net CLV, LTV:CAC: new customers and spend in the period, the trailing year's orders and churn."""
    periods, o = ask.periods, ask.o
    flows = ask.flows(list(periods))
    spend = ask.spend() if name != "clv" else {}
    years = [value.trailing_year(p) for p in periods]
    baskets = ask.baskets(years) if name != "cac" else {}
    lives = _lifetimes(ask, years) if name != "cac" else {}
    for i, p in enumerate(periods):
        for k in ask.keys:
            spent = spend_of(spend[(i, None)], ask.filters(k), p) if spend else None
            a = value.acquisition_of(flows[(i, k)].new, spent)
            if name == "cac":
                out[i][k] = value.cac_of(a, rows, p)
                continue
            b = baskets[(i, k)]
            c = value.historical_clv_of(value.Basket(b.revenue, b.orders, b.purchasers), lives[(i, k)], p, o)
            if name == "clv":
                out[i][k] = value.clv_of(c, rows, p)
            elif name == "net-clv":
                out[i][k] = value.net_clv_of(c, a, rows, p)
            else:
                out[i][k] = value.ltv_cac_of(c, a, rows, p)


def _lifetimes(ask: _Ask, years: list[Period]) -> dict[tuple[int, str | None], value.Lifetime]:
    """CLV's lifetime for each period (its trailing year in `years`) and segment, as `metrics.value.lifetime_years`:
    configured; 1 / the churn of the trailing year's customer flow; or the restricted mean of the survival curve as of
    the period's last day (from the warehouse's per-customer days), falling back to 1 / churn without churn events."""
    o, keys = ask.o, [(i, k) for i in range(len(years)) for k in ask.keys]
    if o.clv_lifetime_years not in (None, "survival"):
        return dict.fromkeys(keys, value.Lifetime(float(o.clv_lifetime_years), "configured"))
    churn: dict[tuple[int, str | None], retention.Flow] = {}

    def by_churn(key: tuple[int, str | None]) -> value.Lifetime:
        if not churn:  # one query for every period and segment, only when one needs it
            churn.update(ask.flows(years))
        return value.lifetime_of(churn[key], years[key[0]], o)

    if o.clv_lifetime_years is None:
        return {key: by_churn(key) for key in keys}
    from bot.pushed_days import survival_years

    curves = survival_years(ask.wh, [p.last_day for p in ask.periods], o, ask.scope, ask.by)  # one query
    return {key: value.survival_lifetime_of(curves[key[0]].get(key[1]), partial(by_churn, key), o) for key in keys}


def people_notes(wh: Any, name: str, period: Period, scope: Scope, by: str, label: str) -> list[str]:
    """For a `by` of a metric that reads spend: the missing Spend column, or the spend in P no segment owns."""
    if "spend" not in PEOPLE_TABS.get(name, ()):
        return []
    from sheets.warehouse.people import spend_groups

    g = spend_groups(wh, [(period.start, period.end)], (*(d for d, _ in scope), by))
    values = {d: pd.Series(v, dtype="object") for d, v in g.values.items()}
    rows = SpendRows(np.array(g.shares[0], float), np.array(g.cuts[0], np.int64), np.array(g.rows), values, g.columns)
    return breakdown_notes_of(rows, scope, by, period, label)


def _naive(d: Any) -> datetime:
    """A period bound (a date) as the naive datetime at midnight the tables hold."""
    return datetime(d.year, d.month, d.day)
