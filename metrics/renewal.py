"""Renewal rate (续约率) from the optional Subscriptions tab.

Of the contracts whose end_date (the last day covered) falls in P, the share that were renewed. A
contract is renewed when the same customer has another contract that starts after it started, leaves
at most `renewal_grace_days` uncovered days after its end (starts no later than end_date + grace + 1
day), and runs past its end (end_date blank or later). So a seamless follow-on counts even with
grace 0, an overlapping early renewal counts however early it starts, and a concurrent or shorter
add-on contract does not. Contracts
without a customer_id cannot be matched: they are left out and reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult
from metrics.stats import proportion_result
from metrics.tables import Tables

COLUMNS = ["row", "customer_id", "start_date", "end_date"]


def renewed_contracts(subs: pd.DataFrame, ending: np.ndarray, grace_days: int) -> np.ndarray:
    """Boolean per row of `subs`: among the rows flagged in `ending`, those renewed by another row."""
    s = subs.assign(row=np.arange(len(subs)))[COLUMNS]
    pairs = s[ending].merge(s, on="customer_id", suffixes=("", "_next"))
    start = pairs["start_date"].fillna(pd.Timestamp.min)
    ok = (
        (pairs["row_next"] != pairs["row"])
        & (pairs["start_date_next"] > start)
        & (pairs["start_date_next"] <= pairs["end_date"] + pd.Timedelta(days=grace_days + 1))
        & (pairs["end_date_next"].isna() | (pairs["end_date_next"] > pairs["end_date"]))
    )
    out = np.zeros(len(subs), dtype=bool)
    out[pairs.loc[ok, "row"].to_numpy(dtype=np.int64)] = True
    return out


def renewal_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Contracts ending in P that were renewed within the grace period / contracts ending in P."""
    if "subscriptions" in t.missing:
        r = proportion_result("renewal", "Renewal rate", p, 0, 0, min_n=o.min_n)
        r.notes.append("add a Subscriptions tab with customer_id, start_date, end_date to compute the renewal rate")
        return r
    subs = t.subscriptions.reset_index(drop=True)
    in_p = p.mask(subs["end_date"]).to_numpy(dtype=bool)
    known = subs["customer_id"].notna().to_numpy(dtype=bool)
    ending = in_p & known
    renewed = renewed_contracts(subs, ending, o.renewal_grace_days) & ending
    anonymous = int((in_p & ~known).sum())
    excluded = int(t.excluded.get("subscriptions", 0))
    return renewal_of(int(renewed.sum()), int(ending.sum()), anonymous, excluded, p, o)


def renewal_of(
    renewed: int, ending: int, anonymous: int, excluded_rows: int, p: Period, o: MetricOptions
) -> MetricResult:
    """The same from the counts: `renewed` of `ending` contracts, `anonymous` left out (counted in memory or by a
    warehouse)."""
    notes = [] if ending else ["no contracts end in the period"]
    if anonymous:
        notes.append(
            f"{anonymous} contract{'s' if anonymous != 1 else ''} ending in the period without a customer_id left out"
        )
    return proportion_result(
        "renewal",
        "Renewal rate",
        p,
        renewed,
        ending,
        min_n=o.min_n,
        excluded_rows=excluded_rows + anonymous,
        details={
            "ending_contracts": ending,
            "renewed": renewed,
            "not_renewed": ending - renewed,
            "grace_days": o.renewal_grace_days,
        },
        notes=notes,
    )
