"""Retention family: retention, churn, growth, new and active customers, lapsed share, NRR and GRR.

S = customers active on the first day of P, E = active on its last day (metrics.customers decides
"active"). Revenue is Σ Orders.amount net of refunds; rows with a blank amount add nothing.
GRR takes "customers with revenue in the comparison period" to be those with a positive net amount
there, divides by their revenue, and counts a customer's current revenue as at least 0 and at most
its comparison revenue, so GRR stays within [0, 100]; rows without a customer_id cannot be
retained and are left out of GRR (reported in details).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.customers import (
    NEVER,
    active_mask,
    amounts,
    customer_state,
    day_number,
    distinct,
    last_order_before,
    new_mask,
    resolve_mode,
    undated_count,
    undated_note_of,
)
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period
from metrics.result import MetricResult
from metrics.stats import percent, proportion_result
from metrics.tables import Tables


@dataclass(frozen=True)
class Flow:
    """Customer counts between the first and last day of a period."""

    start: int
    end: int
    new: int
    retained: int
    reactivated: int
    mode: str
    after_days: int
    undated: int = 0
    excluded_rows: int = 0

    @property
    def lost(self) -> int:
        return self.start - self.retained

    def details(self) -> dict[str, int | str]:
        out: dict[str, int | str] = {
            "start_customers": self.start,
            "end_customers": self.end,
            "new_customers": self.new,
            "retained": self.retained,
            "lost": self.lost,
            "reactivated": self.reactivated,
            "churn_mode": self.mode,
        }
        if self.mode == "inactivity":
            out["after_days"] = self.after_days
        return out


def customer_flow(t: Tables, p: Period, o: MetricOptions) -> Flow:
    """|S|, |E|, |N|, |S ∩ E| and reactivated (in E, not in S, signed up before P) for period P."""
    s, e = active_mask(t, p.start, o), active_mask(t, p.last_day, o)
    before = customer_state(t).signup < day_number(p.start)
    return Flow(
        start=int(s.sum()),
        end=int(e.sum()),
        new=int(new_mask(t, p).sum()),
        retained=int((s & e).sum()),
        reactivated=int((e & ~s & before).sum()),
        mode=resolve_mode(t, o),
        after_days=o.churn_after_days,
        undated=undated_count(t),
        excluded_rows=_excluded(t, "customers", "orders"),
    )


def _excluded(t: Tables, *tabs: str) -> int:
    return sum(int(t.excluded.get(tab, 0)) for tab in tabs)


def _no_start_note(f: Flow) -> list[str]:
    return [] if f.start else ["no active customers on the first day of the period"]


def retention(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Customer retention rate = |S ∩ E| / |S| × 100."""
    return retention_of(customer_flow(t, p, o), p, o)


def retention_of(f: Flow, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a period's customer flow (counted in memory, or by a warehouse)."""
    return proportion_result(
        "retention",
        "Customer retention",
        p,
        f.retained,
        f.start,
        min_n=o.min_n,
        excluded_rows=f.excluded_rows,
        details=f.details(),
        notes=_no_start_note(f) + undated_note_of(f.undated),
    )


def churn(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Churn rate = |S \\ E| / |S| × 100, reported as exactly 100 − retention."""
    return churn_of(customer_flow(t, p, o), p, o)


def churn_of(f: Flow, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a period's customer flow (counted in memory, or by a warehouse)."""
    r = proportion_result(
        "churn",
        "Customer churn",
        p,
        f.lost,
        f.start,
        min_n=o.min_n,
        excluded_rows=f.excluded_rows,
        details=f.details(),
        notes=_no_start_note(f) + undated_note_of(f.undated),
    )
    r.value = None if f.start == 0 else 100.0 - 100.0 * f.retained / f.start
    return r


def growth(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Customer-base growth = (|E| − |S|) / |S| × 100 (a change, not a proportion: no interval)."""
    return growth_of(customer_flow(t, p, o), p, o)


def growth_of(f: Flow, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a period's customer flow (counted in memory, or by a warehouse)."""
    return MetricResult(
        metric="growth",
        label="Customer-base growth",
        unit="percent",
        period=p,
        value=percent(f.end - f.start, f.start),
        n=f.start,
        numerator=f.end - f.start,
        denominator=f.start,
        excluded_rows=f.excluded_rows,
        details=f.details(),
        notes=_no_start_note(f) + undated_note_of(f.undated),
    )


def new_customers(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """N(P): customers whose signup falls in P."""
    return new_customers_of(int(new_mask(t, p).sum()), undated_count(t), _excluded(t, "customers", "orders"), p)


def new_customers_of(n: int, undated: int, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the count of new and of undated customers (counted in memory, or by a warehouse)."""
    return MetricResult(
        metric="new",
        label="New customers",
        unit="count",
        period=p,
        value=float(n),
        n=n,
        excluded_rows=excluded_rows,
        details={"new_customers": n},
        notes=undated_note_of(undated),
    )


def active_customers(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """|E|: customers active on the last day of P."""
    return active_customers_of(customer_flow(t, p, o), p, o)


def active_customers_of(f: Flow, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a period's customer flow (counted in memory, or by a warehouse)."""
    return MetricResult(
        metric="customers",
        label="Active customers",
        unit="count",
        period=p,
        value=float(f.end),
        n=f.end,
        excluded_rows=f.excluded_rows,
        details=f.details(),
        notes=undated_note_of(f.undated),
    )


def lapsed(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Lapsed share: buyers (≥ 1 order before end) whose last order is more than after_days before end."""
    state, end = customer_state(t), day_number(p.end)
    last = last_order_before(state, end)
    buyers = last != -NEVER
    gone = buyers & (end - last > o.churn_after_days)
    return lapsed_of(int(buyers.sum()), int(gone.sum()), _excluded(t, "orders"), p, o)


def lapsed_of(buyers: int, gone: int, excluded_rows: int, p: Period, o: MetricOptions) -> MetricResult:
    """The same from the counts of buyers and of lapsed buyers (counted in memory, or by a warehouse)."""
    return proportion_result(
        "lapsed",
        "Lapsed customers",
        p,
        gone,
        buyers,
        min_n=o.min_n,
        excluded_rows=excluded_rows,
        details={"buyers": buyers, "lapsed": gone, "after_days": o.churn_after_days},
        notes=[] if buyers else ["no customer has an order before the end of the period"],
    )


def _in(t: Tables, p: Period) -> np.ndarray:
    day = customer_state(t).row_day
    return (day >= day_number(p.start)) & (day < day_number(p.end))


def _revenue_by_customer(t: Tables, rows: np.ndarray) -> np.ndarray:
    state = customer_state(t)
    keep = rows & (state.row_code >= 0)
    return np.bincount(state.row_code[keep], weights=_amount(t)[keep], minlength=len(state.ids))


def _rows_of(t: Tables, customers: np.ndarray) -> np.ndarray:
    """Per Orders row: whether its customer is flagged in `customers` (False for rows without one)."""
    code = customer_state(t).row_code
    out = np.zeros(len(code), dtype=bool)
    known = code >= 0
    out[known] = customers[code[known]]
    return out


def _amount(t: Tables) -> np.ndarray:
    amount: np.ndarray = np.nan_to_num(amounts(t), nan=0.0)
    return amount


def nrr(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Net revenue retention = (revenue in P − revenue in P from customers new in P) / revenue in the prior period."""
    q = comparison_period(p)
    state, amount = customer_state(t), _amount(t)
    now, before = _in(t, p), _in(t, q)
    from_new = now & _rows_of(t, new_mask(t, p))
    revenue, new_revenue, base = float(amount[now].sum()), float(amount[from_new].sum()), float(amount[before].sum())
    n = distinct(state.row_code[before & (state.row_code >= 0)], len(state.ids)).size
    return nrr_of(revenue, new_revenue, base, n, _excluded(t, "orders"), p)


def nrr_of(revenue: float, new_revenue: float, base: float, n: int, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the revenue sums (in memory, or by a warehouse); `n` counts the comparison period's customers."""
    q = comparison_period(p)
    notes = [] if base > 0 else [f"no revenue in the comparison period ({q.label})"]
    return MetricResult(
        metric="nrr",
        label="Net revenue retention",
        unit="percent",
        period=p,
        value=100 * (revenue - new_revenue) / base if base > 0 else None,
        n=n,
        numerator=revenue - new_revenue,
        denominator=base,
        excluded_rows=excluded_rows,
        details={
            "revenue": revenue,
            "revenue_from_new": new_revenue,
            "comparison_revenue": base,
            "comparison_period": q.label,
        },
        notes=notes,
    )


def grr(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Gross revenue retention = Σ min(revenue in P, revenue in comparison) / revenue in comparison, per customer."""
    q = comparison_period(p)
    now, before = _in(t, p), _in(t, q)
    cur, prev = _revenue_by_customer(t, now), _revenue_by_customer(t, before)
    base_customers = prev > 0
    kept = float(np.minimum(np.maximum(cur, 0), prev)[base_customers].sum())
    base = float(prev[base_customers].sum())
    anonymous = float(_amount(t)[before & (customer_state(t).row_code < 0)].sum())
    return grr_of(kept, base, int(base_customers.sum()), anonymous, _excluded(t, "orders"), p)


def grr_of(kept: float, base: float, n: int, anonymous: float, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the revenue sums (in memory, or by a warehouse); `n` counts the customers with revenue in the
    comparison period, `anonymous` its revenue without a customer."""
    q = comparison_period(p)
    notes = [] if base > 0 else [f"no customer revenue in the comparison period ({q.label})"]
    return MetricResult(
        metric="grr",
        label="Gross revenue retention",
        unit="percent",
        period=p,
        value=100 * kept / base if base > 0 else None,
        n=n,
        numerator=kept,
        denominator=base,
        excluded_rows=excluded_rows,
        details={
            "retained_revenue": kept,
            "comparison_revenue": base,
            "comparison_period": q.label,
            "comparison_revenue_without_customer": anonymous,
        },
        notes=notes,
    )
