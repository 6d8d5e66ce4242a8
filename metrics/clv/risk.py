"""Churn-risk list: customers likely gone, ranked by the historical value at stake."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pandas as pd

from metrics.customers import churn_events
from metrics.options import MetricOptions
from metrics.tables import Tables


class HasCustomers(Protocol):
    """A Prediction, or anything else with a per-customer frame."""

    @property
    def customers(self) -> pd.DataFrame: ...


def churn_risk(
    pred: HasCustomers | pd.DataFrame, historical_value: pd.Series, p_alive_below: float = 0.5
) -> pd.DataFrame:
    """Customers with P(alive) < `p_alive_below`, ranked by value at stake = historical value × (1 − P(alive)).

    `pred` is a Prediction or a frame with a p_alive column, both indexed by customer_id;
    `historical_value` maps customer_id → value to date (customers absent from it count 0). Ties
    in value at stake rank by customer_id so the order is reproducible. Only ids leave this function.
    """
    frame = pred if isinstance(pred, pd.DataFrame) else pred.customers
    if "p_alive" not in frame.columns:
        raise ValueError("pred has no p_alive column")
    if not 0 < p_alive_below <= 1:
        raise ValueError("p_alive_below must lie in (0, 1]")
    p = frame["p_alive"].astype(float)
    value = historical_value.astype(float).reindex(frame.index).fillna(0.0)
    out = pd.DataFrame(
        {
            "customer_id": frame.index.astype("string"),
            "p_alive": p.to_numpy(),
            "historical_value": value.to_numpy(),
            "value_at_stake": (value * (1.0 - p)).to_numpy(),
        }
    )
    out = out[out["p_alive"] < p_alive_below]
    out = out.sort_values(["value_at_stake", "customer_id"], ascending=[False, True], kind="mergesort")
    out["risk_rank"] = pd.array(range(1, len(out) + 1), dtype="Int64")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class RiskList:
    """The churn-risk list as shown: still-active customers below the P(alive) threshold, ranked from 1.

    `already_churned` counts the customers below the threshold who had already churned at the as-of date
    (a loss, not a risk): they are not in `customers` nor in `value_at_stake`; `churned_value` is their
    historical value, for reference."""

    customers: pd.DataFrame
    value_at_stake: float
    already_churned: int
    churned_value: float

    @property
    def at_risk(self) -> int:
        return len(self.customers)


def churn_dates(t: Tables, as_of: date, o: MetricOptions) -> pd.Series:
    """customer_id → the date the churn began, for customers already churned at `as_of` by the churn rule in
    force (explicit churned_on with no later order, or inactivity); `t` should be the whole workbook so
    `auto` resolves as for every metric."""
    return churn_dates_of(churn_events(t, as_of, o))


def churn_dates_of(events: pd.DataFrame) -> pd.Series:
    """`churn_dates` from a `churn_events` frame (the snapshot's, or one built from the warehouse's per-customer
    days): the finishing part both paths share."""
    gone = events[events["churn_date"].notna()]
    return pd.Series(gone["churn_date"].to_numpy(), index=pd.Index(gone["customer_id"].astype(str), name="customer_id"))


def churned_ids(t: Tables, as_of: date, o: MetricOptions) -> set[str]:
    """The ids of `churn_dates`: customers that are a loss at `as_of`, no longer a risk."""
    return set(churn_dates(t, as_of, o).index)


def risk_list(customers: pd.DataFrame, churned: Iterable[str], keep: Iterable[str] | None = None) -> RiskList:
    """The risk list from a model's `customers` frame (with risk_rank, value_at_stake): the ranked customers
    minus those in `churned`, narrowed to `keep` when given (a `where` segment), re-ranked by value at stake."""
    ranked = customers[customers["risk_rank"].notna()]
    if keep is not None:
        ranked = ranked[ranked["customer_id"].astype(str).isin(set(map(str, keep)))]
    gone = ranked["customer_id"].astype(str).isin(set(churned))
    listed = ranked[~gone].sort_values(["value_at_stake", "customer_id"], ascending=[False, True], kind="mergesort")
    listed = listed.reset_index(drop=True)
    listed["risk_rank"] = pd.array(range(1, len(listed) + 1), dtype="Int64")
    return RiskList(
        customers=listed,
        value_at_stake=float(listed["value_at_stake"].sum()),
        already_churned=int(gone.sum()),
        churned_value=float(ranked.loc[gone, "historical_value"].sum()),
    )


def churned_note(n: int) -> str | None:
    """ "12 customers already churned, not listed" — the line that accounts for the losses left out."""
    if not n:
        return None
    return f"{n:,} customer{'s' if n != 1 else ''} already churned, not listed"
