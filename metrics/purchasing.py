"""Purchasing metrics from the Orders tab: revenue, orders, purchasers, AOV, frequency, repeat, returning, refunds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult
from metrics.stats import percent, proportion_result
from metrics.tables import Tables


@dataclass(frozen=True)
class Basket:
    """One period of the Orders tab: non-refund rows keyed by order, refund rows, and unusable rows."""

    sales: pd.DataFrame
    refunds: pd.DataFrame
    excluded_rows: int

    @property
    def orders(self) -> int:
        return int(self.sales["order_key"].nunique())

    @property
    def purchasers(self) -> int:
        return int(self.sales["customer_id"].nunique())

    @property
    def revenue(self) -> float:
        return float(self.sales["amount"].sum() + self.refunds["amount"].sum())

    @property
    def gross(self) -> float:
        return float(self.sales["amount"].sum())

    @property
    def refunded(self) -> float:
        return float(-self.refunds["amount"].sum())

    def orders_per_customer(self) -> pd.Series:
        """customer_id → distinct non-refund orders in the period."""
        known = self.sales[self.sales["customer_id"].notna()]
        return known.groupby("customer_id", observed=True)["order_key"].nunique()


def order_keys(orders: pd.DataFrame) -> pd.Series:
    """Order identity as an integer: one per distinct trimmed order_id, and one per row whose order_id is
    blank or absent (such a row is its own order)."""
    n = len(orders)
    own = pd.Series(np.arange(n, dtype="int64"), index=orders.index)
    if "order_id" not in orders.columns:
        return own
    oid = orders["order_id"].astype("string").str.strip()
    blank = oid.isna() | (oid == "").fillna(True).astype(bool)
    codes = pd.Series(pd.factorize(oid.where(~blank))[0], index=orders.index, dtype="int64")
    return codes.where(~blank, n + own)


def valid_orders(t: Tables) -> tuple[pd.DataFrame, pd.Series]:
    """Orders rows with a date and a numeric amount (plus their order key), and the mask of unusable rows."""
    o = t.orders
    amount = pd.to_numeric(o["amount"], errors="coerce").astype("float64")
    dated = o["order_date"].notna()
    usable = dated & amount.notna()
    rows = o.loc[usable, ["customer_id", "order_date"]].assign(
        amount=amount[usable],
        order_key=order_keys(o)[usable],
        customer_id=o.loc[usable, "customer_id"].astype("string").str.strip().replace("", pd.NA),
    )
    return rows, dated & ~usable


def basket(t: Tables, p: Period) -> Basket:
    """The orders tab restricted to period `p`, split into sales (amount ≥ 0) and refunds (amount < 0)."""
    rows, unusable = valid_orders(t)
    rows = rows[p.mask(rows["order_date"])]
    bad_in_p = int((unusable & p.mask(t.orders["order_date"])).sum())
    return Basket(
        sales=rows[rows["amount"] >= 0],
        refunds=rows[rows["amount"] < 0],
        excluded_rows=t.excluded.get("orders", 0) + bad_in_p,
    )


def first_orders(t: Tables) -> pd.Series:
    """customer_id → date of the customer's first non-refund order, all time."""
    rows, _ = valid_orders(t)
    rows = rows[(rows["amount"] >= 0) & rows["customer_id"].notna()]
    return rows.groupby("customer_id", observed=True)["order_date"].min()


def order_count(t: Tables, p: Period) -> int:
    """Non-refund orders in `p` (the default complaint-rate denominator)."""
    return basket(t, p).orders


def revenue(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Σ amount in P, net of refunds."""
    b = basket(t, p)
    return MetricResult(
        metric="revenue",
        label="Revenue",
        unit="money",
        period=p,
        value=b.revenue,
        n=b.orders,
        excluded_rows=b.excluded_rows,
        details=_money_details(b),
    )


def orders(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Distinct non-refund orders in P."""
    b = basket(t, p)
    return MetricResult(
        metric="orders",
        label="Orders",
        unit="count",
        period=p,
        value=float(b.orders),
        n=b.orders,
        excluded_rows=b.excluded_rows,
        details={"orders": b.orders, "refund_rows": len(b.refunds)},
    )


def purchasers(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Distinct customers with a non-refund order in P."""
    b = basket(t, p)
    return MetricResult(
        metric="purchasers",
        label="Purchasers",
        unit="count",
        period=p,
        value=float(b.purchasers),
        n=b.purchasers,
        excluded_rows=b.excluded_rows,
        details={"purchasers": b.purchasers, "orders": b.orders},
        notes=_anonymous_note(b),
    )


def aov(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Average order value: net revenue / orders (undefined without orders)."""
    b = basket(t, p)
    return MetricResult(
        metric="aov",
        label="Average order value",
        unit="money",
        period=p,
        value=b.revenue / b.orders if b.orders else None,
        n=b.orders,
        numerator=b.revenue,
        denominator=b.orders,
        excluded_rows=b.excluded_rows,
        details={**_money_details(b), "orders": b.orders},
    )


def frequency(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Purchase frequency: orders / purchasers (undefined without purchasers)."""
    b = basket(t, p)
    return MetricResult(
        metric="frequency",
        label="Purchase frequency",
        unit="ratio",
        period=p,
        value=b.orders / b.purchasers if b.purchasers else None,
        n=b.purchasers,
        numerator=b.orders,
        denominator=b.purchasers,
        excluded_rows=b.excluded_rows,
        details={"orders": b.orders, "purchasers": b.purchasers},
        notes=_anonymous_note(b),
    )


def repeat_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Repeat-purchase rate: purchasers with ≥ 2 orders in P / purchasers."""
    b = basket(t, p)
    counts = b.orders_per_customer()
    repeaters = int((counts >= 2).sum())
    return proportion_result(
        "repeat",
        "Repeat-purchase rate",
        p,
        repeaters,
        len(counts),
        min_n=o.min_n,
        excluded_rows=b.excluded_rows,
        details={"purchasers": len(counts), "repeat_purchasers": repeaters, "one_time": len(counts) - repeaters},
    )


def returning_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Returning-customer rate: purchasers in P whose first order (all time) was before P / purchasers."""
    b = basket(t, p)
    buyers = b.orders_per_customer().index
    first = first_orders(t).reindex(buyers)
    returning = int((first < p.start_ts).sum())
    return proportion_result(
        "returning",
        "Returning-customer rate",
        p,
        returning,
        len(buyers),
        min_n=o.min_n,
        excluded_rows=b.excluded_rows,
        details={"purchasers": len(buyers), "returning": returning, "first_time": len(buyers) - returning},
    )


def refund_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Refund rate: refund rows in P / non-refund orders in P; details add refunded amount / gross revenue."""
    b = basket(t, p)
    return proportion_result(
        "refunds",
        "Refund rate",
        p,
        len(b.refunds),
        b.orders,
        min_n=o.min_n,
        excluded_rows=b.excluded_rows,
        details={
            "refund_rows": len(b.refunds),
            "orders": b.orders,
            **_money_details(b),
            "refunded_amount_share": percent(b.refunded, b.gross) if b.gross else None,
        },
    )


def _money_details(b: Basket) -> dict[str, float | int]:
    return {"gross_revenue": b.gross, "refunded_amount": b.refunded, "refund_rows": len(b.refunds)}


def _anonymous_note(b: Basket) -> list[str]:
    anonymous = int(b.sales.loc[b.sales["customer_id"].isna(), "order_key"].nunique())
    return [f"{anonymous} orders have no customer_id and count toward no purchaser"] if anonymous else []
