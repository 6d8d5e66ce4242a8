"""Per-customer predictions (P(alive), expected purchases, expected spend, predicted CLV) and the total's interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.clv.bgnbd import BGNBDFit, ParamsLike, expected_if_alive, p_alive
from metrics.clv.fitter import Param
from metrics.clv.gamma_gamma import GammaGammaFit, expected_spend
from metrics.clv.summary import unit_days

MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class Prediction:
    """Per-customer predictions and the predicted total CLV with its `level` interval (None if unavailable).

    `customers` is indexed by customer_id with p_alive, expected_purchases (in the horizon),
    expected_spend (per purchase) and predicted_clv (discounted, after gross margin).
    """

    customers: pd.DataFrame
    total_clv: float
    total_interval: tuple[float, float] | None
    level: float
    horizon_months: int
    draws: int


def predict(
    summary: pd.DataFrame,
    bgnbd: BGNBDFit,
    gamma_gamma: GammaGammaFit,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    freq: str | None = None,
    level: float = 0.8,
    draws: int = 200,
    seed: int = 0,
    max_histories: int = 500,
) -> Prediction:
    """Predict each customer's purchases, spend and CLV over `horizon_months`, and the total's interval.

    CLV = Σ_{i=1..H} (E[Y(i·m)] − E[Y((i−1)·m)]) · E[spend] · margin / (1 + d)^i, with m one average
    month (365.25/12 days) in the summary's time unit (`freq`, else `summary.attrs["freq"]`, else
    weeks) — the lifetimes `customer_lifetime_value` approach. The interval takes the `level`
    central range of the total over `draws` parameter sets drawn (seeded) from the asymptotic normal
    of the log-parameters (inverse Hessian at the optimum). With more than `max_histories` distinct
    customer histories, each draw is evaluated on a value-weighted sample of that many histories and
    scaled by the ratio to the point estimate on the same sample.
    """
    if horizon_months < 1:
        raise ValueError("horizon_months must be ≥ 1")
    if not 0 < level < 1:
        raise ValueError("level must lie in (0, 1)")
    freq = freq or summary.attrs.get("freq", "W")
    month = MONTH_DAYS / unit_days(freq)
    x = summary["frequency"].to_numpy(float)
    tx = summary["recency"].to_numpy(float)
    T = summary["T"].to_numpy(float)
    m = summary["monetary_value"].to_numpy(float)
    groups = _histories(x, tx, T, m)
    months = np.arange(1, horizon_months + 1)
    discount = (1.0 + discount_rate) ** -months
    disc_g, horizon_g = _discounted_purchases(bgnbd, groups, months * month, discount)
    spend = expected_spend(gamma_gamma, x, m)
    inv = groups["inverse"]
    clv = disc_g[inv] * spend * margin
    customers = pd.DataFrame(
        {
            "p_alive": p_alive(bgnbd, x, tx, T),
            "expected_purchases": horizon_g[inv],
            "expected_spend": spend,
            "predicted_clv": clv,
        },
        index=summary.index,
    )
    total = float(np.sum(clv))
    interval = _interval(
        bgnbd, gamma_gamma, groups, months * month, discount, margin, level, draws, seed, max_histories
    )
    return Prediction(customers, total, interval, level, horizon_months, draws)


def _histories(x: np.ndarray, tx: np.ndarray, T: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
    """Distinct (x, t_x, T, spend-x) histories with their customer count and summed positive spend."""
    spend_x = np.where(m > 0, x, 0.0)
    frame = pd.DataFrame({"x": x, "tx": tx, "T": T, "sx": spend_x, "m": np.where(m > 0, m, 0.0)})
    by = frame.groupby(["x", "tx", "T", "sx"], sort=False)
    keys = by["m"].agg(["size", "sum"]).reset_index()
    return {
        "x": keys["x"].to_numpy(float),
        "tx": keys["tx"].to_numpy(float),
        "T": keys["T"].to_numpy(float),
        "sx": keys["sx"].to_numpy(float),
        "n": keys["size"].to_numpy(float),
        "m_sum": keys["sum"].to_numpy(float),
        "inverse": by.ngroup().to_numpy(),
    }


def _discounted_purchases(
    params: ParamsLike, g: dict[str, np.ndarray], times: np.ndarray, discount: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Σ_i ΔE_i / (1+d)^i and E at the horizon per history; params may be arrays of shape (draws, 1)."""
    prev: float | np.ndarray = 0.0
    disc: float | np.ndarray = 0.0
    for t, d in zip(times, discount, strict=True):
        cur = expected_if_alive(params, t, g["x"], g["T"])
        disc = disc + (cur - prev) * d
        prev = cur
    alive = p_alive(params, g["x"], g["tx"], g["T"])
    return disc * alive, prev * alive


def _group_value(
    bg: ParamsLike,
    gg: tuple[Param, Param, Param],
    g: dict[str, np.ndarray],
    times: np.ndarray,
    discount: np.ndarray,
    margin: float,
    idx: slice | np.ndarray = slice(None),
) -> np.ndarray:
    """Discounted CLV summed over each history's customers; bg/gg may hold arrays of draws."""
    sub = {k: v[idx] for k, v in g.items() if k != "inverse"}
    disc, _ = _discounted_purchases(bg, sub, times, discount)
    p, q, gamma = gg
    spend_sum = p * (gamma * sub["n"] + sub["sx"] * sub["m_sum"]) / (p * sub["sx"] + q - 1)
    spend_sum = np.where(q > 1, spend_sum, np.nan)
    return disc * spend_sum * margin


def _interval(
    bg_fit: BGNBDFit,
    gg: GammaGammaFit,
    g: dict[str, np.ndarray],
    times: np.ndarray,
    discount: np.ndarray,
    margin: float,
    level: float,
    draws: int,
    seed: int,
    max_histories: int,
) -> tuple[float, float] | None:
    """The `level` interval of the total from parameter draws, or None without a usable covariance."""
    if bg_fit.cov_log is None or gg.cov_log is None or draws < 10:
        return None
    rng = np.random.default_rng(seed)
    bg_draw = np.exp(rng.multivariate_normal(bg_fit.log_params, bg_fit.cov_log, size=draws))
    gg_draw = np.exp(rng.multivariate_normal(gg.log_params, gg.cov_log, size=draws))
    bg = tuple(bg_draw[:, [i]] for i in range(4))
    gq = (gg_draw[:, [0]], gg_draw[:, [1]], gg_draw[:, [2]])
    point = _group_value(bg_fit, (gg.p, gg.q, gg.gamma), g, times, discount, margin)
    size = len(point)
    if size <= max_histories:
        totals = np.sum(_group_value(bg, gq, g, times, discount, margin), axis=1)
    else:
        weight = np.clip(np.nan_to_num(point), 0, None)
        if not weight.sum() > 0:
            return None
        idx = rng.choice(size, size=max_histories, replace=True, p=weight / weight.sum())
        ratio = _group_value(bg, gq, g, times, discount, margin, idx) / point[idx]
        totals = float(np.sum(point)) * np.mean(ratio, axis=1)
    ok = np.isfinite(totals)
    if ok.mean() < 0.9:
        return None
    lo, hi = np.quantile(totals[ok], [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
