"""Predicted customer value: BG/NBD + Gamma-Gamma fits, P(alive), predicted CLV, churn risk and RFM segments."""

from metrics.clv.bgnbd import (
    BGNBDFit,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)
from metrics.clv.gamma_gamma import GammaGammaFit, expected_spend, fit_gamma_gamma
from metrics.clv.model import ClvModel, clear_cache, customer_model
from metrics.clv.predict import Prediction, predict
from metrics.clv.rfm import SEGMENT_GRID, SEGMENTS, rfm_segments
from metrics.clv.risk import RiskList, churn_dates, churn_risk, churned_ids, churned_note, risk_list
from metrics.clv.summary import summarize

__all__ = [
    "SEGMENTS",
    "SEGMENT_GRID",
    "BGNBDFit",
    "ClvModel",
    "GammaGammaFit",
    "Prediction",
    "RiskList",
    "churn_dates",
    "churn_risk",
    "churned_ids",
    "churned_note",
    "clear_cache",
    "conditional_expected_purchases",
    "customer_model",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "p_alive",
    "predict",
    "rfm_segments",
    "risk_list",
    "summarize",
]
