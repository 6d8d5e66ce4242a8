"""Gamma-Gamma spend model (Fader and Hardie, "The Gamma-Gamma Model of Monetary Value"): fit and expected spend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from metrics.clv.fitter import ClvFitter, FitResult, Param
from metrics.clv.mle import Objective, _dot, as_array, dedupe, natural_covariance

NAMES = ("p", "q", "gamma")


@dataclass(frozen=True, kw_only=True)
class GammaGammaFit(FitResult):
    """Fitted Gamma-Gamma parameters with the convergence report (see FitResult); unpacks as (p, q, gamma).

    `n` repeat customers were used; `n_excluded` repeat customers had a mean spend ≤ 0 and were left
    out (the model needs positive spend). A fit with q ≤ 1 has no finite population mean spend and
    is reported as not converged.
    """

    names = NAMES

    p: float
    q: float
    gamma: float
    n_excluded: int = 0

    def __iter__(self) -> Iterator[float]:
        return iter((self.p, self.q, self.gamma))

    @property
    def values(self) -> tuple[float, float, float]:
        return self.p, self.q, self.gamma


Params = tuple[Param, Param, Param]
# What the model functions accept: a fit, a name → value mapping, or (p, q, gamma) in order.
ParamsLike = GammaGammaFit | Mapping[str, Param] | Sequence[Param]


def _params(params: ParamsLike) -> Params:
    """(p, q, gamma) from a fit, a mapping or a sequence."""
    if isinstance(params, GammaGammaFit):
        return params.p, params.q, params.gamma
    if isinstance(params, Mapping):
        return params["p"], params["q"], params["gamma"]
    p, q, gamma = tuple(params)[:3]
    return p, q, gamma


def loglik(params: ParamsLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> np.ndarray:
    """Per-customer log-density of the mean spend z̄ of x repeat purchases:

    f(z̄ | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · z̄^(px−1) · x^(px) / (γ + x z̄)^(px+q)
    """
    return _loglik_grad(_params(params), np.asarray(frequency, float), np.asarray(monetary, float))[0]


def _loglik_grad(
    params: Params,
    x: np.ndarray,
    m: np.ndarray,
    weights: np.ndarray | None = None,
    want_grad: bool = False,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Log-likelihood per row and, if asked, its weighted gradient in log-parameters (gamma terms once per x)."""
    p, q, gamma = params
    xu, inv = np.unique(x, return_inverse=True) if groups is None else groups
    px = p * x
    log_m, log_x, log_s = np.log(m), np.log(x), np.log(gamma + x * m)
    lg = (gammaln(p * xu + q) - gammaln(p * xu))[inv]
    ll = lg - gammaln(q) + q * np.log(gamma) + (px - 1) * log_m + px * log_x - (px + q) * log_s
    if not want_grad:
        return ll, None
    w = np.ones_like(ll) if weights is None else weights
    dg = digamma(p * xu + q)
    d_p = x * ((dg - digamma(p * xu))[inv] + log_m + log_x - log_s)
    d_q = dg[inv] - digamma(q) + np.log(gamma) - log_s
    d_g = q / gamma - (px + q) / (gamma + x * m)
    return ll, np.array([_dot(w, d_p) * p, _dot(w, d_q) * q, _dot(w, d_g) * gamma])


@dataclass(frozen=True)
class GammaGammaFitter(ClvFitter[GammaGammaFit]):
    """The Gamma-Gamma spend model, fitted like lifetimes' GammaGammaFitter: `fit(frequency, monetary)`."""

    names = NAMES

    def fit(self, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> GammaGammaFit:
        """Maximum-likelihood Gamma-Gamma fit on the repeat customers (frequency > 0) with positive mean spend."""
        x, m = as_array(frequency, "frequency"), as_array(monetary, "monetary")
        if len(x) != len(m):
            raise ValueError(f"frequency and monetary differ in length ({len(x)}, {len(m)})")
        repeat = x > 0
        used = repeat & (m > 0)
        if not used.any():
            raise ValueError("no repeat customers with positive spend to fit")
        (ux, um), w = dedupe(x[used], m[used])

        def build(rows: np.ndarray | None) -> Objective:
            return _total_loglik(ux, um, w) if rows is None else _total_loglik(ux[rows], um[rows], w[rows])

        start = np.log([1.0, 2.0, float(np.mean(m[used]))])
        opt = self._optimum(build, w, start)
        p, q, gamma = np.exp(opt.log_params).tolist()
        converged, message = opt.converged, opt.message
        if q <= 1:
            converged, message = False, f"q = {q:.3g} ≤ 1: the mean spend is infinite under this fit"
        return GammaGammaFit(
            p=p,
            q=q,
            gamma=gamma,
            loglik=opt.loglik,
            converged=converged,
            iterations=opt.iterations,
            message=message,
            n=int(used.sum()),
            n_excluded=int((repeat & ~used).sum()),
            penalizer=self.penalizer,
            covariance=natural_covariance(opt.log_params, opt.cov_log),
            cov_log=opt.cov_log,
        )


def _total_loglik(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> Objective:
    """Σ w·ln f and its gradient in log-parameters, arranged for speed (same value as `loglik`).

    Terms in ln z̄ and ln x are fixed sums; gamma functions are evaluated once per distinct x; per
    row remains one log, ln(γ + x z̄)."""
    xu, idx = np.unique(x, return_inverse=True)
    Wx = np.bincount(idx, weights=w, minlength=len(xu))
    W = w.sum()
    lm, lx = np.log(m), np.log(x)
    wx = w * x
    A, B, C = _dot(wx, lm), _dot(w, lm), _dot(wx, lx)
    xm = x * m

    def total(u: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, gamma = np.exp(u)
        ls = np.log(gamma + xm)
        pxu = p * xu
        lgam = np.log(gamma)
        ll = _dot(Wx, gammaln(pxu + q) - gammaln(pxu)) - W * gammaln(q) + q * lgam * W + p * A - B + p * C
        ll -= p * _dot(wx, ls) + q * _dot(w, ls)
        dg = digamma(pxu + q)
        g_p = _dot(Wx * xu, dg - digamma(pxu)) + A + C - _dot(wx, ls)
        g_q = _dot(Wx, dg) - W * digamma(q) + W * lgam - _dot(w, ls)
        g_g = q * W / gamma - _dot(w * (p * x + q), 1.0 / (gamma + xm))
        return float(ll), np.array([g_p * p, g_q * q, g_g * gamma])

    return total


def expected_spend(params: ParamsLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> np.ndarray:
    """E[M | x, z̄] = (γ + x z̄)·p / (px + q − 1): a weighted mean of the population mean pγ/(q−1) and z̄.

    Customers with x = 0 (or no positive spend) get the population mean; NaN when q ≤ 1.
    """
    p, q, gamma = _params(params)
    x = np.asarray(frequency, float)
    m = np.asarray(monetary, float)
    x = np.where(m > 0, x, 0.0)
    out = (gamma + x * np.where(m > 0, m, 0.0)) * p / (p * x + q - 1)
    return np.where(q > 1, out, np.nan)
