"""Per-customer RFM summary (frequency, recency, T, mean repeat spend) from an orders frame at a calibration date."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from metrics.customers import SortedCodes

# A calibration date as callers give it: a date, a Timestamp or an ISO string.
DateLike = str | date | pd.Timestamp | np.datetime64

UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
"""Length of one time unit in days; a month is the average calendar month."""


def unit_days(freq: str) -> float:
    """Days per time unit, with a clear error for an unknown unit."""
    try:
        return UNIT_DAYS[freq]
    except KeyError:
        raise ValueError(f"freq must be one of {', '.join(UNIT_DAYS)} (days, weeks, months), got {freq!r}") from None


def as_days(dates: pd.Series) -> pd.Series:
    """Dates as midnight timestamps; unparseable values become NaT."""
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce")
    midnight: pd.Series = dates.dt.normalize()
    return midnight


TOTALS = ("purchase_days", "first", "last", "repeat_spend", "net")
"""Columns of a per-customer totals frame: what `summarize` and `rfm_segments` need of the orders, and all a warehouse
returns for them (one GROUP BY), so both paths share `summary_from_totals`."""


def summarize(orders: pd.DataFrame, calibration_end: DateLike, freq: str = "W") -> pd.DataFrame:
    """Per-customer frequency, recency, T and monetary_value from orders up to `calibration_end` (inclusive).

    Purchases are rows with amount ≥ 0 on or before the calibration end; refunds (negative amounts)
    are not purchases and are left out of spend. Orders on the same day are one purchase (their
    amounts add up), as in the published CDNOW summary and the lifetimes library:
    frequency = purchase days − 1, recency = last − first purchase day, T = calibration end − first
    purchase day, both in `freq` units ("D", "W", "M" = 365.25/12 days); monetary_value = mean of
    the repeat purchase days' totals (0 for customers without a repeat purchase).

    Rows without a customer, date or amount cannot be used; the counts of rows left out are in
    `result.attrs["excluded"]` (invalid, refunds, after_end) and the unit in `result.attrs["freq"]`.
    """
    return summary_from_totals(customer_totals(orders, calibration_end), calibration_end, freq)


def customer_totals(orders: pd.DataFrame, calibration_end: DateLike, codes: SortedCodes | None = None) -> pd.DataFrame:
    """The aggregate part of `summarize`: per customer with a purchase up to `calibration_end`, its purchase days,
    first and last purchase day, the repeat days' spend (purchases after the first day) and the net amount (refunds
    included), indexed by customer_id and sorted; the rows left out are counted in `attrs["excluded"]`.

    Grouped by integer customer codes in sorted id order: `codes` (the snapshot's, aligned with `orders`' rows),
    else the ids factorised once here."""
    missing = {"customer_id", "order_date", "amount"} - set(orders.columns)
    if missing:
        raise ValueError(f"orders lack column(s): {', '.join(sorted(missing))}")
    end = pd.Timestamp(calibration_end).normalize()
    day = as_days(orders["order_date"])
    amount = pd.to_numeric(orders["amount"], errors="coerce")
    code, ids = _codes(orders["customer_id"]) if codes is None else (codes.code, codes.ids)
    invalid = (code < 0) | day.isna().to_numpy() | ~np.isfinite(amount.to_numpy(dtype=float, na_value=np.nan))
    refund = ~invalid & (amount < 0).to_numpy()
    late = ~invalid & (day > end).to_numpy()
    keep = ~(invalid | refund | late)
    daily = (
        pd.DataFrame({"code": code[keep], "day": day[keep].to_numpy(), "amount": amount[keep].to_numpy()})
        .groupby(["code", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    by = daily.groupby("code", sort=True)
    first = by["day"].transform("min")
    repeat = daily[daily["day"] > first]
    upto = ~invalid & ~late
    net = amount[upto].groupby(code[upto]).sum()
    out = pd.DataFrame({"purchase_days": by.size(), "first": by["day"].min(), "last": by["day"].max()})
    out["repeat_spend"] = repeat.groupby("code")["amount"].sum().reindex(out.index).fillna(0.0)
    out["net"] = net.reindex(out.index).fillna(0.0)
    out.index = pd.Index(ids.take(out.index.to_numpy()), name="customer_id")
    out.attrs["excluded"] = {
        "invalid": int(invalid.sum()),
        "refunds": int(refund.sum()),
        "after_end": int((late & ~refund).sum()),
    }
    return out


def _codes(customer: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of the ids as text, numbered in sorted order (-1 where blank), and the sorted ids."""
    code, ids = pd.factorize(customer.astype("string"), sort=True)
    return np.asarray(code, dtype=np.int64), pd.Index(ids, dtype="string")


def summary_from_totals(totals: pd.DataFrame, calibration_end: DateLike, freq: str = "W") -> pd.DataFrame:
    """The finishing part of `summarize`, shared with the warehouse: frequency, recency, T and monetary_value in
    `freq` units from a `customer_totals` frame (from memory or from one GROUP BY in the database)."""
    days = unit_days(freq)
    end = pd.Timestamp(calibration_end).normalize()
    first, last = pd.to_datetime(totals["first"]), pd.to_datetime(totals["last"])
    frequency = totals["purchase_days"].astype("int64") - 1
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days / days,
            "T": (end - first).dt.days / days,
            "monetary_value": (totals["repeat_spend"] / frequency.where(frequency > 0)).fillna(0.0).astype(float),
        },
        index=totals.index,
    )
    out.index.name = "customer_id"
    out.attrs["freq"] = freq
    out.attrs["excluded"] = dict(totals.attrs.get("excluded", {}))
    return out
