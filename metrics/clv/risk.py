"""Churn-risk list: customers likely gone, ranked by the historical value at stake."""

from __future__ import annotations

import pandas as pd


def churn_risk(pred, historical_value: pd.Series, p_alive_below: float = 0.5) -> pd.DataFrame:
    """Customers with P(alive) < `p_alive_below`, ranked by value at stake = historical value × (1 − P(alive)).

    `pred` is a Prediction or a frame with a p_alive column, both indexed by customer_id;
    `historical_value` maps customer_id → value to date (customers absent from it count 0). Ties
    in value at stake rank by customer_id so the order is reproducible. Only ids leave this function.
    """
    frame = getattr(pred, "customers", pred)
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
