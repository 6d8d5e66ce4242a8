"""Shared maximum-likelihood machinery: row deduplication, bounded fit on log-parameters, Hessian, covariance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.optimize import minimize

LOG_BOUND = np.log(1e6)
"""Every parameter is searched in [1e-6, 1e6]; a fit that ends on this box is reported as not converged."""

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
    frame = pd.DataFrame({i: c for i, c in enumerate(columns)})
    counts = frame.groupby(list(frame.columns), sort=False).size()
    keys = counts.index.to_frame(index=False)
    return [keys[i].to_numpy(dtype=float) for i in range(len(columns))], counts.to_numpy(dtype=float)


def fit_log_params(
    total: Objective, start: np.ndarray, n: float, penalizer: float, names: tuple[str, ...]
) -> Optimum:
    """Maximise `total` (log-likelihood and its gradient in log-parameters) with an L2 penalty on the parameters.

    The objective is −loglik/n + penalizer·Σθ², as in the lifetimes library, so the penalty does not
    depend on the sample size. SLSQP with box bounds and the analytic gradient (L-BFGS-B finds the
    same optimum but its OpenBLAS calls made it ~10× slower on a loaded machine). Converged means: a
    stationary point (gradient below GRAD_TOL), inside the box, with a positive-definite Hessian —
    judged from the solution itself, not the optimizer's own flag. The Hessian of the total negative
    log-likelihood comes from central differences of the analytic gradient.
    """

    def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = total(u)
        theta = np.exp(u)
        value = -ll / n + penalizer * float(np.sum(theta * theta))
        grad = -g / n + 2.0 * penalizer * theta * theta
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(u)
        return value, grad

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    res = minimize(objective, start, jac=True, method="SLSQP", bounds=bounds, options={"maxiter": 1000, "ftol": 1e-14})
    u = res.x
    ll, _ = total(u)
    grad = objective(u)[1]
    cov = covariance(lambda v: -total(v)[1] + 2.0 * penalizer * n * np.exp(2 * v), u)
    messages = []
    edge = [names[i] for i in range(len(u)) if abs(u[i]) > LOG_BOUND - 1e-3]
    if edge:
        messages.append(f"parameter {', '.join(edge)} ran to its bound: the model is not identified by these data")
    if not np.isfinite(ll):
        messages.append("log-likelihood is not finite at the optimum")
    elif np.max(np.abs(grad)) > GRAD_TOL:
        messages.append(f"no stationary point reached ({res.message}; largest gradient {np.max(np.abs(grad)):.2g})")
    if cov is None:
        messages.append("Hessian is not positive definite: the optimum is not a proper maximum")
    return Optimum(u, float(ll), not messages, int(res.nit), "; ".join(messages) or "converged", cov)


def covariance(gradient: Callable[[np.ndarray], np.ndarray], u: np.ndarray, step: float = 1e-5) -> np.ndarray | None:
    """Inverse of the symmetrised finite-difference Hessian of a negative log-likelihood, or None if not PD."""
    k = len(u)
    h = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        h[:, i] = (gradient(u + e) - gradient(u - e)) / (2 * step)
    h = (h + h.T) / 2
    if not np.all(np.isfinite(h)):
        return None
    try:
        chol = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return None
    inv = np.linalg.inv(chol)
    return inv.T @ inv


def natural_covariance(log_params: np.ndarray, cov_log: np.ndarray | None) -> np.ndarray | None:
    """Delta-method covariance of θ = exp(u) from the covariance of u."""
    if cov_log is None:
        return None
    d = np.exp(log_params)
    return cov_log * np.outer(d, d)


def as_array(values, name: str) -> np.ndarray:
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
    return float(np.sum(w * v))
