"""predict: per-customer P(alive), expected purchases, spend and discounted CLV, and the total's interval."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from metrics.clv import BGNBDFit, GammaGammaFit, conditional_expected_purchases, predict

R, ALPHA, A, B = 0.5, 2.0, 1.5, 3.0
P, Q, GAMMA = 2.0, 3.0, 4.0


def _bg() -> BGNBDFit:
    return BGNBDFit(r=R, alpha=ALPHA, a=A, b=B, loglik=0.0, converged=True, iterations=0, message="converged", n=0)


def _gg() -> GammaGammaFit:
    return GammaGammaFit(p=P, q=Q, gamma=GAMMA, loglik=0.0, converged=True, iterations=0, message="converged", n=0)


def _literal_expectation(t, x, tx, T):
    z = t / (ALPHA + T + t)
    bracket = 1 - ((ALPHA + T) / (ALPHA + T + t)) ** (R + x) * hyp2f1(R + x, B + x, A + B + x - 1, z)
    denom = 1 + (x > 0) * A / (B + x - 1) * ((ALPHA + T) / (ALPHA + tx)) ** (R + x)
    return (A + B + x - 1) / (A - 1) * bracket / denom


SUMMARY = pd.DataFrame(
    {"frequency": [2, 0], "recency": [4.0, 0.0], "T": [6.0, 3.0], "monetary_value": [5.0, 0.0]},
    index=pd.Index(["c1", "c2"], name="customer_id"),
)


def test_clv_by_hand():
    """Months as the unit, 2-month horizon, 1 % a month, margin 0.5:
    CLV = [E(1)/1.01 + (E(2) − E(1))/1.01²] · spend · 0.5, spend = (γ + x z̄)p/(px+q−1)."""
    pred = predict(SUMMARY, _bg(), _gg(), horizon_months=2, discount_rate=0.01, margin=0.5, freq="M")
    c = pred.customers
    for cid, spend in (("c1", (GAMMA + 2 * 5.0) * P / (2 * P + Q - 1)), ("c2", P * GAMMA / (Q - 1))):
        row = SUMMARY.loc[cid]
        e1, e2 = (_literal_expectation(t, row["frequency"], row["recency"], row["T"]) for t in (1.0, 2.0))
        assert c.loc[cid, "expected_purchases"] == pytest.approx(e2, rel=1e-9)
        assert c.loc[cid, "expected_spend"] == pytest.approx(spend, rel=1e-12)
        assert c.loc[cid, "predicted_clv"] == pytest.approx((e1 / 1.01 + (e2 - e1) / 1.01**2) * spend * 0.5, rel=1e-9)
    assert c.loc["c2", "p_alive"] == 1.0
    assert pred.total_clv == pytest.approx(c["predicted_clv"].sum())
    assert pred.total_interval is None  # the fits carry no covariance


def test_weeks_use_average_month_and_no_discount_is_horizon_total():
    pred = predict(SUMMARY, _bg(), _gg(), horizon_months=12, discount_rate=0.0, margin=1.0, freq="W")
    horizon = 12 * 365.25 / 12 / 7
    e = conditional_expected_purchases(_bg(), horizon, SUMMARY["frequency"], SUMMARY["recency"], SUMMARY["T"])
    c = pred.customers
    assert c["expected_purchases"].to_numpy() == pytest.approx(e, rel=1e-12)
    assert c["predicted_clv"].to_numpy() == pytest.approx(e * c["expected_spend"].to_numpy(), rel=1e-9)


def test_freq_defaults_to_summary_attrs():
    weekly = SUMMARY.copy()
    weekly.attrs["freq"] = "M"
    assert predict(weekly, _bg(), _gg()).total_clv == pytest.approx(predict(SUMMARY, _bg(), _gg(), freq="M").total_clv)


def test_cdnow_interval_is_seeded_and_sampling_histories_barely_moves_it(cdnow, cdnow_bgnbd, cdnow_gg):
    exact = predict(cdnow, cdnow_bgnbd, cdnow_gg, draws=100, max_histories=5000)
    lo, hi = exact.total_interval
    assert lo < exact.total_clv < hi
    assert 0.02 < (hi - lo) / exact.total_clv < 0.5
    sampled = predict(cdnow, cdnow_bgnbd, cdnow_gg, draws=100, max_histories=300)
    assert sampled.total_interval == pytest.approx(exact.total_interval, rel=0.02)
    assert predict(cdnow, cdnow_bgnbd, cdnow_gg, draws=100, max_histories=300).total_interval == sampled.total_interval


def test_interval_needs_covariance(cdnow, cdnow_bgnbd, cdnow_gg):
    no_cov = dataclasses.replace(cdnow_bgnbd, cov_log=None, covariance=None)
    assert predict(cdnow, no_cov, cdnow_gg).total_interval is None


def test_invalid_arguments():
    with pytest.raises(ValueError, match="horizon_months"):
        predict(SUMMARY, _bg(), _gg(), horizon_months=0)
    with pytest.raises(ValueError, match="level"):
        predict(SUMMARY, _bg(), _gg(), level=1.0)
    assert np.isnan(predict(SUMMARY, _bg(), dataclasses.replace(_gg(), q=0.9)).total_clv)
