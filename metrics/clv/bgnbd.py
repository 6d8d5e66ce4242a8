"""BG/NBD model (Fader, Hardie and Lee 2005): likelihood, maximum-likelihood fit, P(alive), expected purchases."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.integrate import IntegrationWarning, quad
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from metrics.clv.fitter import ClvFitter, FitResult, Param
from metrics.clv.mle import Objective, _dot, as_array, dedupe, natural_covariance

NAMES = ("r", "alpha", "a", "b")
NUDGE = 1e-7
EPS = np.finfo(float).eps
SERIES_S = 0.2  # the small-t series is used while s·max(1, (R+1)/2) ≤ this (term ratio bound)
SERIES_TERMS = 24  # 0.2^24 ≈ 2e-17
TRUST_REL = 1e-11  # estimated relative rounding error above which the 2F1 value is recomputed (series or quadrature)


@dataclass(frozen=True, kw_only=True)
class BGNBDFit(FitResult):
    """Fitted BG/NBD parameters with the convergence report (see FitResult); unpacks as (r, alpha, a, b, loglik)."""

    names = NAMES

    r: float
    alpha: float
    a: float
    b: float

    def __iter__(self) -> Iterator[float]:
        return iter((self.r, self.alpha, self.a, self.b, self.loglik))

    @property
    def values(self) -> tuple[float, float, float, float]:
        return self.r, self.alpha, self.a, self.b


Params = tuple[Param, Param, Param, Param]
# What the model functions accept: a fit, a name → value mapping, or (r, alpha, a, b) in order.
ParamsLike = BGNBDFit | Mapping[str, Param] | Sequence[Param]


def _params(params: ParamsLike) -> Params:
    """(r, alpha, a, b) from a fit, a mapping or a sequence; arrays broadcast (used for resampling)."""
    if isinstance(params, BGNBDFit):
        return params.r, params.alpha, params.a, params.b
    if isinstance(params, Mapping):
        return params["r"], params["alpha"], params["a"], params["b"]
    r, alpha, a, b = tuple(params)[:4]
    return r, alpha, a, b


def loglik(params: ParamsLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood ln L(r, α, a, b | x, t_x, T).

        L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
          + 1{x>0} · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    computed as A1 + A2 + logaddexp(A3, A4) with
        A1 = lnΓ(r+x) − lnΓ(r) + r ln α,   A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x),
        A3 = −(r+x) ln(α+T),               A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x)   (x > 0 only),
    which stays finite for large x and T (no powers or beta functions are formed).
    """
    x, tx, t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return _loglik_grad(_params(params), x, tx, t)[0]


def _loglik_grad(
    params: Params,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    weights: np.ndarray | None = None,
    want_grad: bool = False,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Log-likelihood per row and, if asked, its weighted gradient in log-parameters.

    The gamma-function terms depend on x only, so they are evaluated once per distinct x
    (`groups` = (distinct x, index of each row's x)) and gathered.
    """
    r, alpha, a, b = params
    xu, inv = np.unique(x, return_inverse=True) if groups is None else groups
    rep = x > 0
    rx = r + x
    a12 = (gammaln(r + xu) - gammaln(r) + gammaln(a + b) + gammaln(b + xu) - gammaln(b) - gammaln(a + b + xu))[inv]
    log_a_t = np.log(alpha + T)
    log_a_tx = np.log(alpha + tx)
    a3 = -rx * log_a_t
    bx1 = np.where(rep, b + x - 1, 1.0)
    a4 = np.where(rep, np.log(a) - np.log(bx1) - rx * log_a_tx, -np.inf)
    ll = a12 + r * np.log(alpha) + np.logaddexp(a3, a4)
    if not want_grad:
        return ll, None
    w = np.ones_like(ll) if weights is None else weights
    w4 = expit(a4 - a3)
    w3 = 1.0 - w4
    dg_ab = digamma(a + b)
    d_r_x = (digamma(r + xu) - digamma(r))[inv]
    d_ab_x = (digamma(a + b + xu))[inv]
    d_b_x = (digamma(b + xu) - digamma(b))[inv]
    d_r = d_r_x + np.log(alpha) - w3 * log_a_t - w4 * log_a_tx
    d_alpha = r / alpha - rx * (w3 / (alpha + T) + w4 / (alpha + tx))
    d_a = dg_ab - d_ab_x + w4 / a
    d_b = dg_ab + d_b_x - d_ab_x - w4 / bx1
    grad = np.array([_dot(w, d_r) * r, _dot(w, d_alpha) * alpha, _dot(w, d_a) * a, _dot(w, d_b) * b])
    return ll, grad


@dataclass(frozen=True)
class BetaGeoFitter(ClvFitter[BGNBDFit]):
    """The BG/NBD model (Fader, Hardie and Lee 2005), fitted like lifetimes' BetaGeoFitter: `fit(x, t_x, T)`."""

    names = NAMES

    def fit(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> BGNBDFit:
        """Maximum-likelihood BG/NBD fit on per-customer (x = repeat purchases, t_x = recency, T = age).

        Maximises Σ ln L over customers, with (Fader, Hardie and Lee 2005, eq. 6)

            L(r, α, a, b | x, t_x, T) = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
                                      + 1{x>0} · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

        evaluated in log space (see `loglik`).

        Identical rows are collapsed and weighted by their count; the search runs on log-parameters with
        box bounds and the analytic gradient (see mle.fit_log_params); the penalizer adds
        penalizer·(r² + α² + a² + b²) to the mean negative log-likelihood (lifetimes' convention, here in the
        inputs' own time unit).
        """
        x, tx, t = _validated(frequency, recency, T)
        if len(x) == 0:
            raise ValueError("no customers to fit")
        (ux, utx, ut), w = dedupe(x, tx, t)

        def build(rows: np.ndarray | None) -> Objective:
            if rows is None:
                return _total_loglik(ux, utx, ut, w)
            return _total_loglik(ux[rows], utx[rows], ut[rows], w[rows])

        start = np.log([1.0, max(float(np.mean(t)), 1e-3), 1.0, 1.0])
        opt = self._optimum(build, w, start)
        r, alpha, a, b = np.exp(opt.log_params).tolist()
        return BGNBDFit(
            r=r,
            alpha=alpha,
            a=a,
            b=b,
            loglik=opt.loglik,
            converged=opt.converged,
            iterations=opt.iterations,
            message=opt.message,
            n=len(x),
            penalizer=self.penalizer,
            covariance=natural_covariance(opt.log_params, opt.cov_log),
            cov_log=opt.cov_log,
        )


def _total_loglik(x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> Objective:
    """Σ w·ln L and its gradient in log-parameters, arranged for speed (same value as `loglik`).

    Customers with x = 0 contribute r·(ln α − ln(α+T)) only. For the others the gamma-function
    terms depend on x alone, so they are summed once per distinct x with the total weight of that x;
    per row remain two logs, one exp and one log1p (logaddexp and its softmax weight share them).
    """
    zero = x == 0
    w0, T0 = w[zero], T[zero]
    W0 = w0.sum()
    order = np.argsort(x[~zero], kind="stable")
    xr, txr, Tr, wr = (v[~zero][order] for v in (x, tx, T, w))
    xu, idx = np.unique(xr, return_inverse=True)
    Wx = np.bincount(idx, weights=wr, minlength=len(xu))
    Wr = wr.sum()

    def total(u: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(u)
        la = np.log(alpha)
        l0 = np.log(alpha + T0)
        ll = r * (la * W0 - _dot(w0, l0))
        g_r = la * W0 - _dot(w0, l0)
        g_alpha = r * (W0 / alpha - _dot(w0, 1.0 / (alpha + T0)))
        lg = gammaln(r + xu) - gammaln(r) + gammaln(a + b) + gammaln(b + xu) - gammaln(b) - gammaln(a + b + xu)
        lbx1 = np.log(b + xu - 1)
        rx = r + xr
        lt, ltx = np.log(alpha + Tr), np.log(alpha + txr)
        a3 = -rx * lt
        a4 = np.log(a) - lbx1[idx] - rx * ltx
        d = a4 - a3
        e = np.exp(-np.abs(d))
        w4 = np.where(d > 0, 1.0, e) / (1.0 + e)
        w3 = 1.0 - w4
        ll += _dot(Wx, lg) + r * la * Wr + _dot(wr, np.maximum(a3, a4) + np.log1p(e))
        ww4 = wr * w4
        s4x = np.bincount(idx, weights=ww4, minlength=len(xu))
        dg_ab, dg_abx = digamma(a + b), digamma(a + b + xu)
        g_r += _dot(Wx, digamma(r + xu) - digamma(r)) + la * Wr - _dot(wr, w3 * lt) - _dot(ww4, ltx)
        g_alpha += r * Wr / alpha - _dot(wr * rx, w3 / (alpha + Tr) + w4 / (alpha + txr))
        g_a = _dot(Wx, dg_ab - dg_abx) + ww4.sum() / a
        g_b = _dot(Wx, dg_ab + digamma(b + xu) - digamma(b) - dg_abx) - _dot(s4x, 1.0 / (b + xu - 1))
        return float(ll), np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])

    return total


def _validated(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, tx, t = as_array(frequency, "frequency"), as_array(recency, "recency"), as_array(T, "T")
    if not len(x) == len(tx) == len(t):
        raise ValueError(f"frequency, recency and T differ in length ({len(x)}, {len(tx)}, {len(t)})")
    checks = [
        ((x < 0) | (x != np.round(x)), "frequency must be a whole number ≥ 0"),
        ((tx < 0) | (tx > t * (1 + 1e-12)), "recency must lie in [0, T]"),
        ((x == 0) & (tx != 0), "recency must be 0 when frequency is 0"),
    ]
    for bad, why in checks:
        if bad.any():
            raise ValueError(f"{why}: {int(bad.sum())} row(s), first at position {int(np.argmax(bad))}")
    return x, tx, t


def _log_odds_dead(
    r: Param, alpha: Param, a: Param, b: Param, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """ln of a/(b+x−1)·((α+T)/(α+t_x))^(r+x), the odds that a customer with x > 0 has dropped out."""
    rep = x > 0
    bx1 = np.where(rep, b + x - 1, 1.0)
    odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return np.where(rep, odds, -np.inf)


def p_alive(params: ParamsLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + 1{x>0}·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)); 1 for customers with x = 0."""
    r, alpha, a, b = _params(params)
    x, tx, t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return expit(-_log_odds_dead(r, alpha, a, b, x, tx, t))


def conditional_expected_purchases(
    params: ParamsLike, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] for a customer with history (x, t_x, T) — FHL eq. 10.

        E = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)] · P(alive),
        z = t/(α+T+t).
    Euler's transformation 2F1(A, B; C; z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z) turns the bracket into
    1 − (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z), whose series stays small and quick for any x.
    """
    r, alpha, a, b = _params(params)
    x, tx, T_ = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    alive = expit(-_log_odds_dead(r, alpha, a, b, x, tx, T_))
    return expected_if_alive((r, alpha, a, b), t, x, T_) * alive


def expected_if_alive(params: ParamsLike, t: npt.ArrayLike, frequency: npt.ArrayLike, T: npt.ArrayLike) -> np.ndarray:
    """E[Y(t) | x, T, alive]: the conditional expectation before weighting by P(alive) (see above)."""
    r, alpha, a, b = _params(params)
    x, T_ = np.asarray(frequency, dtype=float), np.asarray(T, dtype=float)
    t = np.asarray(t, dtype=float)
    return _expected_alive(r + x, alpha + T_, a, b + x, t)


def _expected_alive(
    R: npt.ArrayLike, A: npt.ArrayLike, a: npt.ArrayLike, B: npt.ArrayLike, t: npt.ArrayLike
) -> np.ndarray:
    """E_p[(1 − (1 + p·t/A)^−R) / p] for p ~ Beta(a, B): eq. 9 with (r, α, b) → (R, A, B) = (r+x, α+T, b+x).

    The Euler-transformed 2F1 (scipy, vectorised) for the bulk; where that form cancels (a near 1, tiny t) or
    scipy's 2F1 is inaccurate (R − a + 1 near an integer with z near 1), the 3F2 series in s = t/A for small s
    and adaptive quadrature of the integral over p otherwise (once per distinct input). Zero where t = 0.
    """
    R, A, a, B, t = (np.asarray(v, dtype=float) for v in (R, A, a, B, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        value, trusted = _euler_bracket(R, a, B, t / (A + t))
    positive = t > 0
    out = np.where(positive, value, 0.0)
    redo = positive > trusted  # t > 0 and not trusted
    if not np.any(redo):
        return out
    shape = out.shape
    idx = np.flatnonzero(redo)
    R, a, B, s = (np.broadcast_to(v, shape).ravel()[idx] for v in (R, a, B, t / A))
    small = s * np.maximum(1.0, (R + 1) / 2) <= SERIES_S
    fixed = np.empty(idx.size)
    fixed[small] = _small_s_series(R[small], a[small], B[small], s[small])
    if not small.all():
        rows, back = np.unique(np.column_stack([R, a, B, s])[~small], axis=0, return_inverse=True)
        fixed[~small] = np.array([_by_quadrature(*row) for row in rows.tolist()])[back.ravel()]
    out = out.copy()
    out.flat[idx] = fixed
    return out


def _small_s_series(R: np.ndarray, a: np.ndarray, B: np.ndarray, s: np.ndarray) -> np.ndarray:
    """R·s·3F2(R+1, a, 1; a+B, 2; −s) = R·s·Σ_m (R+1)_m (a)_m / ((a+B)_m (m+1)!) · (−s)^m, for s·(R+1)/2 ≤ SERIES_S.

    Eq. 9 after Pfaff's transformation with the (a−1) factor divided out term by term: no cancellation, no
    pole at a = 1; the term ratio is below SERIES_S, so SERIES_TERMS terms reach machine precision.
    """
    term: np.ndarray = R * s
    total = term.copy()
    for m in range(SERIES_TERMS):
        term = term * -s * (R + 1 + m) * (a + m) / ((a + B + m) * (m + 2))
        total += term
    return total


def _hyp2f1(A: np.ndarray, B: Param, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """scipy's 2F1, re-evaluated 1e-9 off A where it returns NaN (it does at some integer A, e.g. A = 1, c ≫ 1)."""
    f = hyp2f1(A, B, c, z)
    bad = ~np.isfinite(f)
    if np.any(bad):
        f = np.where(bad, hyp2f1(A + NUDGE * 1e-2, B, c, z), f)
    return f


def _euler_bracket(R: np.ndarray, a: np.ndarray, B: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """c/(a−1) · [1 − (1−z)^(a−1) · 2F1(c−R, a−1; c; z)], c = a+B−1, and where that value can be trusted.

    1 − e^L·F is formed as −expm1(L) − e^L·(F − 1); its rounding error is about ε·(1 + e^L·(1 + |F|)), which
    relative to the result grows like 1/|a−1| as a → 1. Untrusted: that error above TRUST_REL·|bracket|, a
    non-finite or non-positive value, c within 1e-7 of 0, and R − a + 1 within 1e-2 of an integer when
    z > 0.9 (scipy's 1−z transformation loses up to all digits next to that degenerate case).
    """
    c = a + B - 1
    L = (a - 1) * np.log1p(-z)
    f = _hyp2f1(c - R, a - 1, c, z)
    e_l = np.exp(L)
    bracket = -np.expm1(L) - e_l * (f - 1.0)
    value = c / (a - 1) * bracket
    trusted = (np.abs(bracket) > (EPS / TRUST_REL) * (1.0 + e_l * (1.0 + np.abs(f)))) & (value > 0) & (value < np.inf)
    trusted &= np.abs(c) > NUDGE
    near_one = z > 0.9
    if np.any(near_one):
        d = R - a + 1
        trusted &= ~(near_one & (np.abs(d - np.round(d)) < 1e-2))
    return value, trusted


def _by_quadrature(R: float, a: float, B: float, s: float) -> float:
    """E_p[(1 − (1+p·s)^−R) / p], p ~ Beta(a, B), by QUADPACK with the Beta weight's endpoint powers built in.

    Used only where the closed forms are ill-conditioned. Split at p = min(1/s, 1/2): the left piece carries
    p^(a−1), the right piece (1−p)^(B−1) as algebraic weights, so both integrands are smooth.
    """
    log_beta = float(betaln(a, B))
    cut = min(1.0 / s, 0.5)

    def gain(p: float) -> float:
        return -math.expm1(-R * math.log1p(p * s)) / p if p > 0 else R * s

    def near_zero(p: float) -> float:  # × p^(a−1), the weight's power at 0
        return gain(p) * math.exp((B - 1) * math.log1p(-p) - log_beta)

    def near_one(p: float) -> float:  # × (1−p)^(B−1), the weight's power at 1
        return gain(p) * math.exp((a - 1) * math.log(p) - log_beta)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)  # "roundoff detected" at ~1e-13: the answer is fine
        left = quad(near_zero, 0.0, cut, weight="alg", wvar=(a - 1, 0.0), epsabs=0.0, epsrel=1e-12, limit=200)[0]
        right = quad(near_one, cut, 1.0, weight="alg", wvar=(0.0, B - 1), epsabs=0.0, epsrel=1e-12, limit=200)[0]
    return float(left + right)


def expected_purchases(params: ParamsLike, t: npt.ArrayLike) -> np.ndarray:
    """E[X(t)]: expected purchases in (0, t] for a customer just acquired (FHL eq. 9), same transformation."""
    r, alpha, a, b = _params(params)
    return _expected_alive(r, alpha, a, b, t)
