"""One-call customer model for the product: summary, BG/NBD + Gamma-Gamma fits, predictions, churn risk, RFM."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metrics.clv.rfm import rfm_base, rfm_scores
from metrics.clv.risk import churn_risk
from metrics.clv.summary import DateLike, customer_totals, summary_from_totals, unit_days
from metrics.customers import per_tables, sorted_codes
from metrics.options import MetricOptions
from metrics.tables import Tables

if TYPE_CHECKING:  # the fitters import scipy: only when a model is built (issue 16, lazy imports)
    from metrics.clv.bgnbd import BGNBDFit
    from metrics.clv.gamma_gamma import GammaGammaFit

MIN_REPEAT_CUSTOMERS = 20
FALLBACK = "showing historical CLV"
CACHE_SIZE = 4
COLUMNS = [
    "customer_id",
    "segment",
    "R",
    "F",
    "M",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "predicted_clv",
    "historical_value",
    "value_at_stake",
    "risk_rank",
]


@dataclass(frozen=True)
class ClvModel:
    """Everything the product shows about predicted value; read-only (it may be shared through the cache).

    `converged` is True only when both models fitted properly; otherwise `note` says why and the
    product shows historical CLV instead. When only the spend model failed, P(alive), expected
    purchases and the risk ranking are still filled in and predicted_clv is NaN. `customers` has one
    row per customer with a purchase up to as_of, sorted by predicted CLV (then historical value);
    historical_value = net revenue to date × gross margin; value_at_stake = historical_value ×
    (1 − P(alive)); risk_rank counts from 1 among customers with P(alive) below the risk threshold.
    """

    converged: bool
    note: str | None
    params: dict[str, float]
    customers: pd.DataFrame
    total_clv: float | None
    total_interval: tuple[float, float] | None
    interval_level: float
    horizon_months: int
    n_customers: int
    n_repeat: int
    excluded: dict[str, int] = field(default_factory=dict)
    bgnbd: BGNBDFit | None = None
    gamma_gamma: GammaGammaFit | None = None


_cache: OrderedDict[str, ClvModel] = OrderedDict()
_lock = threading.Lock()


def customer_model(orders: pd.DataFrame, as_of: DateLike, o: MetricOptions) -> ClvModel:
    """Fit and predict for every customer with orders up to `as_of` (inclusive), memoised per data snapshot."""
    missing = {"customer_id", "order_date", "amount"} - set(orders.columns)
    if missing:
        raise ValueError(f"orders lack column(s): {', '.join(sorted(missing))}")
    return _memoised(_snapshot_key(orders, as_of, o), lambda: _build(customer_totals(orders, as_of), as_of, o))


def customer_model_of(t: Tables, as_of: DateLike, o: MetricOptions) -> ClvModel:
    """`customer_model(t.orders, as_of, o)`, grouped by the snapshot's integer customer codes (no ids re-factorised,
    no rows hashed) and kept once per Tables object (a snapshot or one of its segments), as-of date and options."""
    key = "clv_model\0" + _options_key(hashlib.sha256(), as_of, o)
    return per_tables(t, key, lambda t: _build(customer_totals(t.orders, as_of, sorted_codes(t)), as_of, o))


def _memoised(key: str, build: Callable[[], ClvModel]) -> ClvModel:
    """The model cached under `key`, else `build()` cached there (the last CACHE_SIZE models are kept)."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    model = build()
    with _lock:
        _cache[key] = model
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def clear_cache() -> None:
    """Forget all memoised models."""
    with _lock:
        _cache.clear()


def _snapshot_key(orders: pd.DataFrame, as_of: DateLike, o: MetricOptions) -> str:
    rows = pd.util.hash_pandas_object(orders[["customer_id", "order_date", "amount"]], index=False)
    return _options_key(hashlib.sha256(rows.to_numpy().tobytes()), as_of, o)


def _options_key(h: Any, as_of: DateLike, o: MetricOptions) -> str:
    """The digest `h` of the data, extended with the as-of date and the options the model depends on."""
    h.update(
        repr(
            (str(pd.Timestamp(as_of).date()), o.gross_margin, o.horizon_months, o.discount_rate, o.risk_p_alive_below)
        ).encode()
    )
    return str(h.hexdigest())


def model_from_totals(totals: pd.DataFrame, as_of: DateLike, o: MetricOptions) -> ClvModel:
    """`customer_model` from per-customer totals (`metrics.clv.summary.customer_totals`, or the warehouse's one
    GROUP BY of the orders): the same fits and predictions, memoised per totals and options."""
    return _memoised("totals:" + _options_key(_digest(totals), as_of, o), lambda: _build(totals, as_of, o))


def _digest(totals: pd.DataFrame) -> Any:
    """A SHA-256 of the totals' ids and column bytes: the memo key, ~20× cheaper than hashing every row with pandas
    (9 s of CPU for 2 M warehouse customers)."""
    h = hashlib.sha256("\x1f".join(totals.index.astype(str).tolist()).encode())
    for name in totals.columns:
        h.update(name.encode())
        h.update(np.ascontiguousarray(totals[name].to_numpy()).tobytes())
    return h


def _build(totals: pd.DataFrame, as_of: DateLike, o: MetricOptions) -> ClvModel:
    from metrics.clv.bgnbd import BetaGeoFitter, conditional_expected_purchases, p_alive
    from metrics.clv.predict import MONTH_DAYS, predict

    summary = summary_from_totals(totals, as_of, freq="W")
    rfm = rfm_scores(rfm_base(totals, as_of))
    historical = rfm["monetary"] * o.gross_margin
    n_repeat = int((summary["frequency"] > 0).sum())
    model = partial(
        ClvModel,
        interval_level=0.8,
        horizon_months=o.horizon_months,
        n_customers=len(summary),
        n_repeat=n_repeat,
        excluded=dict(summary.attrs["excluded"]),
    )
    empty = pd.Series(np.nan, index=summary.index)
    if n_repeat < MIN_REPEAT_CUSTOMERS:
        note = f"too few repeat customers to fit the model ({n_repeat}, need {MIN_REPEAT_CUSTOMERS}); {FALLBACK}"
        frame = _customers(rfm, historical, empty, empty, empty, empty, o)
        return model(False, note, {}, frame, None, None)
    bg = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    if not bg.converged:
        frame = _customers(rfm, historical, empty, empty, empty, empty, o)
        return model(
            False,
            f"purchase model did not converge ({bg.message}); {FALLBACK}",
            bg.params,
            frame,
            None,
            None,
            bgnbd=bg,
        )
    gg = _fit_spend(summary)
    if gg is None or not gg.converged:
        why = gg.message if gg is not None else "too few repeat customers with positive spend"
        alive = pd.Series(p_alive(bg, summary["frequency"], summary["recency"], summary["T"]), index=summary.index)
        horizon = o.horizon_months * MONTH_DAYS / unit_days("W")
        purchases = pd.Series(
            conditional_expected_purchases(bg, horizon, summary["frequency"], summary["recency"], summary["T"]),
            index=summary.index,
        )
        frame = _customers(rfm, historical, alive, purchases, empty, empty, o)
        return model(
            False,
            f"spend model did not converge ({why}); {FALLBACK}",
            bg.params,
            frame,
            None,
            None,
            bgnbd=bg,
            gamma_gamma=gg,
        )
    pred = predict(summary, bg, gg, o.horizon_months, o.discount_rate, o.gross_margin, freq="W")
    c = pred.customers
    frame = _customers(
        rfm, historical, c["p_alive"], c["expected_purchases"], c["expected_spend"], c["predicted_clv"], o
    )
    if not np.isfinite(pred.total_clv):
        return model(
            False,
            f"model gave a non-finite CLV; {FALLBACK}",
            {**bg.params, **gg.params},
            frame,
            None,
            None,
            bgnbd=bg,
            gamma_gamma=gg,
        )
    return model(
        True,
        None,
        {**bg.params, **gg.params},
        frame,
        pred.total_clv,
        pred.total_interval,
        bgnbd=bg,
        gamma_gamma=gg,
    )


def _fit_spend(summary: pd.DataFrame) -> GammaGammaFit | None:
    from metrics.clv.gamma_gamma import GammaGammaFitter

    usable = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if usable.sum() < MIN_REPEAT_CUSTOMERS:
        return None
    return GammaGammaFitter().fit(summary["frequency"], summary["monetary_value"])


def _customers(
    rfm: pd.DataFrame,
    historical: pd.Series,
    alive: pd.Series,
    purchases: pd.Series,
    spend: pd.Series,
    clv: pd.Series,
    o: MetricOptions,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": rfm.index.astype("string"),
            "segment": rfm["segment"].to_numpy(),
            "R": rfm["R"].to_numpy(),
            "F": rfm["F"].to_numpy(),
            "M": rfm["M"].to_numpy(),
            "p_alive": alive.reindex(rfm.index).to_numpy(float),
            "expected_purchases": purchases.reindex(rfm.index).to_numpy(float),
            "expected_spend": spend.reindex(rfm.index).to_numpy(float),
            "predicted_clv": clv.reindex(rfm.index).to_numpy(float),
            "historical_value": historical.to_numpy(float),
        }
    )
    frame["value_at_stake"] = frame["historical_value"] * (1.0 - frame["p_alive"])
    ranked = churn_risk(frame.set_index("customer_id"), historical, o.risk_p_alive_below)
    frame["risk_rank"] = frame["customer_id"].map(ranked.set_index("customer_id")["risk_rank"]).astype("Int64")
    by_id = "customer_id"
    if rfm.index.is_unique and rfm.index.is_monotonic_increasing:  # ids in sorted order: positions sort as they do
        by_id = "_position"
        frame[by_id] = np.arange(len(frame))
    frame = frame.sort_values(
        ["predicted_clv", "historical_value", by_id],
        ascending=[False, False, True],
        na_position="last",
        kind="mergesort",
    )
    return frame.reset_index(drop=True)[COLUMNS]
