"""RFM segments: recency, frequency and monetary quintile scores (1–5) mapped to named segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.clv.summary import DateLike, customer_totals

SEGMENTS = ("Champions", "Loyal", "Potential", "New", "At risk", "Can't lose", "Hibernating", "Lost")

# Rows: R score 5..1; columns: FM score 1..5, FM = ⌈(F + M) / 2⌉. docs/clv.md shows this table.
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New", "Potential", "Potential", "Champions", "Champions"),
    4: ("New", "Potential", "Potential", "Loyal", "Champions"),
    3: ("Hibernating", "Potential", "Potential", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose"),
    1: ("Lost", "Lost", "At risk", "At risk", "Can't lose"),
}


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Score 1–5 by rank: ⌈5 · (average rank − ½) / n⌉, so ties share a score, all-equal values score 3,
    and few distinct values never fail."""
    if values.empty:
        return pd.Series(dtype="int64", index=values.index)
    rank = (values if higher_is_better else -values).rank(method="average")
    score = pd.Series(np.ceil(5 * (rank - 0.5) / len(values)), index=rank.index)  # numpy keeps the Series
    return score.clip(1, 5).astype("int64")


def segment_of(r: pd.Series, f: pd.Series, m: pd.Series) -> pd.Series:
    """Segment name for each (R, F, M) triple via SEGMENT_GRID."""
    fm = (f + m + 1) // 2
    grid = np.array([SEGMENT_GRID[s] for s in (1, 2, 3, 4, 5)], dtype=object)
    return pd.Series(grid[r.to_numpy() - 1, fm.to_numpy() - 1], index=r.index, dtype="string")


def rfm_segments(data: pd.DataFrame, as_of: DateLike | None = None) -> pd.DataFrame:
    """Per-customer recency, frequency, monetary, their scores R, F, M (1–5) and segment, indexed by customer_id.

    From orders (customer_id, order_date, amount) up to `as_of` (inclusive): recency = days since
    the last purchase day, frequency = purchase days, monetary = net amount to date (refunds
    included). From a `summarize` frame (as_of unused): recency = T − recency and frequency =
    frequency + 1 in the summary's unit, monetary = frequency × monetary_value (repeat spend only).
    """
    if {"frequency", "recency", "T", "monetary_value"} <= set(data.columns):
        base = pd.DataFrame(
            {
                "recency": data["T"] - data["recency"],
                "frequency": data["frequency"] + 1,
                "monetary": data["frequency"] * data["monetary_value"],
            },
            index=data.index,
        )
    else:
        if as_of is None:
            raise ValueError("as_of is required when rfm_segments is given orders")
        base = rfm_base(customer_totals(data, as_of), as_of)
    return rfm_scores(base)


def rfm_base(totals: pd.DataFrame, as_of: DateLike) -> pd.DataFrame:
    """Recency (days since the last purchase day), frequency (purchase days) and monetary (net amount to date) from a
    `customer_totals` frame, from memory or from the warehouse."""
    end = pd.Timestamp(as_of).normalize()
    return pd.DataFrame(
        {
            "recency": (end - pd.to_datetime(totals["last"])).dt.days.astype(float),
            "frequency": totals["purchase_days"].astype("int64"),
            "monetary": totals["net"].astype(float),
        },
        index=totals.index,
    )


def rfm_scores(base: pd.DataFrame) -> pd.DataFrame:
    """R, F, M scores (1–5) and the segment of each customer of an RFM base frame."""
    out = base.assign(
        R=quintile_score(base["recency"], higher_is_better=False),
        F=quintile_score(base["frequency"]),
        M=quintile_score(base["monetary"]),
    )
    out["segment"] = segment_of(out["R"], out["F"], out["M"])
    out.index.name = "customer_id"
    return out
