"""Customer aggregates computed by the warehouse (issue 18, the period metrics that read customers, complaints and
spend): per period and segment, how many customers were active on its first and last day, new, retained and
reactivated, how many are undated; complaints filed; spend spread over days. Only those counts and sums come back.

The rules are metrics.customers' (signup = the earliest signup_date, else the first non-refund order; explicit
churn dates with reactivation by a later order, or inactivity for `churn.after_days`) written as Ibis expressions
over a `Warehouse`'s tables; `bot/pushdown_people.py` turns the counts into results with the in-memory metrics'
own `*_of` functions. Like sheets/warehouse/pushdown.py, it reads only tables the validation rules accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sheets.warehouse.pushdown import Figures, Scope, Warehouse, in_chunks, key_of

Days = tuple[date, date]  # a period as [first day, end day) — the end is exclusive, like metrics.periods.Period


@dataclass(frozen=True)
class FlowStats:
    """One period's customer counts in one segment: what metrics.retention reads of a `Flow`, plus undated."""

    start: int = 0
    end: int = 0
    new: int = 0
    retained: int = 0
    reactivated: int = 0
    undated: int = 0
    buyers: int = 0  # with an order before the period's end (lapsed share)
    lapsed: int = 0  # … whose last one is more than `after_days` before it
    purchasers: int = 0  # with an order in the period (returning-customer rate)
    returning: int = 0  # … whose first order was before it


def has_churn_dates(wh: Warehouse) -> bool:
    """Whether any customer has a churned_on date (`churn.mode = auto` then means explicit), on the whole table."""
    c = wh.table("customers")
    if c is None or "churned_on" not in c.columns:
        return False
    return bool(c.filter(c.churned_on.notnull()).count().execute() > 0)


def flow_stats(
    wh: Warehouse, periods: Sequence[Days], mode: str, after_days: int, scope: Scope = (), by: str | None = None
) -> Figures[FlowStats]:
    """Each period's `FlowStats`, FLOW_PERIODS periods per query: key (period index, None) for the whole scope and
    (index, value) for each segment of `by` (a segment with no customers is absent)."""
    key = ("flow", tuple(periods), mode, after_days, scope, by)
    figures: Figures[FlowStats] = wh._remembered(key, lambda: _flow_stats(wh, periods, mode, after_days, scope, by))
    return figures


# Periods per customer-flow query. Each period adds two "last order on or before" columns per customer to the
# engine's hash table: 24 months at once (48 columns × 2 M customers) ran DuckDB out of its default 1 GB at 10 M
# orders, so a long series runs as a few queries of this many periods.
FLOW_PERIODS = 4


def _flow_stats(
    wh: Warehouse, periods: Sequence[Days], mode: str, after_days: int, scope: Scope, by: str | None
) -> Figures[FlowStats]:
    return in_chunks(periods, FLOW_PERIODS, lambda chunk: _flow_figures(wh, chunk, mode, after_days, scope, by))


def _flow_figures(
    wh: Warehouse, periods: Sequence[Days], mode: str, after_days: int, scope: Scope, by: str | None
) -> Figures[FlowStats]:
    """`flow_stats` of a few periods, from one query."""
    rows = flow_query(wh, periods, mode, after_days, scope, by).to_pyarrow().to_pylist()
    out: Figures[FlowStats] = {}
    for i in range(len(periods)):
        total = FlowStats()
        for row in rows:
            stats = FlowStats(*(int(row[f"{name}_{i}"] or 0) for name in FlowStats.__dataclass_fields__))
            total = FlowStats(*(getattr(total, f) + getattr(stats, f) for f in FlowStats.__dataclass_fields__))
            if by and row["segment"] is not None:
                out[(i, str(row["segment"]))] = stats
        out[(i, None)] = total
    return out


def flow_query(
    wh: Warehouse, periods: Sequence[Days], mode: str, after_days: int, scope: Scope = (), by: str | None = None
) -> Any:
    """The Ibis expression behind `flow_stats`: one row per segment (NULL for customers in no segment: those only in
    Orders) with, per period i, the columns start_i, end_i, new_i, retained_i, reactivated_i, undated_i."""
    import ibis

    state = _state(wh, periods, mode, after_days)
    state = wh.with_segment(state, scope, by)
    signup = state.signup
    sums: dict[str, Any] = {}
    for i, (first, end) in enumerate(periods):
        s, e = state[f"active_{2 * i}"], state[f"active_{2 * i + 1}"]
        new = signup.notnull() & (signup >= ibis.literal(first)) & (signup < ibis.literal(end))
        sums[f"start_{i}"] = state.count(where=s)
        sums[f"end_{i}"] = state.count(where=e)
        sums[f"new_{i}"] = state.count(where=new)
        sums[f"retained_{i}"] = state.count(where=s & e)
        sums[f"reactivated_{i}"] = state.count(where=e & ~s & (signup < ibis.literal(first)))
        sums[f"undated_{i}"] = state.count(where=signup.isnull())
        last, ordered, first_order = state[f"last_{i}"], state[f"ordered_{i}"], state.first_order
        sums[f"buyers_{i}"] = state.count(where=ordered)
        since = ibis.literal(end - timedelta(days=after_days))
        sums[f"lapsed_{i}"] = state.count(where=ordered & (last.isnull() | (last < since)))
        bought = state[f"bought_{i}"]
        sums[f"purchasers_{i}"] = state.count(where=bought)
        sums[f"returning_{i}"] = state.count(where=bought & (first_order < ibis.literal(first)))
    return state.aggregate(by=["segment"], **sums)


def _state(wh: Warehouse, periods: Sequence[Days], mode: str, after_days: int) -> Any:
    """customer_id, signup, first_order; per period i its first and last day's activity (active_{2i}, active_{2i+1},
    never NULL), the customer's last order before its end (last_i) and whether it ordered in it (bought_i) — for every
    customer of Customers or Orders: metrics.customers' state, one row per customer, from `customer_days`."""
    import ibis

    days = [d for first, end in periods for d in (first, end - timedelta(days=1))]
    # Every test below looks at orders on or after min(days) − after_days (the whole history is in the base's
    # first_order and back_on), so only those orders are grouped per customer.
    state = customer_days(wh, days, since=min(days, default=date.max) - timedelta(days=after_days))
    signup, first_order = state.signup, state.first_order
    columns = {}
    for k, d in enumerate(days):
        day, last = ibis.literal(d), state[f"upto_{k}"]  # the last order on or before day d (in the window)
        signed = signup.notnull() & (signup <= day)
        if mode == "explicit":  # not churned on d, or back: an order after churned_on, on or before d
            alive = state.churned_on.isnull() | (state.churned_on > day) | (state.back_on <= day)
        else:  # signed up, or ordered, within `after_days` of d
            since = ibis.literal(d - timedelta(days=after_days))
            alive = (signup > since) | (last > since)
        columns[f"active_{k}"] = (signed & alive).fill_null(False)
    for i, (first, end) in enumerate(periods):
        # An order before the period's end, and the last one if it falls within `after_days` of that end.
        columns[f"ordered_{i}"] = (first_order < ibis.literal(end)).fill_null(False)
        columns[f"last_{i}"] = state[f"upto_{2 * i + 1}"]
        columns[f"bought_{i}"] = (state[f"upto_{2 * i + 1}"] >= ibis.literal(first)).fill_null(False)
    return state.select("customer_id", "first_order", signup=signup, **columns)


def customer_days(wh: Warehouse, days: Sequence[date], since: date | None = None) -> Any:
    """metrics.customers' per-customer days, one row per customer of Customers or Orders (a blank id is no customer):
    the `customer_base` columns and, for each of `days`, upto_k: the last non-refund order on or before days[k]
    (NULL: none) — counting only orders on or after `since` when given, so a question about recent periods groups
    recent orders, not the whole history. The customer counts (`_state`) and the survival curve's days
    (`sheets.warehouse.series.days_query`) are both read from it."""
    import ibis

    base = customer_base(wh)
    if not days:
        return base
    rows = _sales(wh)
    if since is not None:
        rows = rows.filter(rows.day >= ibis.literal(since))
    upto = {f"upto_{k}": rows.day.max(where=rows.day <= ibis.literal(d)) for k, d in enumerate(days)}
    recent = rows.aggregate(by="customer_id", **upto)
    return base.view().left_join(recent, "customer_id").select(*base.columns, *upto)


def customer_base(wh: Warehouse) -> Any:
    """What the questions of any period share, per customer of Customers or Orders: customer_id, signup (the earliest
    signup_date, else the first non-refund order), churned_on (the latest), first_order and back_on (the first
    non-refund order after churned_on). It reads every order, so on DuckDB it is kept as a temporary table for as
    long as the connection to this version of the file (`Warehouse.kept`)."""
    return wh.kept("customer_base", lambda: _customer_base(wh))


def _customer_base(wh: Warehouse) -> Any:
    """The expression behind `customer_base`."""
    import ibis
    from ibis import _

    c = wh.table("customers")
    if c is None:
        raise ValueError("customer counts need both a customers and an orders table")
    none = ibis.null("date")
    signup_date = c.signup_date.cast("date") if "signup_date" in c.columns else none
    churned_on = c.churned_on.cast("date") if "churned_on" in c.columns else none
    # selected before the aggregate: a column the table lacks is a NULL literal, which has no min/max of its own
    people = (
        c.filter(c.customer_id.notnull() & (c.customer_id != ""))
        .select("customer_id", signup_date=signup_date, churned_on=churned_on)
        .aggregate(by="customer_id", signup_date=_.signup_date.min(), churned_on=_.churned_on.max())
    )
    # Every Orders customer (one with refunds only is undated, as in memory).
    o = wh.table("orders")
    if o is None:
        raise ValueError("customer counts need both a customers and an orders table")
    named = o.filter(o.customer_id.notnull() & (o.customer_id != "")).select("customer_id")
    rows = _sales(wh)
    firsts = rows.aggregate(by="customer_id", first_order=rows.day.min())
    bought = named.distinct().left_join(firsts, "customer_id").select("customer_id", "first_order")
    joined = people.outer_join(bought, "customer_id")
    base = joined.select(
        customer_id=joined.customer_id.fill_null(joined.customer_id_right),
        signup=joined.signup_date.coalesce(joined.first_order),
        churned_on=joined.churned_on,
        first_order=joined.first_order,
    )
    if "churned_on" not in c.columns:
        return base.mutate(back_on=none)
    churned = base.filter(base.churned_on.notnull()).select("customer_id", "churned_on")
    after = rows.inner_join(churned, "customer_id").select("customer_id", "day", "churned_on")
    back = after.filter(after.day > after.churned_on).aggregate(by="customer_id", back_on=_.day.min())
    return base.view().left_join(back, "customer_id").select(*base.columns, "back_on")


def _sales(wh: Warehouse) -> Any:
    """customer_id and day of every dated non-refund order with a customer (an amount ≥ 0): what counts as buying."""
    o = wh.table("orders")
    if o is None:
        raise ValueError("customer counts need both a customers and an orders table")
    rows = o.filter(o.customer_id.notnull() & (o.customer_id != "") & (o.amount >= 0) & o.order_date.notnull())
    return rows.select("customer_id", day=rows.order_date.cast("date"))


def complaint_counts(
    wh: Warehouse, bounds: Sequence[tuple[Any, Any]], scope: Scope = (), by: str | None = None
) -> Figures[int]:
    """Complaints filed in each period [start, end) in `scope`, in one query, keyed like `Warehouse.basket_stats`."""
    key = ("complaints", tuple(bounds), scope, by)

    def count() -> Figures[int]:
        rows = wh._branches("complaints", "date", bounds, scope, by)
        counts = rows.aggregate(by=["pi", "split", "segment"], n=rows.count())
        return {key_of(r): int(r["n"]) for r in counts.to_pyarrow().to_pylist()}

    figures: Figures[int] = wh._remembered(key, count)
    return figures


@dataclass(frozen=True)
class ResolutionStats:
    """One period's complaints in one segment: how many were filed, how many have a resolved status, and how many
    took each number of days from filing to `resolved_on` (what metrics.complaints.resolution_of reads)."""

    filed: int = 0
    resolved: int = 0
    days: dict[int, int] = field(default_factory=dict)


def resolution_stats(
    wh: Warehouse, bounds: Sequence[tuple[Any, Any]], statuses: Sequence[str], scope: Scope = (), by: str | None = None
) -> Figures[ResolutionStats]:
    """`ResolutionStats` of each period [start, end) in one query, keyed like `complaint_counts`; a status counts as
    resolved when, trimmed and lower-cased, it is one of `statuses` (trimmed and lower-cased too)."""
    key = ("resolution", tuple(bounds), tuple(statuses), scope, by)

    def count() -> Figures[ResolutionStats]:
        out: dict[tuple[int, str | None], ResolutionStats] = {}
        for r in resolution_query(wh, bounds, statuses, scope, by).to_pyarrow().to_pylist():
            s = out.setdefault(key_of(r), ResolutionStats())
            n = int(r["n"])
            out[key_of(r)] = ResolutionStats(
                s.filed + n,
                s.resolved + int(r["resolved"] or 0),
                s.days if r["days"] is None else {**s.days, int(r["days"]): n},
            )
        return out

    figures: Figures[ResolutionStats] = wh._remembered(key, count)
    return figures


def resolution_query(
    wh: Warehouse, bounds: Sequence[tuple[Any, Any]], statuses: Sequence[str], scope: Scope = (), by: str | None = None
) -> Any:
    """The Ibis expression behind `resolution_stats`: per period, segment and days to resolve (NULL when undated)
    the complaints filed and how many of them are resolved."""
    import ibis

    rows = wh._branches("complaints", "date", bounds, scope, by)
    values = sorted({s.strip().casefold() for s in statuses})
    if "status" in rows.columns and values:
        resolved = rows.status.cast("string").strip().lower().isin(values).fill_null(False)
    else:
        resolved = ibis.literal(False)
    if "resolved_on" in rows.columns:
        filed = rows.date.cast("date").epoch_days()
        days = rows.resolved_on.cast("date").epoch_days() - filed
    else:
        days = ibis.null("int64")
    rows = rows.mutate(days=days.cast("int64"), _resolved=resolved)
    return rows.aggregate(
        by=["pi", "split", "segment", "days"], n=rows.count(), resolved=rows.count(where=rows._resolved)
    )


@dataclass(frozen=True)
class SpendGroups:
    """Spend rows grouped by their text in the segment columns asked for: per group how many rows, and per period
    the share of their amounts inside it and how many rows it cuts (what metrics.spend.SpendRows holds)."""

    rows: list[int]
    values: dict[str, list[str | None]]
    shares: list[list[float]]  # [period][group]
    cuts: list[list[int]]
    columns: frozenset[str]


def spend_groups(wh: Warehouse, periods: Sequence[Days], dimensions: Sequence[str]) -> SpendGroups:
    """The Spend table spread over days as metrics.spend does (a row with an end_date covers date…end_date; a row
    without one covers its day, or its calendar month when every such row of its channel is on the 1st), summed per
    period and per group of `dimensions` values (those the table has), in one query."""
    key = ("spend", tuple(periods), tuple(dimensions))
    groups: SpendGroups = wh._remembered(key, lambda: _spend_groups(wh, periods, dimensions))
    return groups


def _spend_groups(wh: Warehouse, periods: Sequence[Days], dimensions: Sequence[str]) -> SpendGroups:
    columns = frozenset(spend_columns(wh))
    present = [d for d in dict.fromkeys(dimensions) if d in columns]
    query = spend_query(wh, periods, present)
    rows = query.to_pyarrow().to_pylist()
    return SpendGroups(
        rows=[int(r["rows"]) for r in rows],
        values={d: [r[f"v_{k}"] for r in rows] for k, d in enumerate(present)},
        shares=[[float(r[f"share_{i}"] or 0.0) for r in rows] for i in range(len(periods))],
        cuts=[[int(r[f"cut_{i}"] or 0) for r in rows] for i in range(len(periods))],
        columns=columns,
    )


def spend_columns(wh: Warehouse) -> list[str]:
    """The Spend table's columns (its canonical ones and its segment columns)."""
    s = wh.table("spend")
    return [] if s is None else list(s.columns)


def spend_query(wh: Warehouse, periods: Sequence[Days], present: Sequence[str]) -> Any:
    """The Ibis expression behind `spend_groups`: one row per group of the `present` columns' values (v_k), with
    rows, and per period i share_i (Σ amount × days inside / days covered) and cut_i (rows only partly inside)."""
    import ibis

    s = wh.table("spend")
    if s is None:
        raise ValueError("no spend table")
    day = s.date.cast("date")
    end = s.end_date.cast("date") if "end_date" in s.columns else ibis.null("date")
    channel = s.channel.cast("string") if "channel" in s.columns else ibis.null("string")
    single = day.notnull() & end.isnull()
    s = s.mutate(
        _day=day,
        _end=end,
        _single=single,
        _off=(single & (day.day() != 1)).fill_null(False),
        _channel=channel,
        _amount=s.amount.cast("float64").fill_null(0.0),
    )
    off = s._off.any().over(ibis.window(group_by=s._channel))
    first = s._day.epoch_days()
    ranged = s._end.notnull() & (s._end >= s._day)
    monthly = s._single & ~off
    days = (
        ibis.cases(
            (monthly, (s._day + ibis.interval(months=1)).epoch_days() - first),
            (ranged, s._end.epoch_days() - first + 1),
            else_=1,
        )
        .fill_null(1)
        .cast("int64")
    )
    spans = s.mutate(
        _first=first.fill_null(0).cast("int64"),
        _days=days,
        _amount=ibis.ifelse(s._day.notnull(), s._amount, 0.0),
        **{f"v_{k}": s[d].cast("string") for k, d in enumerate(present)},
    )
    sums: dict[str, Any] = {"rows": spans.count()}
    for i, (start, stop) in enumerate(periods):
        lo, hi = _epoch(start), _epoch(stop)
        overlap = ibis.greatest(
            ibis.least(spans._first + spans._days, ibis.literal(hi)) - ibis.greatest(spans._first, ibis.literal(lo)),
            0,
        )
        sums[f"share_{i}"] = (spans._amount * overlap / spans._days).sum()
        sums[f"cut_{i}"] = spans.count(where=(overlap > 0) & (overlap < spans._days))
    return spans.aggregate(by=[f"v_{k}" for k in range(len(present))], **sums)


def _epoch(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


@dataclass(frozen=True)
class RevenueStats:
    """What NRR and GRR read of a period P and its comparison period Q, in one segment: revenue in P, in Q, in P from
    customers new in P, customers with rows in Q; per customer min(max(revenue in P, 0), revenue in Q) summed over
    those with revenue in Q > 0, that revenue, and how many; revenue in Q without a customer."""

    revenue: float = 0.0
    base: float = 0.0
    new_revenue: float = 0.0
    base_customers: int = 0
    kept: float = 0.0
    positive_base: float = 0.0
    positive_customers: int = 0
    anonymous: float = 0.0


def revenue_stats(
    wh: Warehouse, pairs: Sequence[tuple[Days, Days]], scope: Scope = (), by: str | None = None
) -> Figures[RevenueStats]:
    """`RevenueStats` of each (P, Q) pair in one query, keyed like `flow_stats` (every Orders row counts, refunds
    included; new = signup in P as in metrics.customers)."""
    key = ("revenue", tuple(pairs), scope, by)
    figures: Figures[RevenueStats] = wh._remembered(key, lambda: _revenue_stats(wh, pairs, scope, by))
    return figures


def _revenue_stats(
    wh: Warehouse, pairs: Sequence[tuple[Days, Days]], scope: Scope, by: str | None
) -> Figures[RevenueStats]:
    rows = revenue_query(wh, pairs, scope, by).to_pyarrow().to_pylist()
    out: Figures[RevenueStats] = {}
    names = list(RevenueStats.__dataclass_fields__)
    for i in range(len(pairs)):
        sums = dict.fromkeys(names, 0.0)
        for row in rows:
            values = {n: row[f"{n}_{i}"] or 0 for n in names}
            if by and row["segment"] is not None:
                out[(i, str(row["segment"]))] = _revenue(values)
            if row["segment"] is not None or not scope:
                sums = {n: sums[n] + values[n] for n in names}
        out[(i, None)] = _revenue(sums)
    return out


def _revenue(values: dict[str, Any]) -> RevenueStats:
    counts = ("base_customers", "positive_customers")
    typed: dict[str, Any] = {n: int(v) if n in counts else float(v) for n, v in values.items()}
    return RevenueStats(**typed)


def revenue_query(wh: Warehouse, pairs: Sequence[tuple[Days, Days]], scope: Scope = (), by: str | None = None) -> Any:
    """The Ibis expression behind `revenue_stats`: per customer (NULL for rows without one) its revenue in each
    period, then per segment (NULL: customers in no segment, and rows without a customer) the sums."""
    import ibis

    o = wh.table("orders")
    if o is None:
        raise ValueError("no orders table")
    windows = [w for pair in pairs for w in pair]
    o = o.filter(o.order_date.notnull()).mutate(day=o.order_date.cast("date"), _amount=o.amount.fill_null(0.0))
    if windows:  # only the orders of some window are grouped per customer
        o = o.filter(ibis.or_(*(_between(o.day, w) for w in windows)))
    per = o.aggregate(
        by=["customer_id"],
        **{f"rev_{k}": o._amount.sum(where=_between(o.day, w)) for k, w in enumerate(windows)},
        **{f"rows_{k}": o.count(where=_between(o.day, w)) for k, w in enumerate(windows)},
    )
    signups = customer_base(wh).select("customer_id", "signup")
    per = per.left_join(signups, "customer_id").select(*(per[c] for c in per.columns), signups.signup)
    per = wh.with_segment(per, scope, by)
    known = per.customer_id.notnull()
    sums: dict[str, Any] = {}
    for i, (p, _) in enumerate(pairs):
        now, before = per[f"rev_{2 * i}"].fill_null(0.0), per[f"rev_{2 * i + 1}"].fill_null(0.0)
        new = per.signup.notnull() & _between(per.signup, p)
        positive = known & (before > 0)
        sums[f"revenue_{i}"] = now.sum()
        sums[f"base_{i}"] = before.sum()
        sums[f"new_revenue_{i}"] = now.sum(where=known & new)
        sums[f"base_customers_{i}"] = per.count(where=known & (per[f"rows_{2 * i + 1}"] > 0))
        sums[f"kept_{i}"] = ibis.least(ibis.greatest(now, 0.0), before).sum(where=positive)
        sums[f"positive_base_{i}"] = before.sum(where=positive)
        sums[f"positive_customers_{i}"] = per.count(where=positive)
        sums[f"anonymous_{i}"] = before.sum(where=~known)
    return per.aggregate(by=["segment"], **sums)


def _between(day: Any, period: Days) -> Any:
    """Whether a date falls in [first, end)."""
    import ibis

    return (day >= ibis.literal(period[0])) & (day < ibis.literal(period[1]))


@dataclass(frozen=True)
class RenewalStats:
    """One period's contracts in one segment: ending in it with a customer, of those renewed, and ending in it without
    a customer (what metrics.renewal.renewal_of reads)."""

    ending: int = 0
    renewed: int = 0
    anonymous: int = 0


def renewal_stats(
    wh: Warehouse, periods: Sequence[Days], grace_days: int, scope: Scope = (), by: str | None = None
) -> Figures[RenewalStats]:
    """`RenewalStats` of each period in one query, keyed like `flow_stats`."""
    key = ("renewal", tuple(periods), grace_days, scope, by)

    def count() -> Figures[RenewalStats]:
        out: Figures[RenewalStats] = {}
        for r in renewal_query(wh, periods, grace_days, scope, by).to_pyarrow().to_pylist():
            for i in range(len(periods)):
                k = (i, str(r["segment"]) if r["split"] else None)
                out[k] = RenewalStats(*(int(r[f"{n}_{i}"] or 0) for n in ("ending", "renewed", "anonymous")))
        return out

    figures: Figures[RenewalStats] = wh._remembered(key, count)
    return figures


def renewal_query(
    wh: Warehouse, periods: Sequence[Days], grace_days: int, scope: Scope = (), by: str | None = None
) -> Any:
    """The Ibis expression behind `renewal_stats`: each contract flagged renewed when another of the same customer
    starts after it, at most `grace_days` uncovered days after its end, and runs past that end (metrics.renewal's
    rule), then per segment the counts of each period."""
    import ibis

    s = wh.table("subscriptions")
    if s is None:
        raise ValueError("no subscriptions table")
    s = s.select("customer_id", "start_date", "end_date").mutate(_id=ibis.row_number())
    start, end = s.start_date.cast("date"), s.end_date.cast("date")
    s = s.mutate(_start=start, _end=end)
    nxt = s.select(_c2=s.customer_id, _s2=s._start, _e2=s._end, _id2=s._id)
    after = (nxt._s2 > s._start) | (s._start.isnull() & nxt._s2.notnull())
    ok = (
        (nxt._id2 != s._id)
        & after
        & (nxt._s2 <= s._end + ibis.interval(days=grace_days + 1))
        & (nxt._e2.isnull() | (nxt._e2 > s._end))
    )
    pairs = s.inner_join(nxt, [s.customer_id == nxt._c2, ok])
    renewed_ids = pairs.select(_rid=pairs._id).distinct()
    flagged = s.left_join(renewed_ids, s._id == renewed_ids._rid)
    flagged = flagged.select("customer_id", "_end", _renewed=flagged._rid.notnull())
    parts = []
    for split in (False, True) if by else (False,):
        t = flagged
        if scope or split:
            segments = wh._segments(scope, by if split else None)
            t = flagged.inner_join(segments, "customer_id").select(
                "customer_id", "_end", "_renewed", segment=segments.segment
            )
        else:
            t = t.mutate(segment=ibis.literal(""))
        parts.append(t.mutate(split=ibis.literal(split), segment=t.segment.cast("string")))
    rows = ibis.union(*parts, distinct=False)
    known = rows.customer_id.notnull()
    sums: dict[str, Any] = {}
    for i, p in enumerate(periods):
        inside = rows._end.notnull() & _between(rows._end, p)
        sums[f"ending_{i}"] = rows.count(where=inside & known)
        sums[f"renewed_{i}"] = rows.count(where=inside & known & rows._renewed)
        sums[f"anonymous_{i}"] = rows.count(where=inside & ~known)
    return rows.aggregate(by=["split", "segment"], **sums)
