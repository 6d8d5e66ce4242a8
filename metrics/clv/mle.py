"""Shared maximum-likelihood machinery: row deduplication, bounded fit on log-parameters, Hessian, covariance."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

if TYPE_CHECKING:
    from scipy.optimize._minimize import _MinimizeOptions

LOG_BOUND = np.log(1e6)
"""Every parameter is searched in [1e-6, 1e6]; a fit that ends on this box is reported as not converged."""

COARSE_ROWS = 20_000
"""Above this many distinct rows the search starts on a sample of rows (see fit_log_params)."""

GRAD_TOL = 1e-5
"""Largest gradient of the mean negative log-likelihood (in log-parameters) accepted as a stationary point."""

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class Optimum:
    """The outcome of one fit: log-parameters, total log-likelihood and the convergence report."""

    log_params: np.ndarray
    loglik: float
    converged: bool
    iterations: int
    message: str
    cov_log: np.ndarray | None


def dedupe(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns and how many times each occurs (the likelihood weights)."""
    cols = [np.asarray(c, dtype=float) for c in columns]
    if len(cols[0]) == 0:
        return cols, np.zeros(0)
    order = np.lexsort(cols[::-1])
    ordered = [c[order] for c in cols]
    new = np.zeros(len(order), dtype=bool)
    new[0] = True
    for c in ordered:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(order))).astype(float)
    return [c[starts] for c in ordered], counts


def fit_log_params(
    build: Callable[[np.ndarray | None], Objective],
    weights: np.ndarray,
    start: np.ndarray,
    penalizer: float,
    names: tuple[str, ...],
) -> Optimum:
    """Maximise a log-likelihood over log-parameters with an L2 penalty on the parameters.

    `build(rows)` returns the weighted total log-likelihood and its gradient over the given row
    indices (None = all rows). The objective is −loglik/n + penalizer·Σθ², as in the lifetimes
    library, so the penalty does not depend on the sample size. SLSQP with box bounds and the
    analytic gradient (L-BFGS-B finds the same optimum but its OpenBLAS calls made it ~10× slower on
    a loaded machine). With more than COARSE_ROWS distinct rows, SLSQP runs on a seeded sample of
    rows and Newton steps with that sample's Hessian finish on all rows (each costing one full
    gradient). Converged means: a stationary point (gradient below GRAD_TOL), inside the box, with a
    positive-definite Hessian — judged from the solution itself, not the optimizer's flag.
    """
    total = build(None)
    n = float(weights.sum())
    full = _mean_objective(total, n, penalizer)
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    options: _MinimizeOptions = {"maxiter": 1000, "ftol": 1e-14}
    iterations, note = 0, "Newton finish from a sampled start"
    u = start
    if len(weights) > COARSE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(weights), COARSE_ROWS, replace=False))
        coarse = _mean_objective(build(rows), float(weights[rows].sum()), penalizer)
        res = minimize(coarse, start, jac=True, method="SLSQP", bounds=bounds, options=options)
        iterations += int(res.nit)
        h = _hessian(lambda v: coarse(v)[1], res.x)
        u, steps = _newton(full, res.x, h)
        iterations += steps
    if len(weights) <= COARSE_ROWS or np.max(np.abs(full(u)[1])) > GRAD_TOL / 10:
        res = minimize(full, u, jac=True, method="SLSQP", bounds=bounds, options=options)
        iterations += int(res.nit)
        u, note = res.x, str(res.message)
    ll, g = total(u)
    neg_grad = -g + 2.0 * penalizer * n * np.exp(2 * u)
    grad = neg_grad / n
    cov = _inverse_pd(_hessian(lambda v: -total(v)[1] + 2.0 * penalizer * n * np.exp(2 * v), u, neg_grad))
    messages = []
    edge = [names[i] for i in range(len(u)) if abs(u[i]) > LOG_BOUND - 1e-3]
    if edge:
        messages.append(f"parameter {', '.join(edge)} ran to its bound: the model is not identified by these data")
    if not np.isfinite(ll):
        messages.append("log-likelihood is not finite at the optimum")
    elif np.max(np.abs(grad)) > GRAD_TOL:
        messages.append(f"no stationary point reached ({note}; largest gradient {np.max(np.abs(grad)):.2g})")
    if cov is None:
        messages.append("Hessian is not positive definite: the optimum is not a proper maximum")
    return Optimum(u, float(ll), not messages, iterations, "; ".join(messages) or "converged", cov)


def _mean_objective(total: Objective, n: float, penalizer: float) -> Objective:
    """−loglik/n + penalizer·Σθ² and its gradient; a non-finite value becomes a huge one the search backs away from."""

    def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = total(u)
        theta = np.exp(u)
        square = theta * theta
        value = -ll / n + penalizer * float(np.add.reduce(square))
        grad = -g / n + 2.0 * penalizer * square
        if not math.isfinite(value + float(np.add.reduce(grad))):
            return 1e300, np.zeros_like(u)
        return value, grad

    return objective


def _newton(objective: Objective, u: np.ndarray, h: np.ndarray | None, max_steps: int = 30) -> tuple[np.ndarray, int]:
    """Damped Newton steps with a fixed Hessian `h` until the gradient is far below GRAD_TOL."""
    inverse = _inverse_pd(h)
    if inverse is None:
        return u, 0
    value, grad = objective(u)
    for step in range(1, max_steps + 1):
        if np.max(np.abs(grad)) < GRAD_TOL / 10:
            return u, step - 1
        direction = inverse @ grad
        t = 1.0
        while t > 1e-3:
            cand = np.clip(u - t * direction, -LOG_BOUND, LOG_BOUND)
            cv, cg = objective(cand)
            if cv <= value + 1e-15 * abs(value):
                break
            t /= 2
        else:
            return u, step
        u, value, grad = cand, cv, cg
    return u, max_steps


def _hessian(
    gradient: Callable[[np.ndarray], np.ndarray], u: np.ndarray, g0: np.ndarray | None = None, step: float = 1e-5
) -> np.ndarray | None:
    """Symmetrised forward-difference Hessian from an analytic gradient (`g0` = gradient at u if known)."""
    k = len(u)
    g0 = gradient(u) if g0 is None else g0
    h = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        h[:, i] = (gradient(u + e) - g0) / step
    h = (h + h.T) / 2
    return h if np.all(np.isfinite(h)) else None


def _inverse_pd(h: np.ndarray | None) -> np.ndarray | None:
    """Inverse of a small positive-definite matrix via Cholesky, or None if it is not positive definite.

    Written out in Python: for 3×3 and 4×4 matrices LAPACK's call overhead (OpenBLAS threads) costs
    milliseconds on a busy machine."""
    if h is None:
        return None
    k = len(h)
    low = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1):
            acc = float(h[i][j]) - sum(low[i][m] * low[j][m] for m in range(j))
            if i == j:
                if not acc > 0:
                    return None
                low[i][i] = math.sqrt(acc)
            else:
                low[i][j] = acc / low[j][j]
    inv_low = [[0.0] * k for _ in range(k)]
    for i in range(k):
        inv_low[i][i] = 1.0 / low[i][i]
        for j in range(i):
            inv_low[i][j] = -sum(low[i][m] * inv_low[m][j] for m in range(j, i)) / low[i][i]
    return np.array(
        [[sum(inv_low[m][i] * inv_low[m][j] for m in range(max(i, j), k)) for j in range(k)] for i in range(k)]
    )


def natural_covariance(log_params: np.ndarray, cov_log: np.ndarray | None) -> np.ndarray | None:
    """Delta-method covariance of θ = exp(u) from the covariance of u."""
    if cov_log is None:
        return None
    d = np.exp(log_params)
    return cov_log * np.outer(d, d)


def as_array(values: npt.ArrayLike, name: str) -> np.ndarray:
    """A 1-D float array from a Series/list, with a clear error for non-numeric or non-finite input."""
    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} missing or non-finite value(s)")
    return arr


def _dot(w: np.ndarray, v: np.ndarray) -> float:
    """Σ w·v without BLAS: OpenBLAS's thread start-up dominates these short sums on a busy machine."""
    return float(np.add.reduce(w * v))
