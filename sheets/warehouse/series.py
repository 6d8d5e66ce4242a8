"""Per-customer and per-month aggregates computed by the warehouse for the answers that need more than one period's
totals: the BG/NBD + Gamma-Gamma per-customer summary (clv, risk, Pulse Customers), the per-customer days behind
churn and survival, and the signup-cohort counts. One query each; the same functions of metrics/ as in memory
(`summary_from_totals`, `churn_starts`, `cohort_finish`) finish them, so the rows never enter Python.

Like sheets/warehouse/pushdown.py, the expressions read the tables as they are: bot/pushed_series.py uses them only
on typed tables whose validation rules (run as queries) reject nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from sheets.warehouse.pushdown import Scope, Warehouse


def _known(t: Any) -> Any:
    """Rows with a customer (blank ids are anonymous, as in memory)."""
    return t.customer_id.notnull() & (t.customer_id != "")


def _orders(wh: Warehouse, scope: Scope) -> Any:
    """The orders of the customers in `scope` (all orders without one), with `day` = the order's date."""
    t = wh._scoped("orders", scope, None)
    return t.mutate(day=t.order_date.cast("date"))


def totals_query(wh: Warehouse, end: date, scope: Scope = ()) -> Any:
    """The Ibis expression behind `customer_totals`: orders per customer and day, then per customer."""
    import ibis
    from ibis import _

    t = _orders(wh, scope)
    usable = t.filter(_known(t) & t.day.notnull() & t.amount.notnull() & (t.day <= ibis.literal(end)))
    daily = usable.aggregate(
        by=["customer_id", "day"],
        sales=_.amount.sum(where=_.amount >= 0),
        sold=_.count(where=_.amount >= 0),
        net=_.amount.sum(),
    )
    # Per customer: its purchase days (days with a non-refund order), and the repeat days' spend as all purchase
    # days' spend less the first day's (the first purchase day's total, by arg-min: no window, no second pass).
    sale = daily.sold > 0
    per = daily.aggregate(
        by="customer_id",
        purchase_days=daily.count(where=sale),
        first=daily.day.min(where=sale),
        last=daily.day.max(where=sale),
        spend=daily.sales.sum(where=sale),
        first_spend=daily.sales.argmin(daily.day, where=sale),
        net=daily.net.sum(),
    )
    per = per.filter(per.purchase_days > 0)
    return per.select(
        "customer_id", "purchase_days", "first", "last", repeat_spend=per.spend - per.first_spend, net=per.net
    )


def excluded_query(wh: Warehouse, end: date, scope: Scope = ()) -> Any:
    """The counts `customer_totals` leaves out: rows without customer, date or amount, refunds, purchases after end."""
    import ibis
    from ibis import _

    t = _orders(wh, scope)
    valid = _known(t) & t.day.notnull() & t.amount.notnull()
    return t.aggregate(
        invalid=_.count(where=~valid),
        refunds=_.count(where=valid & (t.amount < 0)),
        after_end=_.count(where=valid & (t.amount >= 0) & (t.day > ibis.literal(end))),
    )


def customer_totals(wh: Warehouse, end: date, scope: Scope = ()) -> pd.DataFrame:
    """`metrics.clv.summary.customer_totals` computed by the warehouse: one row per customer with a purchase up to
    `end` (purchase days, first and last purchase day, repeat spend, net amount), sorted by customer_id."""
    import pyarrow.compute as pc

    query = totals_query(wh, end, scope)
    if wh.dialect == "duckdb":  # it compares strings by their UTF-8 bytes, Python's order, and sorts in parallel
        rows = query.order_by("customer_id").to_pyarrow()
    else:  # a server's collation may order otherwise (PostgreSQL's en_US puts "b" before "C")
        rows = query.to_pyarrow()
        rows = rows.take(pc.sort_indices(rows, [("customer_id", "ascending")]))  # UTF-8 bytes: Python's order
    ids = pd.Index(rows.column("customer_id").to_numpy(zero_copy_only=False), dtype="string", name="customer_id")
    out = pd.DataFrame(
        {
            "purchase_days": _numbers(rows.column("purchase_days"), "int64"),
            "first": arrow_dates(rows.column("first")),
            "last": arrow_dates(rows.column("last")),
            "repeat_spend": _numbers(rows.column("repeat_spend"), "float64"),
            "net": _numbers(rows.column("net"), "float64"),
        },
        index=ids,
    )
    counts = excluded_query(wh, end, scope).to_pyarrow().to_pylist()[0]
    out.attrs["excluded"] = {k: int(counts[k] or 0) for k in ("invalid", "refunds", "after_end")}
    return out


def arrow_dates(column: Any) -> np.ndarray:
    """An Arrow date column as datetime64[ns] (NaT for null), without a Python object per value."""
    import pyarrow as pa

    return np.asarray(column.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]")


def _numbers(column: Any, kind: str) -> np.ndarray:
    """An Arrow numeric column (PostgreSQL's decimals too) as `kind`, 0 for null (a sum over no rows)."""
    import pyarrow as pa

    return np.asarray(column.cast(pa.from_numpy_dtype(np.dtype(kind))).fill_null(0).to_numpy(), dtype=kind)


def days_query(wh: Warehouse, as_of: date, scope: Scope = (), by: str | None = None) -> Any:
    """Per customer (Customers, plus those seen only in Orders when unscoped): signup, latest churned_on and last
    order on or before `as_of` (`people.customer_days`), and its segment of `by` — NULL for a customer only in
    Orders, who is in no segment (as `metrics.engine.segment_tables`)."""
    return days_of(wh, [as_of], scope, by).rename(last_order="upto_0")


def days_of(wh: Warehouse, days: Sequence[date], scope: Scope = (), by: str | None = None) -> Any:
    """`days_query` for several days at once: the last order on or before each of `days` as upto_k."""
    from sheets.warehouse.people import customer_days

    people = customer_days(wh, days)
    # a scope keeps the Customers rows in it; otherwise customers seen only in Orders count too
    people = wh.with_segment(people, scope, by)
    upto = [f"upto_{k}" for k in range(len(days))]
    return people.select("customer_id", "signup", "segment", *upto, churned=people.churned_on)


def _month(day: Any) -> Any:
    """A date's month index (year × 12 + month − 1), as `metrics.cohorts.month_index`."""
    return day.year().cast("int64") * 12 + day.month().cast("int64") - 1


def cohort_query(wh: Warehouse, m0: int, n_cohorts: int, width: int, scope: Scope = (), by: str | None = None) -> Any:
    """The Ibis expression behind `cohort_counts`: the cohort sizes (k = −1) and, per cohort and month k since
    signup, the members with an order that month, per segment — one union of two GROUP BYs."""
    import ibis
    from ibis import _

    people = days_query(wh, date(1970, 1, 1), scope, by)
    people = people.mutate(cohort=_month(people.signup) - m0).filter(
        people.signup.notnull() & (_month(people.signup) >= m0) & (_month(people.signup) < m0 + n_cohorts)
    )
    sizes = people.aggregate(by=["segment", "cohort"], n=_.count()).mutate(k=ibis.literal(-1, "int64"))
    t = wh.table("orders")
    if t is None:
        raise ValueError("no orders table")
    day = t.order_date.cast("date")
    sales = t.filter(_known(t) & day.notnull() & t.amount.notnull() & (t.amount >= 0)).select(
        "customer_id", month=_month(day)
    )
    joined = sales.inner_join(people.select("customer_id", "segment", "cohort"), "customer_id")
    joined = joined.mutate(k=joined.month - m0 - joined.cohort).filter(lambda j: (j.k >= 0) & (j.k < width))
    buyers = joined.aggregate(by=["segment", "cohort", "k"], n=_.customer_id.nunique())
    return ibis.union(sizes.select("segment", "cohort", "k", "n"), buyers.select("segment", "cohort", "k", "n"))


def cohort_counts(
    wh: Warehouse, m0: int, n_cohorts: int, width: int, scope: Scope = (), by: str | None = None
) -> dict[tuple[str, int, int], int]:
    """(segment, cohort index, k) → count: the sizes under k = −1, the buyers k months after signup under k ≥ 0."""
    rows = cohort_query(wh, m0, n_cohorts, width, scope, by).to_pyarrow().to_pylist()
    return {(str(r["segment"]), int(r["cohort"]), int(r["k"])): int(r["n"]) for r in rows}


def _monthly(wh: Warehouse, key: str, day: str, m0: int, months: int, scope: Scope = ()) -> Any:
    """Table `key`'s rows of the customers in `scope` dated in the `months` calendar months from month index `m0`,
    labelled like a period of `Warehouse._branches`: `pi` = the month's position, `split` false, `segment` empty — one
    scan, not one per month."""
    import ibis

    if wh.table(key) is None:
        raise ValueError(f"no {key} table")
    t = wh._scoped(key, scope, None)
    dated = t[day].cast("date")
    first = date(m0 // 12, m0 % 12 + 1, 1)
    after = date((m0 + months) // 12, (m0 + months) % 12 + 1, 1)
    chosen = t.filter(dated.notnull() & (dated >= ibis.literal(first)) & (dated < ibis.literal(after)))
    return chosen.mutate(
        pi=(_month(chosen[day].cast("date")) - m0).cast("int64"), split=ibis.literal(False), segment=ibis.literal("")
    )


def monthly_basket_query(wh: Warehouse, m0: int, months: int, scope: Scope = ()) -> Any:
    """The orders aggregate of `Warehouse.basket_query` for each of `months` calendar months, in one query."""
    o = _monthly(wh, "orders", "order_date", m0, months, scope)
    return wh.basket_aggregate(o.select("customer_id", "amount", "pi", "split", "segment"))


def monthly_score_query(wh: Warehouse, m0: int, months: int, scope: Scope = ()) -> Any:
    """How many answers per month, survey (trimmed, lower case) and score, for every survey in one query."""
    from ibis import _

    r = _monthly(wh, "responses", "date", m0, months, scope)
    return r.mutate(survey_key=r.survey.strip().lower()).aggregate(by=["pi", "survey_key", "score"], n=_.count())


def monthly_scores(
    wh: Warehouse, m0: int, months: int, scales: dict[str, tuple[int, int]], scope: Scope = ()
) -> dict[Any, Any]:
    """(month position, survey) → `ScoreStats` for each survey of `scales` (name → (low, high)) among the answers of
    the customers in `scope`: the valid whole scores' histogram and the count of the others, as
    `Warehouse.score_stats` counts them."""
    from sheets.warehouse.pushdown import ScoreStats

    histograms: dict[tuple[int, str], dict[int, int]] = {}
    invalid: dict[tuple[int, str], int] = {}
    for row in monthly_score_query(wh, m0, months, scope).to_pyarrow().to_pylist():
        for survey, (low, high) in scales.items():
            if row["survey_key"] != survey.lower():
                continue
            key, score, n = (int(row["pi"]), survey), row["score"], int(row["n"])
            if score is not None and low <= score <= high:
                histograms.setdefault(key, {})[int(score)] = n
            else:
                invalid[key] = invalid.get(key, 0) + n
    return {k: ScoreStats(histograms.get(k, {}), invalid.get(k, 0)) for k in {*histograms, *invalid}}
