"""churn_risk: customers likely gone, ranked by historical value × (1 − P(alive))."""

import pandas as pd
import pytest

from metrics.clv import churn_risk

PRED = pd.DataFrame(
    {"p_alive": [0.2, 0.4, 0.9, 0.1, 0.45]}, index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id")
)
VALUE = pd.Series({"a": 100.0, "b": 300.0, "c": 1000.0, "d": 50.0})


def test_ranked_by_value_at_stake():
    """Stakes: a 100·0.8 = 80, b 300·0.6 = 180, d 50·0.9 = 45, e 0 (no history); c is likely alive (0.9)."""
    out = churn_risk(PRED, VALUE)
    assert out["customer_id"].tolist() == ["b", "a", "d", "e"]
    assert out["value_at_stake"].tolist() == pytest.approx([180.0, 80.0, 45.0, 0.0])
    assert out["risk_rank"].tolist() == [1, 2, 3, 4]
    assert list(out.columns) == ["customer_id", "p_alive", "historical_value", "value_at_stake", "risk_rank"]


def test_threshold_and_ties():
    assert churn_risk(PRED, VALUE, p_alive_below=0.3)["customer_id"].tolist() == ["a", "d"]
    tied = pd.DataFrame({"p_alive": [0.5 - 1e-9, 0.0, 0.0]}, index=["z", "y", "x"])
    out = churn_risk(tied, pd.Series({"z": 0.0, "y": 10.0, "x": 10.0}))
    assert out["customer_id"].tolist() == ["x", "y", "z"]


def test_accepts_prediction_and_rejects_bad_input():
    class Pred:
        customers = PRED

    assert churn_risk(Pred(), VALUE)["customer_id"].tolist() == ["b", "a", "d", "e"]
    with pytest.raises(ValueError, match="p_alive"):
        churn_risk(PRED.rename(columns={"p_alive": "x"}), VALUE)
    with pytest.raises(ValueError, match="p_alive_below"):
        churn_risk(PRED, VALUE, p_alive_below=0)
