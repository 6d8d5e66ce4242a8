"""BG/NBD: likelihood, fit on CDNOW against Fader-Hardie-Lee (2005), expectations, P(alive), recovery."""

import math

import numpy as np
import pytest
from scipy.special import hyp2f1

from metrics.clv import BetaGeoFitter, conditional_expected_purchases, expected_purchases, p_alive
from metrics.clv.bgnbd import _loglik_grad, loglik
from metrics.clv.simulate import simulate_bgnbd

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARAMS = (0.5, 2.0, 1.5, 3.0)


def test_cdnow_parameters_match_fader_hardie_lee(cdnow_bgnbd):
    """Published to 3 decimals (log-likelihood to 1): agree within one unit of the last published digit."""
    fit = cdnow_bgnbd
    assert fit.converged, fit.message
    for name, value in PUBLISHED.items():
        assert getattr(fit, name) == pytest.approx(value, abs=1e-3), name
    assert fit.loglik == pytest.approx(-9582.4, abs=0.1)
    assert fit.n == 2357


def test_fit_unpacks_as_issue_tuple(cdnow_bgnbd):
    r, alpha, a, b, ll = cdnow_bgnbd
    assert (r, alpha, a, b, ll) == (cdnow_bgnbd.r, cdnow_bgnbd.alpha, cdnow_bgnbd.a, cdnow_bgnbd.b, cdnow_bgnbd.loglik)
    assert set(cdnow_bgnbd.stderr) == {"r", "alpha", "a", "b"}
    assert cdnow_bgnbd.covariance.shape == (4, 4)


def test_loglik_by_hand():
    """(r, α, a, b) = (0.5, 2, 1.5, 3): x = 0, T = 6 → (α/(α+T))^r = 0.5; x = 1, t_x = 2, T = 6 →
    b/(a+b)·r·α^r/(α+T)^(r+1) + a/(a+b)·r·α^r/(α+t_x)^(r+1) = (2/3)(0.5)√2/8^1.5 + (1/3)(0.5)√2/4^1.5."""
    second = (2 / 3) * 0.5 * math.sqrt(2) / 8**1.5 + (1 / 3) * 0.5 * math.sqrt(2) / 4**1.5
    got = loglik(PARAMS, [0, 1], [0, 2], [6, 6])
    assert got == pytest.approx([math.log(0.5), math.log(second)], rel=1e-12)


def test_loglik_stable_for_large_frequency_and_age():
    ll = loglik((0.243, 4.414, 0.793, 2.426), [5000, 0, 3], [9999.0, 0.0, 1.0], [10000.0, 1e6, 1e6])
    assert np.all(np.isfinite(ll))


def test_gradient_matches_finite_differences():
    x = np.array([0, 1, 4, 12, 0])
    tx = np.array([0, 2.0, 10.0, 30.0, 0])
    T = np.array([6, 6, 20.0, 31.0, 40.0])
    u = np.log(PARAMS)
    _, grad = _loglik_grad(PARAMS, x, tx, T, want_grad=True)
    h = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = h
        up = loglik(np.exp(u + e), x, tx, T).sum()
        down = loglik(np.exp(u - e), x, tx, T).sum()
        assert grad[i] == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_p_alive_by_hand():
    """odds dead = a/(b+x−1)·((α+T)/(α+t_x))^(r+x) = 1.5/3 · 2^1.5 = √2 → P(alive) = 1/(1+√2); x = 0 → 1."""
    assert p_alive(PARAMS, [1, 0], [2, 0], [6, 6]) == pytest.approx([1 / (1 + math.sqrt(2)), 1.0], rel=1e-12)


def test_hardie_excel_expectations(cdnow_bgnbd):
    """Values from Hardie's BG/NBD spreadsheet (4 decimals; his Excel solver stops a little off the optimum)."""
    assert conditional_expected_purchases(cdnow_bgnbd, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)
    times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    excel = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    assert expected_purchases(cdnow_bgnbd, times) == pytest.approx(excel, abs=5e-4)


def test_transformed_expectation_equals_textbook_formula():
    """FHL eq. 10 written literally with the untransformed 2F1, for moderate x where it is still accurate."""
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    for x, tx, T, t in [(2, 30.43, 38.86, 39.0), (0, 0.0, 38.86, 10.0), (7, 20.0, 35.0, 52.0)]:
        z = t / (alpha + T + t)
        bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        denom = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
        literal = (a + b + x - 1) / (a - 1) * bracket / denom
        assert conditional_expected_purchases((r, alpha, a, b), t, x, tx, T) == pytest.approx(literal, rel=1e-9)
    ts = np.array([1.0, 39.0, 78.0])
    literal = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + ts)) ** r * hyp2f1(r, b, a + b - 1, ts / (alpha + ts)))
    assert expected_purchases((r, alpha, a, b), ts) == pytest.approx(literal, rel=1e-9)


def test_expectations_match_exact_simulation():
    """Law of total expectation: the mean of E[Y(t)|history] and P(alive) over simulated customers equals the
    simulated mean of future purchases and the share still alive; E[X(t)] equals the mean count in (0, t]."""
    rng = np.random.default_rng(7)
    params = tuple(PUBLISHED.values())
    d = simulate_bgnbd(*params, rng.uniform(20, 40, 100_000), rng, horizon=39.0)
    predicted = conditional_expected_purchases(params, 39.0, d["frequency"], d["recency"], d["T"])
    diff = d["future"] - predicted
    assert abs(diff.mean()) < 4 * diff.std() / math.sqrt(len(d))
    alive = d["alive"] - p_alive(params, d["frequency"], d["recency"], d["T"])
    assert abs(alive.mean()) < 4 * alive.std() / math.sqrt(len(d))
    fresh = simulate_bgnbd(*params, np.full(100_000, 52.0), rng)
    gap = fresh["frequency"].mean() - expected_purchases(params, 52.0)
    assert abs(gap) < 4 * fresh["frequency"].std() / math.sqrt(len(fresh))


def test_recovers_simulated_parameters():
    rng = np.random.default_rng(2005)
    truth = tuple(PUBLISHED.values())
    d = simulate_bgnbd(*truth, rng.uniform(26, 39, 20_000), rng)
    fit = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    assert fit.converged, fit.message
    for (name, value), se in zip(PUBLISHED.items(), fit.stderr.values()):
        assert abs(getattr(fit, name) - value) < 4 * se, name
        assert se < 0.25 * value


def test_standard_errors_match_spread_of_refits():
    """The inverse-Hessian standard errors (used for the CLV interval) agree with the spread over replications."""
    rng = np.random.default_rng(11)
    truth = tuple(PUBLISHED.values())
    logs, ses = [], []
    for _ in range(40):
        d = simulate_bgnbd(*truth, rng.uniform(26, 39, 2000), rng)
        fit = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
        assert fit.converged, fit.message
        logs.append(fit.log_params)
        ses.append(np.sqrt(np.diag(fit.cov_log)))
    ratio = np.std(logs, axis=0, ddof=1) / np.median(ses, axis=0)
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio


def test_duplicated_rows_weigh_like_counts(cdnow):
    single = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    double = BetaGeoFitter().fit(*(np.tile(cdnow[c].to_numpy(), 2) for c in ("frequency", "recency", "T")))
    assert double.loglik == pytest.approx(2 * single.loglik, rel=1e-9)
    assert double.r == pytest.approx(single.r, rel=1e-5)


def test_time_unit_rescales_alpha_and_loglik(cdnow, cdnow_bgnbd):
    """In days α is 7× larger, r, a, b unchanged, and ln L drops by Σx·ln 7 (densities of the purchase times)."""
    days = BetaGeoFitter().fit(cdnow["frequency"], 7 * cdnow["recency"], 7 * cdnow["T"])
    assert days.alpha == pytest.approx(7 * cdnow_bgnbd.alpha, rel=1e-4)
    assert days.r == pytest.approx(cdnow_bgnbd.r, rel=1e-4)
    assert days.loglik == pytest.approx(cdnow_bgnbd.loglik - cdnow["frequency"].sum() * math.log(7), abs=1e-3)


def test_penalizer_shrinks_parameters(cdnow, cdnow_bgnbd):
    pen = BetaGeoFitter(penalizer=0.1).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert pen.converged
    assert sum(v * v for v in pen.params.values()) < sum(v * v for v in cdnow_bgnbd.params.values())
    assert pen.loglik < cdnow_bgnbd.loglik


@pytest.mark.parametrize(
    "args, message",
    [
        (([1, -1], [1, 0], [2, 2]), "whole number"),
        (([1.5], [1], [2]), "whole number"),
        (([1], [3], [2]), r"recency must lie in \[0, T\]"),
        (([0], [1], [2]), "recency must be 0"),
        (([1, 2], [1], [2]), "differ in length"),
        (([1], [np.nan], [2]), "non-finite"),
        (([], [], []), "no customers"),
    ],
)
def test_invalid_input_is_a_clear_error(args, message):
    with pytest.raises(ValueError, match=message):
        BetaGeoFitter().fit(*args)


def test_no_dropout_data_is_reported_not_crashed():
    """Pure NBD data (nobody drops out) pushes b to its bound: converged=False with a reason, finite numbers."""
    rng = np.random.default_rng(3)
    T = rng.uniform(26, 39, 3000)
    lam = rng.gamma(0.5, 1 / 4.0, T.size)
    n = rng.poisson(lam * T)
    tx = np.where(n > 0, T * rng.beta(np.maximum(n, 1), 1), 0.0)
    fit = BetaGeoFitter().fit(n, tx, T)
    assert not fit.converged and fit.message
    assert np.isfinite(fit.loglik)


def test_expectation_where_scipy_hyp2f1_returns_nan():
    """a + b − 1 − r = 1 exactly with large x makes scipy's 2F1 return NaN; the value must stay finite and
    continuous in the parameters."""
    e = conditional_expected_purchases((1.01, 0.01, 0.01, 3.0), 1.0, 127, 0.0, 0.0)
    near = conditional_expected_purchases((1.01 + 1e-7, 0.01, 0.01, 3.0), 1.0, 127, 0.0, 0.0)
    assert np.isfinite(e) and e == pytest.approx(near, rel=1e-5)


def test_fast_total_equals_row_likelihood():
    """The fit's rearranged total (x = 0 rows apart, gamma terms per distinct x) equals Σ w·loglik and its gradient."""
    from metrics.clv.bgnbd import _total_loglik

    rng = np.random.default_rng(1)
    d = simulate_bgnbd(*PUBLISHED.values(), rng.uniform(20, 40, 3000), rng)
    x, tx, T = (d[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = rng.integers(1, 4, len(d)).astype(float)
    for params in [tuple(PUBLISHED.values()), (2.0, 30.0, 0.3, 5.0)]:
        ll, grad = _total_loglik(x, tx, T, w)(np.log(params))
        rows, row_grad = _loglik_grad(params, x, tx, T, w, want_grad=True)
        assert ll == pytest.approx(float(np.sum(w * rows)), rel=1e-12)
        assert grad == pytest.approx(row_grad, rel=1e-9)


def test_large_data_takes_the_sampled_start_and_reaches_the_same_optimum():
    """Above COARSE_ROWS distinct rows the search starts on a sample; the result must be the full-data optimum."""
    from metrics.clv.mle import COARSE_ROWS

    rng = np.random.default_rng(9)
    d = simulate_bgnbd(*PUBLISHED.values(), rng.uniform(26, 39, COARSE_ROWS + 5000), rng)
    fit = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    assert fit.converged, fit.message
    _, grad = _loglik_grad(
        fit.params.values(), *(d[c].to_numpy(float) for c in ("frequency", "recency", "T")), want_grad=True
    )
    assert np.max(np.abs(grad)) / len(d) < 1e-5
