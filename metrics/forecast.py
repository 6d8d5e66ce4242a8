"""Forecasts of a monthly metric series: damped-trend exponential smoothing with an 80% interval and a backtest."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from metrics.errors import BadData

MIN_PERIODS = 12
BACKTEST_PERIODS = 6
# Significant digits of the values a forecast is fitted on. The fit's optimiser can settle on another optimum for
# values that differ only in their last bits (the same rows summed in another order: a database's sum, pandas'), so
# the values are rounded first and a forecast depends on the figures, not on how they were added up.
FIT_DIGITS = 9


class ForecastError(BadData):
    """The series cannot support a forecast (too short, constant gaps…), said plainly."""


@dataclass(frozen=True)
class ForecastPoint:
    label: str
    value: float
    low: float
    high: float


@dataclass
class Forecast:
    """1–3 periods ahead with an 80% prediction interval and the backtested MAPE (percent)."""

    points: list[ForecastPoint]
    mape: float | None
    history: int
    model: str = "exponential smoothing (additive damped trend)"
    backtest: list[tuple[str, float, float]] = field(default_factory=list)


class _Prediction(Protocol):
    """What the forecast reads of statsmodels' prediction results (statsmodels ships no types)."""

    def summary_frame(self, alpha: float) -> pd.DataFrame: ...


class _Fitted(Protocol):
    """What the forecast reads of a fitted statsmodels ETS model."""

    def get_prediction(self, start: int, end: int) -> _Prediction: ...

    def forecast(self, steps: int) -> pd.Series: ...


def _fit(values: np.ndarray) -> _Fitted:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    trend = "add" if len(values) >= 10 else None
    model = ETSModel(pd.Series(values.astype(float)), error="add", trend=trend, damped_trend=trend is not None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted: _Fitted = model.fit(disp=False)
        return fitted


def forecast_series(series: pd.Series, horizon: int = 3, level: float = 0.80) -> Forecast:
    """Forecast `series` (indexed by period label, oldest first) `horizon` periods ahead.

    Refused below MIN_PERIODS observations. The MAPE is from one-step-ahead forecasts of each of the last
    BACKTEST_PERIODS points, each fitted only on the points before it.
    """
    s = series.dropna().astype(float)
    if len(s) < MIN_PERIODS:
        raise ForecastError(
            f"a forecast needs at least {MIN_PERIODS} past periods with values; this series has {len(s)}"
        )
    if not 1 <= horizon <= 3:
        raise ForecastError("forecast horizon must be 1, 2 or 3 periods")
    values = fit_values(s.to_numpy())
    fit = _fit(values)
    pred = fit.get_prediction(start=len(values), end=len(values) + horizon - 1).summary_frame(alpha=1 - level)
    labels = _next_labels(list(s.index), horizon)
    points = [
        ForecastPoint(
            labels[i], float(pred["mean"].iloc[i]), float(pred["pi_lower"].iloc[i]), float(pred["pi_upper"].iloc[i])
        )
        for i in range(horizon)
    ]
    backtest = []
    for k in range(len(values) - BACKTEST_PERIODS, len(values)):
        if k < MIN_PERIODS // 2:
            continue
        one = float(np.asarray(_fit(values[:k]).forecast(1))[0])
        backtest.append((str(s.index[k]), float(values[k]), one))
    errors = [abs(a - f) / abs(a) for _, a, f in backtest if a != 0]
    mape = float(100 * np.mean(errors)) if errors else None
    return Forecast(points=points, mape=mape, history=len(values), backtest=backtest)


def fit_values(values: np.ndarray) -> np.ndarray:
    """The values rounded to FIT_DIGITS significant digits (264481.58999999997 → 264481.59), as the model is fitted."""
    return np.array([float(f"{v:.{FIT_DIGITS}g}") for v in values], dtype=float)


def _next_labels(labels: list[Any], horizon: int) -> list[str]:
    """Labels after the last one: month labels (YYYY-MM) continue the calendar, others get +1, +2, +3."""
    last = str(labels[-1]) if labels else ""
    try:
        p = pd.Period(last, freq="M")
        return [str(p + i) for i in range(1, horizon + 1)]
    except (ValueError, TypeError):
        return [f"{last}+{i}" for i in range(1, horizon + 1)]
