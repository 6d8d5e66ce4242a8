"""Acquisition and value: CAC, historical CLV, net CLV and LTV:CAC (METRICS.md "Acquisition and value").

- CAC = spend in P / new customers in P (metrics.customers.new_ids); undefined without new customers.
  Spend in P is spread by days and split by segment as metrics.spend says.
- Historical CLV = AOV × purchases per customer per year × lifetime (years) × clv.gross_margin.
  AOV and purchases per customer come from the trailing 12 months ending at P's end, with the
  definitions of metrics.purchasing (net revenue / distinct non-refund order_ids; orders /
  distinct purchasers). Lifetime: `clv_lifetime_years` when it is a number (used as given); with
  "survival" the restricted mean lifetime of the Kaplan–Meier curve as of P's last day; otherwise
  1 / the churn rate over the same 12 months (S on its first day, E on P's last day). Derived
  lifetimes are capped at `clv_max_lifetime_years`; no churn at all gives the cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metrics.customers import new_mask
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult
from metrics.retention import Flow, customer_flow
from metrics.spend import SpendIn, spend_in
from metrics.survival import restricted_mean_lifetime_years
from metrics.tables import Tables

HEALTHY_LTV_CAC = 3.0


def trailing_year(p: Period) -> Period:
    """The 12 months ending at P's end (same day of month, clipped at month end)."""
    start = (pd.Timestamp(p.end) - pd.DateOffset(months=12)).date()
    return Period(start, p.end, f"12 months to {p.last_day.isoformat()}", "range")


def _excluded(t: Tables, *tabs: str) -> int:
    return sum(int(t.excluded.get(tab, 0)) for tab in tabs)


@dataclass(frozen=True)
class Acquisition:
    """Spend and new customers in P; `cac` is None when undefined, with the reason in `notes`."""

    spend: float | None
    new: int
    cac: float | None
    notes: list[str] = field(default_factory=list)


def acquisition(t: Tables, p: Period) -> Acquisition:
    """Spend and new customers of the tables in P."""
    return acquisition_of(int(new_mask(t, p).sum()), None if "spend" in t.missing else spend_in(t, p))


def acquisition_of(new: int, s: SpendIn | None) -> Acquisition:
    """The same from the count of new customers and the spend in P (None: no usable Spend tab)."""
    if s is None:
        return Acquisition(0.0, new, None, ["add a Spend tab with date and amount to compute CAC"])
    if s.amount is None:
        return Acquisition(None, new, None, s.notes)
    if new == 0:
        return Acquisition(s.amount, new, None, ["no new customers in the period", *s.notes])
    return Acquisition(s.amount, new, s.amount / new, s.notes)


def cac(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Customer acquisition cost = spend in P / new customers in P."""
    return cac_of(acquisition(t, p), _excluded(t, "spend", "customers", "orders"), p)


def cac_of(a: Acquisition, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the period's acquisition figures (in memory, or summed by a warehouse)."""
    return MetricResult(
        metric="cac",
        label="Customer acquisition cost",
        unit="money",
        period=p,
        value=a.cac,
        n=a.new,
        numerator=a.spend,
        denominator=a.new,
        excluded_rows=excluded_rows,
        details={"spend": a.spend, "new_customers": a.new},
        notes=list(a.notes),
    )


@dataclass(frozen=True)
class Basket:
    """Net revenue, distinct non-refund orders and purchasers over a window."""

    revenue: float
    orders: int
    purchasers: int


def window_basket(t: Tables, w: Period) -> Basket:
    """Revenue, orders and purchasers in `w`, exactly as metrics.purchasing counts them (its cached basket)."""
    from metrics.purchasing import basket

    b = basket(t, w)
    return Basket(revenue=b.revenue, orders=b.orders, purchasers=b.purchasers)


@dataclass(frozen=True)
class Lifetime:
    """Expected lifetime in years (None when it cannot be estimated), where it came from and why."""

    years: float | None
    source: str
    annual_churn: float | None = None
    capped: bool = False
    notes: list[str] = field(default_factory=list)


def _lifetime_from_churn(t: Tables, p: Period, o: MetricOptions, w: Period) -> Lifetime:
    return lifetime_of(customer_flow(t, w, o), w, o)


def lifetime_of(flow: Flow, w: Period, o: MetricOptions) -> Lifetime:
    """Lifetime = 1 / the churn rate of the customer flow over window `w` (12 months), capped."""
    cap = float(o.clv_max_lifetime_years)
    if flow.start == 0:
        return Lifetime(
            None,
            "churn",
            notes=[f"no active customers on {w.start.isoformat()}, so no annual churn rate: set clv.lifetime_years"],
        )
    churn = flow.lost / flow.start
    if churn == 0:
        return Lifetime(cap, "churn", 0.0, True, [f"no churn over {w.label}: lifetime capped at {cap:g} years"])
    return Lifetime(min(1 / churn, cap), "churn", 100 * churn, 1 / churn > cap)


def _lifetime_from_survival(t: Tables, p: Period, o: MetricOptions, w: Period) -> Lifetime:
    years = restricted_mean_lifetime_years(t, p.last_day, o)
    return survival_lifetime_of(years, lambda: _lifetime_from_churn(t, p, o, w), o)


def survival_lifetime_of(years: float | None, churn: Callable[[], Lifetime], o: MetricOptions) -> Lifetime:
    """The lifetime from the survival curve's restricted mean (`years`, in memory or from a warehouse's days), capped;
    without churn events (None), `churn()`'s 1 / annual churn with a note saying so — computed only then."""
    if years is None:
        fallback = churn()
        reason = "no churn events for a survival curve"
        return Lifetime(
            fallback.years,
            fallback.source,
            fallback.annual_churn,
            fallback.capped,
            [f"{reason}: lifetime from 1 / annual churn instead", *fallback.notes],
        )
    cap = float(o.clv_max_lifetime_years)
    return Lifetime(min(years, cap), "survival", capped=years > cap)


def lifetime_years(t: Tables, p: Period, o: MetricOptions) -> Lifetime:
    """Expected customer lifetime for CLV, from config, the survival curve or 1 / annual churn."""
    w = trailing_year(p)
    setting = o.clv_lifetime_years
    if setting == "survival":
        return _lifetime_from_survival(t, p, o, w)
    if setting is not None:
        return Lifetime(float(setting), "configured")
    return _lifetime_from_churn(t, p, o, w)


@dataclass(frozen=True)
class Clv:
    """Historical CLV with its factors (details) and reasons when it is undefined (notes)."""

    value: float | None
    purchasers: int
    details: dict[str, Any]
    notes: list[str]


def historical_clv(t: Tables, p: Period, o: MetricOptions) -> Clv:
    """AOV × purchases per customer per year × lifetime × margin, with every factor in details."""
    return historical_clv_of(window_basket(t, trailing_year(p)), lifetime_years(t, p, o), p, o)


def historical_clv_of(b: Basket, life: Lifetime, p: Period, o: MetricOptions) -> Clv:
    """The same from the trailing year's basket and the lifetime (in memory, or summed by a warehouse)."""
    w = trailing_year(p)
    aov = b.revenue / b.orders if b.orders else None
    per_year = b.orders / b.purchasers if b.purchasers else None
    notes = list(life.notes)
    if not b.orders:
        notes.insert(0, f"no orders in {w.label}")
    elif not b.purchasers:
        notes.insert(0, f"no orders with a customer_id in {w.label}")
    years = life.years
    value = None if aov is None or per_year is None or years is None else aov * per_year * years * o.gross_margin
    details = {
        "aov": aov,
        "purchases_per_customer_per_year": per_year,
        "lifetime_years": life.years,
        "lifetime_source": life.source,
        "lifetime_capped": life.capped,
        "annual_churn": life.annual_churn,
        "gross_margin": o.gross_margin,
        "window_start": w.start,
        "window_end": w.end,
        "revenue": b.revenue,
        "orders": b.orders,
        "purchasers": b.purchasers,
    }
    return Clv(value, b.purchasers, details, notes)


def clv(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Historical customer lifetime value (per customer, in money)."""
    return clv_of(historical_clv(t, p, o), _excluded(t, "orders", "customers"), p)


def clv_of(c: Clv, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the period's CLV and its factors."""
    return MetricResult(
        metric="clv",
        label="Customer lifetime value",
        unit="money",
        period=p,
        value=c.value,
        n=c.purchasers,
        excluded_rows=excluded_rows,
        details=c.details,
        notes=c.notes,
    )


def net_clv(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Net CLV = CLV − CAC of P."""
    return net_clv_of(historical_clv(t, p, o), acquisition(t, p), _excluded(t, "orders", "customers", "spend"), p)


def net_clv_of(c: Clv, a: Acquisition, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the period's CLV and acquisition figures."""
    value = None if c.value is None or a.cac is None else c.value - a.cac
    return MetricResult(
        metric="net-clv",
        label="Net customer lifetime value",
        unit="money",
        period=p,
        value=value,
        n=c.purchasers,
        excluded_rows=excluded_rows,
        details={"clv": c.value, "cac": a.cac, "spend": a.spend, "new_customers": a.new, **_prefixed(c.details)},
        notes=[*c.notes, *a.notes],
    )


def ltv_cac(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """LTV:CAC = CLV / CAC of P; 3 or more is healthy."""
    return ltv_cac_of(historical_clv(t, p, o), acquisition(t, p), _excluded(t, "orders", "customers", "spend"), p)


def ltv_cac_of(c: Clv, a: Acquisition, excluded_rows: int, p: Period) -> MetricResult:
    """The same from the period's CLV and acquisition figures."""
    notes = [*c.notes, *a.notes]
    ratio = None
    if c.value is not None and a.cac is not None:
        if a.cac > 0:
            ratio = c.value / a.cac
        else:
            notes.append("no acquisition spend in the period, so CAC is 0 and LTV:CAC is undefined")
    return MetricResult(
        metric="ltv-cac",
        label="LTV:CAC",
        unit="ratio",
        period=p,
        value=ratio,
        n=a.new,
        numerator=c.value,
        denominator=a.cac,
        excluded_rows=excluded_rows,
        details={
            "clv": c.value,
            "cac": a.cac,
            "healthy": None if ratio is None else ratio >= HEALTHY_LTV_CAC,
            "healthy_from": HEALTHY_LTV_CAC,
            **_prefixed(c.details),
        },
        notes=notes,
    )


def _prefixed(details: dict[str, Any]) -> dict[str, Any]:
    return {f"clv_{k}": v for k, v in details.items()}
