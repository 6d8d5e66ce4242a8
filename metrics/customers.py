"""Customer state on a given day — signed up, active, churned, new — shared by retention, cohorts and CLV.

Definitions (METRICS.md "Customer state"), with the choices the spec leaves open:
- An *order* is a row of Orders with a date and a non-negative amount (as in metrics.purchasing);
  refunds (negative amounts) are not orders, so a customer whose only rows are refunds has no first
  order and, without a signup_date, is undated.
- `signup(c)` = Customers.signup_date, else the first order date. A customer with neither is
  *undated*: not counted anywhere, and `undated_count` reports how many there are.
- Several Customers rows for one id: the earliest signup_date and the latest churned_on win.
- Explicit mode: c is active on day d when signup ≤ d and (churned_on is blank or > d), or when it
  has an order after churned_on and on or before d (reactivated: it stays active from that order on).
  A customer that appears only in Orders has no churned_on and never churns in this mode.
- Inactivity mode: c is active on day d when signup ≤ d and it has an order or its signup in
  (d − after_days, d]; it churns on the day after_days after its last activity.

Everything is computed on integer day numbers with numpy, once per Tables object (cached by identity,
so Tables must not be mutated in place after the first call).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar, cast

import numpy as np
import pandas as pd

from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.tables import Tables

Mode = Literal["explicit", "inactivity"]
T = TypeVar("T")

NEVER = np.int64(2**62)
_NS_PER_DAY = 86_400_000_000_000


@dataclass(frozen=True)
class CustomerState:
    """Per-customer day numbers aligned with `ids`, plus every order's customer position and day.

    Day numbers count days since 1970-01-01; NEVER stands for a blank date. `order_code`/`order_day`
    hold the non-refund orders sorted by day; `row_code`/`row_day` are aligned with `t.orders` rows
    (refunds included, -1 / NEVER where the customer or date is blank) for revenue sums.
    """

    ids: pd.Index
    signup: np.ndarray
    churned_on: np.ndarray
    first_order: np.ndarray
    reactivated_on: np.ndarray
    order_code: np.ndarray
    order_day: np.ndarray
    row_code: np.ndarray
    row_day: np.ndarray
    has_churn_dates: bool

    @property
    def dated(self) -> np.ndarray:
        dated: np.ndarray = self.signup != NEVER
        return dated


_CACHE: dict[tuple[int, str], object] = {}
_BUILDING = threading.RLock()


def per_tables(t: Tables, name: str, build: Callable[[Tables], T]) -> T:
    """`build(t)`, computed once per Tables object and dropped when that object is garbage-collected.

    Builds are serialised, so two threads asking at once (a query and a warm-up) build once."""
    key = (id(t), name)
    if key in _CACHE:
        return cast(T, _CACHE[key])  # stored by `build` under this name, so a T
    with _BUILDING:
        if key not in _CACHE:
            _CACHE[key] = build(t)
            weakref.finalize(t, _CACHE.pop, key, None)
        return cast(T, _CACHE[key])


def seed_per_tables(t: Tables, name: str, value: object) -> None:
    """Store `value` as what `per_tables(t, name, …)` returns from now on, unless it was built already (a disk
    snapshot's stored arrays, metrics.arrays)."""
    key = (id(t), name)
    with _BUILDING:
        if key not in _CACHE:
            _CACHE[key] = value
            weakref.finalize(t, _CACHE.pop, key, None)


def customer_state(t: Tables) -> CustomerState:
    """The state arrays of `t`, built once per Tables object."""
    return per_tables(t, "customer_state", _build_state)


def day_number(d: date) -> int:
    return int((pd.Timestamp(d) - pd.Timestamp(0)).days)


def to_days(dates: pd.Series | np.ndarray) -> np.ndarray:
    """datetime64 values → int64 day numbers, NEVER where blank."""
    s = pd.Series(dates)
    if not pd.api.types.is_datetime64_dtype(s.dtype):
        s = pd.to_datetime(s)
    ns = s.to_numpy(dtype="datetime64[ns]").view(np.int64)
    days = ns // _NS_PER_DAY
    return np.where(ns == np.iinfo(np.int64).min, NEVER, days).astype(np.int64)


def to_timestamps(days: np.ndarray) -> np.ndarray:
    """int64 day numbers → datetime64[ns], NaT where NEVER."""
    out = (np.asarray(days, dtype=np.int64) * _NS_PER_DAY).view("datetime64[ns]")
    return np.where(np.asarray(days) == NEVER, np.datetime64("NaT", "ns"), out)


def _ids(s: pd.Series) -> np.ndarray:
    return s.astype(object).to_numpy()


def _build_state(t: Tables) -> CustomerState:
    customers, orders = t.customers, t.orders
    codes, uniques = pd.factorize(np.concatenate([_ids(customers["customer_id"]), _ids(orders["customer_id"])]))
    size = len(uniques)
    cust_code, row_code = codes[: len(customers)], codes[len(customers) :]

    signup_date = _min_per_code(cust_code, to_days(customers["signup_date"]), size)
    churned_on = _latest_per_code(cust_code, to_days(customers["churned_on"]), size)

    row_day = to_days(orders["order_date"])
    is_order = (row_code >= 0) & (row_day != NEVER) & (amounts(t) >= 0)
    by_day = np.argsort(row_day[is_order])
    order_code, order_day = row_code[is_order][by_day], row_day[is_order][by_day]

    first_order = _min_per_code(order_code, order_day, size)
    after_churn = order_day > churned_on[order_code]
    reactivated_on = _min_per_code(order_code[after_churn], order_day[after_churn], size)
    return CustomerState(
        ids=pd.Index(uniques, dtype=object, name="customer_id"),
        signup=np.where(signup_date != NEVER, signup_date, first_order),
        churned_on=churned_on,
        first_order=first_order,
        reactivated_on=reactivated_on,
        order_code=order_code,
        order_day=order_day,
        row_code=row_code,
        row_day=row_day,
        has_churn_dates=bool((churned_on != NEVER).any()),
    )


@dataclass(frozen=True)
class SortedCodes:
    """The snapshot's customer codes renumbered in sorted id order: `code` per Orders row (-1 where blank) indexes
    `ids` (sorted, text), so grouping by `code` gives the groups, and the order, that grouping by id would."""

    code: np.ndarray
    ids: pd.Index


def sorted_codes(t: Tables) -> SortedCodes:
    """`customer_state(t)`'s integer codes in sorted id order, built once per Tables object (issue 16: the CLV
    model groups by them instead of re-factorising a million string ids)."""
    return per_tables(t, "sorted_codes", _build_sorted_codes)


def _build_sorted_codes(t: Tables) -> SortedCodes:
    state = customer_state(t)
    ids = state.ids.to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    code = np.where(state.row_code >= 0, rank[np.maximum(state.row_code, 0)] if len(rank) else -1, -1)
    return SortedCodes(code=code.astype(np.int64), ids=pd.Index(ids[order], dtype="string", name="customer_id"))


def amounts(t: Tables) -> np.ndarray:
    """Orders.amount as float, NaN where blank or not a number (read-only, shared per Tables)."""
    return per_tables(t, "amounts", _amounts)


def _amounts(t: Tables) -> np.ndarray:
    out = np.array(pd.to_numeric(t.orders["amount"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    out.flags.writeable = False
    return out


def _min_per_code(codes: np.ndarray, days: np.ndarray, size: int) -> np.ndarray:
    """Smallest day per customer position (NEVER where none); rows with code -1 are ignored."""
    out = np.full(size, NEVER, dtype=np.int64)
    keep = codes >= 0
    np.minimum.at(out, codes[keep], days[keep])
    return out


def distinct(codes: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of non-negative integer `codes` (all < size), sorted; faster than np.unique."""
    seen = np.zeros(size, dtype=bool)
    seen[codes] = True
    return np.flatnonzero(seen)


def _latest_per_code(codes: np.ndarray, days: np.ndarray, size: int) -> np.ndarray:
    """Latest non-blank day per customer position (NEVER where none)."""
    keep = (codes >= 0) & (days != NEVER)
    out = np.full(size, -NEVER, dtype=np.int64)
    np.maximum.at(out, codes[keep], days[keep])
    return np.where(out == -NEVER, NEVER, out)


def last_order_before(state: CustomerState, day_excl: int) -> np.ndarray:
    """Latest order day strictly before `day_excl` per customer, -NEVER where none."""
    hi = np.searchsorted(state.order_day, day_excl, side="left")
    out = np.full(len(state.ids), -NEVER, dtype=np.int64)
    np.maximum.at(out, state.order_code[:hi], state.order_day[:hi])
    return out


def resolve_mode(t: Tables, o: MetricOptions) -> Mode:
    """`auto` → explicit when Customers.churned_on has any value, else inactivity.

    Resolve once on the whole workbook and pass the result in `o.churn_mode`: a segment without
    churn dates would otherwise switch to inactivity on its own."""
    if o.churn_mode == "explicit" or o.churn_mode == "inactivity":
        return o.churn_mode
    if o.churn_mode != "auto":
        raise ValueError(f"unknown churn mode '{o.churn_mode}'; use auto, explicit or inactivity")
    return "explicit" if customer_state(t).has_churn_dates else "inactivity"


def _after_days(o: MetricOptions) -> int:
    if o.churn_after_days < 1:
        raise ValueError(f"churn.after_days must be at least 1, got {o.churn_after_days}")
    return int(o.churn_after_days)


def active_mask(t: Tables, day: date, o: MetricOptions) -> np.ndarray:
    """Boolean array aligned with `customer_state(t).ids`: active on `day`."""
    state, d = customer_state(t), day_number(day)
    signed = state.signup <= d
    if resolve_mode(t, o) == "explicit":
        return signed & ((state.churned_on > d) | (state.reactivated_on <= d))
    after = _after_days(o)
    lo = np.searchsorted(state.order_day, d - after, side="right")
    hi = np.searchsorted(state.order_day, d, side="right")
    recent = state.signup > d - after
    recent[state.order_code[lo:hi]] = True
    return signed & recent


def active_ids(t: Tables, day: date, o: MetricOptions) -> pd.Index:
    """Customers active on `day` (see module docstring)."""
    return customer_state(t).ids[active_mask(t, day, o)]


def new_mask(t: Tables, p: Period) -> np.ndarray:
    state = customer_state(t)
    return (state.signup >= day_number(p.start)) & (state.signup < day_number(p.end))


def new_ids(t: Tables, p: Period) -> pd.Index:
    """Customers whose signup falls in P."""
    return customer_state(t).ids[new_mask(t, p)]


def signup_dates(t: Tables) -> pd.Series:
    """customer_id → signup (signup_date, else first order) for every dated customer."""
    state = customer_state(t)
    dated = state.dated
    return pd.Series(to_timestamps(state.signup[dated]), index=state.ids[dated], name="signup")


def first_order_dates(t: Tables) -> pd.Series:
    """customer_id → date of the first non-refund order, for customers that have one."""
    state = customer_state(t)
    has = state.first_order != NEVER
    return pd.Series(to_timestamps(state.first_order[has]), index=state.ids[has], name="first_order")


def undated_count(t: Tables) -> int:
    """Customers with neither a signup_date nor an order: they are left out of every count."""
    return int((~customer_state(t).dated).sum())


def undated_note(t: Tables) -> list[str]:
    return undated_note_of(undated_count(t))


def undated_note_of(n: int) -> list[str]:
    """The note for `n` undated customers (none when there are none)."""
    if not n:
        return []
    return [f"{n} customer{'s' if n != 1 else ''} with neither a signup date nor an order not counted"]


def churn_events(t: Tables, as_of: date, o: MetricOptions) -> pd.DataFrame:
    """One row per customer signed up by `as_of`: customer_id, signup, churn_date (NaT while active).

    churn_date starts the churn the customer is in on `as_of` (so it is NaT exactly for customers in
    `active_ids(t, as_of, o)`): churned_on in explicit mode, last activity + after_days in inactivity
    mode. A churn date before signup (inconsistent data) is moved to the signup day.
    """
    state, d = customer_state(t), day_number(as_of)
    mode = resolve_mode(t, o)
    if mode == "explicit":
        churn = churn_starts(mode, d, o, state.signup, state.churned_on, back=state.reactivated_on <= d)
    else:
        churn = churn_starts(mode, d, o, state.signup, state.churned_on, last_order=last_order_before(state, d + 1))
    return events_frame(state.ids, state.signup, churn, d)


def churn_starts(
    mode: Mode,
    d: int,
    o: MetricOptions,
    signup: np.ndarray,
    churned_on: np.ndarray,
    *,
    back: np.ndarray | None = None,
    last_order: np.ndarray | None = None,
) -> np.ndarray:
    """The day each customer's churn began, as of day `d` (NEVER while active), from per-customer day numbers — the
    rule shared by the snapshot and the warehouse. Explicit mode needs `back` (an order after churned_on, on or
    before d); inactivity mode `last_order` (the last order on or before d, -NEVER for none)."""
    if mode == "explicit":
        assert back is not None
        churned = (churned_on <= d) & ~back
        return np.where(churned, np.maximum(churned_on, signup), NEVER)
    assert last_order is not None
    ends = np.maximum(last_order, signup) + _after_days(o)
    return np.where(ends <= d, ends, NEVER)


def events_frame(ids: pd.Index, signup: np.ndarray, churn: np.ndarray, d: int) -> pd.DataFrame:
    """`churn_events`' frame from aligned ids and day numbers: the customers signed up by day `d`."""
    signed = signup <= d
    return pd.DataFrame(
        {
            "customer_id": ids[signed],
            "signup": to_timestamps(signup[signed]),
            "churn_date": to_timestamps(churn[signed]),
        }
    ).reset_index(drop=True)
