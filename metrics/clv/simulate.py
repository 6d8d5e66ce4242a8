"""Exact simulation from the BG/NBD and Gamma-Gamma models, for parameter-recovery tests and benchmarks."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd


def simulate_bgnbd(
    r: float, alpha: float, a: float, b: float, T: npt.ArrayLike, rng: np.random.Generator, horizon: float = 0.0
) -> pd.DataFrame:
    """Per-customer (frequency, recency, T) drawn exactly from BG/NBD, plus purchases in (T, T + horizon].

    Each customer gets λ ~ Gamma(r, rate α) and p ~ Beta(a, b); repeat purchases follow a Poisson
    process of rate λ in continuous time and the customer drops out right after the J-th repeat
    purchase, J ~ Geometric(p). With N ~ Poisson(λT) purchases possible in (0, T], x = min(N, J) and
    t_x is the x-th of N uniform purchase times, a Beta(x, N − x + 1) fraction of T. No rounding to
    periods: counting periods with a purchase instead of purchases biases the fit.
    """
    T = np.asarray(T, dtype=float)
    n = T.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    j = rng.geometric(np.clip(p, 1e-300, 1.0))
    poisson = rng.poisson(lam * T)
    x = np.minimum(poisson, j)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], poisson[has] - x[has] + 1)
    alive = poisson < j
    future = np.where(alive, np.minimum(rng.poisson(lam * horizon), j - x), 0)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T, "alive": alive, "future": future})


def simulate_spend(p: float, q: float, gamma: float, frequency: npt.ArrayLike, rng: np.random.Generator) -> np.ndarray:
    """Mean spend of each customer's x repeat purchases under Gamma-Gamma (0 where x = 0).

    ν ~ Gamma(q, rate γ) per customer; purchase values are Gamma(p, rate ν), so their mean over x
    purchases is Gamma(px, rate xν).
    """
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / gamma, x.size)
    rep = x > 0
    out = np.zeros(x.size)
    out[rep] = rng.gamma(p * x[rep], 1.0 / (x[rep] * nu[rep]))
    return out
