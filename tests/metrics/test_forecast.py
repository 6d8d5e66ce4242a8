"""Forecasts: refusal below 12 periods, sensible values on known series, interval order, backtest MAPE."""

import numpy as np
import pandas as pd
import pytest

from metrics.forecast import ForecastError, forecast_series


def monthly(values, start="2024-01"):
    idx = [str(pd.Period(start, freq="M") + i) for i in range(len(values))]
    return pd.Series(values, index=idx)


def test_refuses_short_series():
    with pytest.raises(ForecastError, match="at least 12 past periods"):
        forecast_series(monthly(range(11)))


def test_linear_trend_is_followed_and_backtest_is_near_zero():
    f = forecast_series(monthly(np.arange(10.0, 34.0)), horizon=3)
    assert [p.label for p in f.points] == ["2026-01", "2026-02", "2026-03"]
    assert f.points[0].value == pytest.approx(34.0, abs=1.0)
    assert f.points[0].value < f.points[2].value
    assert f.mape is not None and f.mape < 3.0
    assert len(f.backtest) == 6 and f.history == 24


def test_noisy_series_has_ordered_widening_intervals():
    rng = np.random.default_rng(3)
    f = forecast_series(monthly(50 + rng.normal(0, 2, 18)), horizon=3)
    for p in f.points:
        assert p.low < p.value < p.high
        assert 35 < p.value < 65
    assert f.points[2].high - f.points[2].low >= f.points[0].high - f.points[0].low - 1e-9
    assert 0 < f.mape < 20


def test_horizon_bounds():
    with pytest.raises(ForecastError):
        forecast_series(monthly(np.arange(15.0)), horizon=4)
