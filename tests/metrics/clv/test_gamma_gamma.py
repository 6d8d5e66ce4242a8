"""Gamma-Gamma: likelihood, CDNOW fit against Fader and Hardie's note, expected spend, recovery."""

import math

import numpy as np
import pytest

from metrics.clv import GammaGammaFitter, expected_spend
from metrics.clv.gamma_gamma import _loglik_grad, loglik
from metrics.clv.simulate import simulate_spend

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def test_cdnow_parameters_match_fader_hardie(cdnow_gg):
    """Published to 2 decimals; the note truncates γ = 15.4477 to 15.44, so agree within one unit of the last digit."""
    assert cdnow_gg.converged, cdnow_gg.message
    for name, value in PUBLISHED.items():
        assert getattr(cdnow_gg, name) == pytest.approx(value, abs=0.01), name
    assert (cdnow_gg.n, cdnow_gg.n_excluded) == (946, 0)
    p, q, gamma = cdnow_gg
    assert (p, q, gamma) == (cdnow_gg.p, cdnow_gg.q, cdnow_gg.gamma)


def test_loglik_by_hand():
    """p=2, q=3, γ=4, x=2, z̄=5: Γ(7)/(Γ(4)Γ(3)) · 4³ · 5³ · 2⁴ / 14⁷ = 60 · 64 · 125 · 16 / 14⁷."""
    expected = math.log(60 * 64 * 125 * 16 / 14**7)
    assert loglik((2.0, 3.0, 4.0), [2], [5.0]) == pytest.approx([expected], rel=1e-12)


def test_gradient_matches_finite_differences():
    params = np.array([2.0, 3.0, 4.0])
    x, m = np.array([1.0, 2.0, 7.0]), np.array([5.0, 12.5, 30.0])
    _, grad = _loglik_grad(params, x, m, want_grad=True)
    h = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        up = loglik(params * np.exp(e), x, m).sum()
        down = loglik(params * np.exp(-e), x, m).sum()
        assert grad[i] == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_expected_spend_by_hand():
    """(γ + x z̄)·p/(px + q − 1): (4 + 2·5)·2/(4 + 2) = 14/3; x = 0 or no positive spend → pγ/(q−1) = 4."""
    got = expected_spend((2.0, 3.0, 4.0), [2, 0, 3], [5.0, 0.0, 0.0])
    assert got == pytest.approx([14 / 3, 4.0, 4.0])
    assert np.isnan(expected_spend((2.0, 0.9, 4.0), [1], [5.0])[0])


def test_non_positive_spend_of_repeat_customers_is_excluded_and_counted(cdnow):
    m = cdnow["monetary_value"].copy()
    repeat = m.index[cdnow["frequency"] > 0][:3]
    m.loc[repeat] = 0.0
    fit = GammaGammaFitter().fit(cdnow["frequency"], m)
    assert (fit.n, fit.n_excluded) == (943, 3)


def test_recovers_simulated_parameters():
    rng = np.random.default_rng(44)
    x = 1 + rng.poisson(2.0, 8000)
    m = simulate_spend(*PUBLISHED.values(), x, rng)
    fit = GammaGammaFitter().fit(x, m)
    assert fit.converged, fit.message
    for (name, value), se in zip(PUBLISHED.items(), fit.stderr.values()):
        assert abs(getattr(fit, name) - value) < 4 * se, name


def test_scale_of_money_only_moves_gamma(cdnow, cdnow_gg):
    cents = GammaGammaFitter().fit(cdnow["frequency"], 100 * cdnow["monetary_value"])
    assert cents.gamma == pytest.approx(100 * cdnow_gg.gamma, rel=1e-4)
    assert cents.p == pytest.approx(cdnow_gg.p, rel=1e-4)


def test_infinite_mean_spend_is_not_converged():
    rng = np.random.default_rng(5)
    x = 1 + rng.poisson(2.0, 5000)
    fit = GammaGammaFitter().fit(x, simulate_spend(2.0, 0.6, 10.0, x, rng))
    assert fit.q < 1 and not fit.converged
    assert "infinite" in fit.message


@pytest.mark.parametrize(
    "args, message",
    [
        (([0, 0], [0.0, 0.0]), "no repeat customers"),
        (([1, 2], [1.0]), "differ in length"),
        ((["a"], [1.0]), "must be numeric"),
    ],
)
def test_invalid_input_is_a_clear_error(args, message):
    with pytest.raises(ValueError, match=message):
        GammaGammaFitter().fit(*args)


def test_fast_total_equals_row_likelihood():
    from metrics.clv.gamma_gamma import _total_loglik

    rng = np.random.default_rng(2)
    x = 1.0 + rng.poisson(2.0, 2000)
    m = simulate_spend(*PUBLISHED.values(), x, rng)
    w = rng.integers(1, 4, len(x)).astype(float)
    for params in [tuple(PUBLISHED.values()), (2.0, 3.0, 4.0)]:
        ll, grad = _total_loglik(x, m, w)(np.log(params))
        rows, row_grad = _loglik_grad(params, x, m, w, want_grad=True)
        assert ll == pytest.approx(float(np.sum(w * rows)), rel=1e-12)
        assert grad == pytest.approx(row_grad, rel=1e-9)
