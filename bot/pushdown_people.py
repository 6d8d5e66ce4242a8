"""The pushed-down metrics that read customers (issue 18): active customers, new, growth, retention and churn from
`sheets.warehouse.people.flow_stats`, finished by metrics.retention's own `*_of` functions, so a warehouse answer
equals the in-memory one. bot/pushdown.py decides when a metric is pushed down and calls `people_figures`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from metrics import retention
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult

FLOW: dict[str, Callable[[retention.Flow, Period, MetricOptions], MetricResult]] = {
    "customers": retention.active_customers_of,
    "growth": retention.growth_of,
    "retention": retention.retention_of,
    "churn": retention.churn_of,
}
PEOPLE = (*FLOW, "new")
# The tables each metric of this module reads.
PEOPLE_TABS = {name: ("customers", "orders") for name in PEOPLE}

Results = dict[str | None, MetricResult]


def people_figures(
    wh: Any,
    name: str,
    periods: tuple[Period, Period],
    o: MetricOptions,
    scope: tuple[tuple[str, str], ...],
    by: str | None,
    segments: list[str],
    excluded: Mapping[str, int],
) -> tuple[Results, Results]:
    """The metric over each period (one query for both), whole scope under None and each segment under its value;
    `o.churn_mode` is already resolved on the whole source (explicit or inactivity)."""
    from sheets.warehouse.people import FlowStats, flow_stats

    days = [(p.start, p.end) for p in periods]
    stats = flow_stats(wh, days, o.churn_mode, o.churn_after_days, scope, by)
    rows = sum(int(excluded.get(tab, 0)) for tab in ("customers", "orders"))
    out: list[Results] = [{}, {}]
    for i, p in enumerate(periods):
        for k in [None, *segments]:
            s = stats.get((i, k), FlowStats())
            if name == "new":
                out[i][k] = retention.new_customers_of(s.new, s.undated, rows, p)
                continue
            flow = retention.Flow(
                s.start, s.end, s.new, s.retained, s.reactivated, o.churn_mode, o.churn_after_days, s.undated, rows
            )
            out[i][k] = FLOW[name](flow, p, o)
    return out[0], out[1]
