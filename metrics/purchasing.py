"""Purchasing metrics from the Orders tab: revenue, orders, purchasers, AOV, frequency, repeat, returning, refunds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd

from metrics.customers import distinct, per_tables
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult
from metrics.stats import percent, proportion_result
from metrics.tables import Tables


@dataclass(frozen=True)
class OrderBook:
    """The usable Orders rows as aligned arrays (a row is usable with a date and a numeric amount).

    `customer` holds codes into `customer_ids` (-1 when blank), `key` the order identity, `first_order`
    each customer's first non-refund order day (NaT when none); `unusable_day` dates the unusable rows.
    """

    customer_ids: pd.Index
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    key: np.ndarray
    first_order: np.ndarray
    unusable_day: np.ndarray
    excluded: int
    key_size: int = 0


class BasketFigures(Protocol):
    """What the purchasing metrics read of a period's orders: a `Basket`, or the same figures a warehouse summed."""

    @property
    def gross(self) -> float: ...
    @property
    def refunded(self) -> float: ...
    @property
    def revenue(self) -> float: ...
    @property
    def refund_rows(self) -> int: ...
    @property
    def orders(self) -> int: ...
    @property
    def purchasers(self) -> int: ...
    @property
    def repeaters(self) -> int: ...
    @property
    def anonymous_orders(self) -> int: ...
    @property
    def excluded_rows(self) -> int: ...


@dataclass(frozen=True)
class Basket:
    """One period of the order book: non-refund rows ("sales"), refund rows, and excluded rows."""

    book: OrderBook
    sales: np.ndarray
    refunds: np.ndarray
    excluded_rows: int

    @cached_property
    def orders(self) -> int:
        return int(distinct(self.book.key[self.sales], self.book.key_size).size)

    @property
    def purchasers(self) -> int:
        return int(self.buyers().size)

    @property
    def revenue(self) -> float:
        return self.gross - self.refunded

    @property
    def gross(self) -> float:
        return float(self.book.amount[self.sales].sum())

    @property
    def refunded(self) -> float:
        return float(-self.book.amount[self.refunds].sum())

    @property
    def refund_rows(self) -> int:
        return int(self.refunds.sum())

    @property
    def repeaters(self) -> int:
        """Purchasers with two or more distinct orders in the period."""
        return int((self.orders_per_buyer() >= 2).sum())

    @property
    def anonymous_orders(self) -> int:
        return int(distinct(self.book.key[self.sales & (self.book.customer < 0)], self.book.key_size).size)

    def buyers(self) -> np.ndarray:
        """Codes of the customers with a non-refund order in the period."""
        return self._buyers

    @cached_property
    def _buyers(self) -> np.ndarray:
        return distinct(self.book.customer[self.sales & (self.book.customer >= 0)], len(self.book.customer_ids))

    def orders_per_buyer(self) -> np.ndarray:
        """Distinct non-refund orders in the period of each customer in `buyers()`, same order."""
        return self._orders_per_buyer

    @cached_property
    def _orders_per_buyer(self) -> np.ndarray:
        known = self.sales & (self.book.customer >= 0)
        pairs = np.sort(self.book.customer[known] * self.book.key_size + self.book.key[known])
        if not len(pairs):
            return np.zeros(0, dtype="int64")
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        per_buyer: np.ndarray = np.bincount(pairs // self.book.key_size)[self._buyers]
        return per_buyer


def order_keys(orders: pd.DataFrame) -> np.ndarray:
    """Order identity as an integer: one per distinct order_id, and one per row whose order_id is
    blank or absent (such a row is its own order)."""
    n = len(orders)
    own = np.arange(n, dtype="int64")
    if "order_id" not in orders.columns:
        return own
    oid = orders["order_id"].astype("string")
    blank = (oid.isna() | (oid == "").fillna(True)).to_numpy(dtype=bool)
    codes = pd.factorize(oid.where(~blank))[0].astype("int64")
    return np.where(blank, n + own, codes)


def order_book(t: Tables) -> OrderBook:
    """The order book of `t`, built once per Tables object."""
    return per_tables(t, "order_book", _build_book)


def _build_book(t: Tables) -> OrderBook:
    o = t.orders
    amount = pd.to_numeric(o["amount"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    day = o["order_date"].to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(day)
    usable = dated & ~np.isnan(amount)
    ids = o["customer_id"].astype("string")
    ids = ids.mask(ids == "")[usable]
    customer, customer_ids = pd.factorize(ids)
    day, amount = day[usable], amount[usable]
    by_day = np.argsort(day, kind="stable")
    customer, day, amount = customer[by_day], day[by_day], amount[by_day]
    keys = order_keys(o)[usable][by_day]
    first = np.full(len(customer_ids), np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(customer_ids):
        sale = (amount >= 0) & (customer >= 0)
        firsts = pd.Series(day[sale]).groupby(customer[sale]).min()
        first[firsts.index.to_numpy()] = firsts.to_numpy()
    return OrderBook(
        customer_ids=pd.Index(customer_ids, name="customer_id"),
        customer=customer.astype("int64"),
        day=day,
        amount=amount,
        key=keys,
        first_order=first,
        unusable_day=o["order_date"].to_numpy(dtype="datetime64[ns]")[dated & ~usable],
        excluded=int(t.excluded.get("orders", 0)),
        key_size=int(keys.max(initial=-1)) + 1,
    )


def _in(days: np.ndarray, p: Period) -> np.ndarray:
    return (days >= np.datetime64(p.start_ts)) & (days < np.datetime64(p.end_ts))


def basket(t: Tables, p: Period) -> Basket:
    """The order book restricted to period `p`, split into sales (amount ≥ 0) and refunds (amount < 0).

    The book is sorted by day, so the period is one slice found by binary search; a basket is built once
    per (Tables, period) because every purchasing metric of a period reads the same one."""
    return per_tables(t, f"basket:{p.start}:{p.end}", lambda t: _basket(order_book(t), p))


def _basket(book: OrderBook, p: Period) -> Basket:
    lo, hi = np.searchsorted(book.day, [np.datetime64(p.start_ts), np.datetime64(p.end_ts)])
    part = replace(
        book, customer=book.customer[lo:hi], day=book.day[lo:hi], amount=book.amount[lo:hi], key=book.key[lo:hi]
    )
    return Basket(
        book=part,
        sales=part.amount >= 0,
        refunds=part.amount < 0,
        excluded_rows=book.excluded + int(_in(book.unusable_day, p).sum()),
    )


def revenue(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Σ amount in P, net of refunds."""
    return revenue_of(basket(t, p), p, o)


def revenue_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
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
    return orders_of(basket(t, p), p, o)


def orders_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
    return MetricResult(
        metric="orders",
        label="Orders",
        unit="count",
        period=p,
        value=float(b.orders),
        n=b.orders,
        excluded_rows=b.excluded_rows,
        details={"orders": b.orders, "refund_rows": b.refund_rows},
    )


def purchasers(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Distinct customers with a non-refund order in P."""
    return purchasers_of(basket(t, p), p, o)


def purchasers_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
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
    return aov_of(basket(t, p), p, o)


def aov_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
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
    return frequency_of(basket(t, p), p, o)


def frequency_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
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
    return repeat_rate_of(basket(t, p), p, o)


def repeat_rate_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
    buyers, repeaters = b.purchasers, b.repeaters
    return proportion_result(
        "repeat",
        "Repeat-purchase rate",
        p,
        repeaters,
        buyers,
        min_n=o.min_n,
        excluded_rows=b.excluded_rows,
        details={"purchasers": buyers, "repeat_purchasers": repeaters, "one_time": buyers - repeaters},
    )


def returning_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Returning-customer rate: purchasers in P whose first order (all time) was before P / purchasers."""
    b = basket(t, p)
    buyers = b.buyers()
    returning = int((b.book.first_order[buyers] < np.datetime64(p.start_ts)).sum())
    return returning_rate_of(len(buyers), returning, b.excluded_rows, p, o)


def returning_rate_of(buyers: int, returning: int, excluded_rows: int, p: Period, o: MetricOptions) -> MetricResult:
    """The same from the counts of purchasers and of returning ones (counted in memory, or by a warehouse)."""
    return proportion_result(
        "returning",
        "Returning-customer rate",
        p,
        returning,
        buyers,
        min_n=o.min_n,
        excluded_rows=excluded_rows,
        details={"purchasers": buyers, "returning": returning, "first_time": buyers - returning},
    )


def refund_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Refund rate: refund rows in P / non-refund orders in P; details add refunded amount / gross revenue."""
    return refund_rate_of(basket(t, p), p, o)


def refund_rate_of(b: BasketFigures, p: Period, o: MetricOptions) -> MetricResult:
    """The same from a basket's figures (in memory, or aggregated by a warehouse)."""
    return proportion_result(
        "refunds",
        "Refund rate",
        p,
        b.refund_rows,
        b.orders,
        min_n=o.min_n,
        excluded_rows=b.excluded_rows,
        details={
            "refund_rows": b.refund_rows,
            "orders": b.orders,
            **_money_details(b),
            "refunded_amount_share": percent(b.refunded, b.gross) if b.gross else None,
        },
    )


def _money_details(b: BasketFigures) -> dict[str, float | int]:
    return {"gross_revenue": b.gross, "refunded_amount": b.refunded, "refund_rows": b.refund_rows}


def _anonymous_note(b: BasketFigures) -> list[str]:
    anonymous = b.anonymous_orders
    return [f"{anonymous} orders have no customer_id and count toward no purchaser"] if anonymous else []
