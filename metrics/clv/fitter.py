"""The CLV fitters' common shape, after lifelines and lifetimes: a fitter holds its settings, `fit(...)` returns
an immutable result, and every result gives `summary()`, a table of its parameters with standard errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd

from metrics.clv.mle import Objective, Optimum, fit_log_params

# A model parameter as the model functions take it: a number, or an array of draws that broadcasts against the
# customers (predict's resampling of the fitted parameters).
Param = float | np.ndarray


@dataclass(frozen=True, kw_only=True)
class FitResult(ABC):
    """A maximum-likelihood fit: the parameters (`names`, in the subclass's fields) and the convergence report.

    `loglik` is the full (unpenalised) log-likelihood in the time unit of the inputs; `n` the customers used;
    `covariance` the asymptotic covariance of the parameters from the inverse Hessian and `cov_log` the same
    for the log-parameters the search runs on (None when the Hessian was not positive definite).
    """

    names: ClassVar[tuple[str, ...]]

    loglik: float
    converged: bool
    iterations: int
    message: str
    n: int
    penalizer: float = 0.0
    covariance: np.ndarray | None = None
    cov_log: np.ndarray | None = None

    @property
    @abstractmethod
    def values(self) -> tuple[float, ...]:
        """The parameter values in `names` order."""

    @property
    def params(self) -> dict[str, float]:
        """Parameter name → value."""
        return dict(zip(self.names, self.values, strict=True))

    @property
    def log_params(self) -> np.ndarray:
        """The log-parameters (what the search and the resampling of predict work on)."""
        log_params: np.ndarray = np.log(np.array(self.values))
        return log_params

    @property
    def stderr(self) -> dict[str, float] | None:
        """Parameter name → standard error, or None without a covariance."""
        if self.covariance is None:
            return None
        return dict(zip(self.names, np.sqrt(np.diag(self.covariance)).tolist(), strict=True))

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """One row per parameter: coef, se(coef) and the `level` interval, as lifetimes' `summary` lays it out.

        The interval is exp(ln θ ± z·se(ln θ)), taken on the log scale the fit searches, so it stays positive;
        without a covariance the standard error and bounds are NaN (unknown, never 0).
        """
        if not 0 < level < 1:
            raise ValueError("level must lie in (0, 1)")
        coef = np.array(self.values)
        unknown = np.full(len(coef), np.nan)
        se = unknown if self.covariance is None else np.sqrt(np.diag(self.covariance))
        se_log = unknown if self.cov_log is None else np.sqrt(np.diag(self.cov_log))
        z = NormalDist().inv_cdf((1 + level) / 2)
        pct = f"{100 * level:g}%"
        return pd.DataFrame(
            {
                "coef": coef,
                "se(coef)": se,
                f"lower {pct} bound": coef * np.exp(-z * se_log),
                f"upper {pct} bound": coef * np.exp(z * se_log),
            },
            index=pd.Index(self.names, name="param"),
        )


R = TypeVar("R", bound=FitResult)


@dataclass(frozen=True)
class ClvFitter(ABC, Generic[R]):
    """A model's settings; each fitter's `fit(...)` takes that model's per-customer columns and returns its `R`.

    `penalizer` adds penalizer·Σθ² to the mean negative log-likelihood (lifetimes' `penalizer_coef`).
    """

    names: ClassVar[tuple[str, ...]]

    penalizer: float = 0.0

    def __post_init__(self) -> None:
        if not self.penalizer >= 0:
            raise ValueError("penalizer must be ≥ 0")

    def _optimum(
        self, build: Callable[[np.ndarray | None], Objective], weights: np.ndarray, start: np.ndarray
    ) -> Optimum:
        """The bounded search on log-parameters every fitter shares (see mle.fit_log_params)."""
        return fit_log_params(build, weights, start, self.penalizer, self.names)
