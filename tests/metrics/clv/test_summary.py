"""summarize: the per-customer (frequency, recency, T, monetary_value) summary from orders."""

import numpy as np
import pandas as pd
import pytest

from metrics.clv import summarize
from tests.metrics.clv.conftest import CALIBRATION_END, ORDERS


def test_hand_computed_weeks():
    s = summarize(ORDERS, "2026-02-28", freq="W")
    assert list(s.index) == ["c1", "c2", "c4"]
    assert s.loc["c1"].tolist() == pytest.approx([2, 28 / 7, 54 / 7, 25.0])
    assert s.loc["c2"].tolist() == pytest.approx([0, 0.0, 47 / 7, 0.0])
    assert s.loc["c4"].tolist() == pytest.approx([0, 0.0, 0.0, 0.0])
    assert s.attrs["excluded"] == {"invalid": 3, "refunds": 2, "after_end": 1}
    assert s.attrs["freq"] == "W"
    assert s["frequency"].dtype == "int64"


@pytest.mark.parametrize("freq, days", [("D", 1.0), ("W", 7.0), ("M", 365.25 / 12)])
def test_units(freq, days):
    s = summarize(ORDERS, pd.Timestamp("2026-02-28"), freq=freq)
    assert s.loc["c1", "recency"] == pytest.approx(28 / days)
    assert s.loc["c1", "T"] == pytest.approx(54 / days)


def test_reproduces_published_cdnow_summary(cdnow_orders, cdnow):
    """From the raw CDNOW transactions to the published 39-week summary (which is rounded to 2 decimals)."""
    s = summarize(cdnow_orders, CALIBRATION_END, freq="W")
    assert len(s) == 2357
    assert (s["frequency"] > 0).sum() == 946
    joined = s.join(cdnow, rsuffix="_published")
    assert (joined["frequency"] == joined["frequency_published"]).all()
    for col in ("recency", "T", "monetary_value"):
        assert np.abs(joined[col] - joined[f"{col}_published"]).max() <= 0.005 + 1e-9


def test_errors():
    with pytest.raises(ValueError, match="freq must be one of D, W, M"):
        summarize(ORDERS, "2026-02-28", freq="Q")
    with pytest.raises(ValueError, match="lack column.*amount"):
        summarize(ORDERS.drop(columns="amount"), "2026-02-28")


def test_empty_orders():
    s = summarize(ORDERS.iloc[:0], "2026-02-28")
    assert s.empty and list(s.columns) == ["frequency", "recency", "T", "monetary_value"]
