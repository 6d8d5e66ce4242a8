"""The per-customer days of a SQL source turned into what the survival curve reads (issue 18): `churn_events` as of a
day, and the restricted mean lifetime of CLV's `clv.lifetime_years = "survival"` per period and segment, from one
query of the warehouse's per-customer days (`sheets.warehouse.series.days_query`/`days_of`), finished by the same
functions of metrics/ as in memory. It imports nothing else of bot/, so the pushed-down metrics (bot/pushdown_people.py)
and the pushed series (bot/pushed_series.py) can both use it without an import circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from metrics.customers import NEVER, Mode, churn_starts, events_frame, to_days
from metrics.options import MetricOptions
from metrics.survival import durations, restricted_mean_of


def events_of(
    wh: Any, as_of: date, o: MetricOptions, scope: tuple[tuple[str, str], ...] = (), by: str | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """`churn_events` of the customers in `scope` (dimension, value as the data spells it)."""
    from sheets.warehouse.series import days_query

    return _events(days_query(wh, as_of, scope, by).to_pyarrow(), "last_order", as_of, o, by)


def _events(
    rows: Any, last_order: str, as_of: date, o: MetricOptions, by: str | None
) -> tuple[pd.DataFrame, pd.Series]:
    """`churn_events` as of `as_of` from the per-customer days (Arrow; the last order up to it in column
    `last_order`), with each row's segment."""
    ids = pd.Index(rows.column("customer_id").to_pandas().to_numpy(dtype=object), dtype=object, name="customer_id")
    signup = _days(rows.column("signup"))
    churned = _days(rows.column("churned"))
    last = _days(rows.column(last_order))
    d = int((pd.Timestamp(as_of) - pd.Timestamp(0)).days)
    mode: Mode = "explicit" if o.churn_mode == "explicit" else "inactivity"
    if mode == "explicit":
        churn = churn_starts(mode, d, o, signup, churned, back=(last != NEVER) & (last > churned) & (churned != NEVER))
    else:
        churn = churn_starts(mode, d, o, signup, churned, last_order=np.where(last == NEVER, -NEVER, last))
    order = np.argsort(ids.to_numpy(dtype=str), kind="stable")
    segments = np.asarray(rows.column("segment").to_pylist(), dtype=object)[order]
    signed = signup[order] <= d
    events = events_frame(ids[order], signup[order], churn[order], d)
    return events, pd.Series(segments[signed], index=events.index, name=by or "segment")


def survival_years(
    wh: Any, days: Sequence[date], o: MetricOptions, scope: tuple[tuple[str, str], ...] = (), by: str | None = None
) -> list[dict[str | None, float | None]]:
    """`metrics.survival.restricted_mean_lifetime_years` (options already resolved) as of each of `days`: of the
    customers in `scope` under None and of each segment of `by` under its value (the Customers rows with it, as
    `metrics.engine.segment_tables`), from one query of the warehouse's per-customer days; None without churn."""
    key = ("survival years", tuple(days), scope, by, o.churn_mode, o.churn_after_days, o.clv_max_lifetime_years)
    years: list[dict[str | None, float | None]] = wh._remembered(key, lambda: _survival_years(wh, days, o, scope, by))
    return years


def _survival_years(
    wh: Any, days: Sequence[date], o: MetricOptions, scope: tuple[tuple[str, str], ...], by: str | None
) -> list[dict[str | None, float | None]]:
    from sheets.warehouse.series import days_of

    rows = days_of(wh, days, scope, by).to_pyarrow()
    out: list[dict[str | None, float | None]] = []
    for k, as_of in enumerate(days):
        events, segments = _events(rows, f"upto_{k}", as_of, o, by)
        data = durations(events, as_of)
        years: dict[str | None, float | None] = {None: restricted_mean_of(data, o)}
        if by:
            for segment in segments.dropna().unique():
                years[str(segment)] = restricted_mean_of(data[(segments == segment).to_numpy()], o)
        out.append(years)
    return out


def _days(column: Any) -> np.ndarray:
    """An Arrow date column as day numbers, NEVER for null."""
    from sheets.warehouse.series import arrow_dates

    return to_days(arrow_dates(column))
