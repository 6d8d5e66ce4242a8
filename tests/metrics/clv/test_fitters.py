"""The CLV fitters' shape (issue 15): one base, `fit` to an immutable result, `summary()` of the parameters."""

import dataclasses
import math

import numpy as np
import pytest

from metrics.clv import BetaGeoFitter, BGNBDFit, ClvFitter, FitResult, GammaGammaFit, GammaGammaFitter

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def test_both_fitters_share_one_base_and_return_frozen_results(cdnow):
    bg = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    gg = GammaGammaFitter().fit(cdnow["frequency"], cdnow["monetary_value"])
    assert isinstance(BetaGeoFitter(), ClvFitter) and isinstance(GammaGammaFitter(), ClvFitter)
    assert isinstance(bg, BGNBDFit) and isinstance(gg, GammaGammaFit)
    assert isinstance(bg, FitResult) and isinstance(gg, FitResult)
    for result in (bg, gg):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.converged = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        BetaGeoFitter().penalizer = 1.0


def test_fitter_gives_the_published_cdnow_parameters(cdnow, cdnow_bgnbd, cdnow_gg):
    """Fader, Hardie and Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426; Gamma-Gamma p = 6.25, q = 3.74."""
    bg = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert bg.params == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=1e-3)
    assert bg.params == cdnow_bgnbd.params
    assert cdnow_gg.params == pytest.approx({"p": 6.25, "q": 3.74, "gamma": 15.44}, abs=0.01)


def test_negative_penalizer_is_refused_when_the_fitter_is_made():
    with pytest.raises(ValueError, match="penalizer must be ≥ 0"):
        BetaGeoFitter(penalizer=-0.1)
    with pytest.raises(ValueError, match="penalizer must be ≥ 0"):
        GammaGammaFitter(penalizer=-1.0)


def test_penalizer_is_kept_on_the_result(cdnow):
    fit = BetaGeoFitter(penalizer=0.1).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fit.penalizer == 0.1


def test_bgnbd_summary_table_matches_lifetimes_standard_errors(cdnow_bgnbd):
    """lifetimes' BetaGeoFitter on the same CDNOW summary reports se(coef) r 0.012557, α 0.378221, a 0.185719,
    b 0.705345 (its README's `bgf.summary`); both are the inverse Hessian at the optimum, so they agree to 0.1%."""
    table = cdnow_bgnbd.summary()
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert list(table.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert table["coef"].to_dict() == cdnow_bgnbd.params
    assert table["se(coef)"].to_dict() == pytest.approx(
        {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}, rel=1e-3
    )


def test_summary_interval_is_taken_on_the_log_scale(cdnow_gg):
    """The fit searches log-parameters, so the interval is exp(ln θ ± z·se(ln θ)) and stays positive;
    with se(ln θ) = se(θ)/θ (delta method) the bounds are θ·exp(∓1.96·se/θ)."""
    table = cdnow_gg.summary()
    for i, (_, row) in enumerate(table.iterrows()):
        coef, se = row["coef"], row["se(coef)"]
        assert se == pytest.approx(math.sqrt(cdnow_gg.covariance[i, i]), rel=1e-12)
        assert row["lower 95% bound"] == pytest.approx(coef * math.exp(-Z95 * se / coef), rel=1e-12)
        assert row["upper 95% bound"] == pytest.approx(coef * math.exp(Z95 * se / coef), rel=1e-12)
        assert 0 < row["lower 95% bound"] < coef < row["upper 95% bound"]
    narrow = cdnow_gg.summary(level=0.5)
    assert list(narrow.columns) == ["coef", "se(coef)", "lower 50% bound", "upper 50% bound"]
    assert (narrow["lower 50% bound"] > table["lower 95% bound"]).all()


def test_summary_without_covariance_says_nan_not_zero():
    """A fit whose Hessian was not positive definite has no standard errors: NaN in the table, never 0."""
    fit = BGNBDFit(
        r=0.5, alpha=2.0, a=1.5, b=3.0, loglik=-1.0, converged=False, iterations=3, message="Hessian not PD", n=10
    )
    table = fit.summary()
    assert table["coef"].tolist() == [0.5, 2.0, 1.5, 3.0]
    assert np.isnan(table[["se(coef)", "lower 95% bound", "upper 95% bound"]].to_numpy()).all()
