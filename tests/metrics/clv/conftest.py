"""CDNOW fixtures (published calibration summary and raw transactions) and fits shared by the CLV tests."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics.clv import BetaGeoFitter, GammaGammaFitter

DATA = Path(__file__).resolve().parents[2] / "data"
CALIBRATION_END = "1997-09-30"


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


# A small hand-checked orders frame (calibration end 2026-02-28) used by the summary and RFM tests.
ORDERS = _orders(
    [
        ("c1", "2026-01-05", 10.0),
        ("c1", "2026-01-05", 5.0),  # same day: one purchase of 15
        ("c1", "2026-01-19", 20.0),
        ("c1", "2026-02-02", 30.0),
        ("c1", "2026-02-03", -5.0),  # refund: not a purchase
        ("c1", "2026-03-10", 100.0),  # after the calibration end
        ("c2", "2026-01-12", 50.0),
        ("c3", "2026-02-01", -9.0),  # refund only: no purchase, no row
        ("c4", "2026-02-28", 7.0),  # on the calibration end: counts, T = 0
        (None, "2026-01-20", 3.0),
        ("c2", None, 3.0),
        ("c2", "2026-01-21", np.nan),
    ]
)


def load_cdnow_summary() -> pd.DataFrame:
    """The published 39-week summary in weeks, indexed by the 4-digit sample id."""
    raw = pd.read_csv(DATA / "cdnow_summary.csv")
    frame = pd.DataFrame({"frequency": raw["x"], "recency": raw["t_x"], "T": raw["T"], "monetary_value": raw["zbar"]})
    frame.index = pd.Index(raw["ID"].map(lambda i: f"{i:04d}"), name="customer_id", dtype="string")
    return frame


def load_cdnow_orders() -> pd.DataFrame:
    """The CDNOW transactions as an orders frame (customer_id = sample id)."""
    raw = pd.read_csv(
        DATA / "cdnow_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "order_date", "quantity", "amount"],
        dtype={"master_id": str, "customer_id": str, "order_date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("string"),
            "order_date": pd.to_datetime(raw["order_date"], format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
        }
    )


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="session")
def cdnow_orders() -> pd.DataFrame:
    return load_cdnow_orders()


@pytest.fixture(scope="session")
def cdnow_bgnbd(cdnow):
    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="session")
def cdnow_gg(cdnow):
    return GammaGammaFitter().fit(cdnow["frequency"], cdnow["monetary_value"])
