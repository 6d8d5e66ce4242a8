"""Predicted customer value: BG/NBD + Gamma-Gamma fits, P(alive), predicted CLV, churn risk and RFM segments."""

from metrics.clv.bgnbd import (
    BetaGeoFitter,
    BGNBDFit,
    conditional_expected_purchases,
    expected_purchases,
    p_alive,
)
from metrics.clv.fitter import ClvFitter, FitResult
from metrics.clv.gamma_gamma import GammaGammaFit, GammaGammaFitter, expected_spend
from metrics.clv.model import ClvModel, clear_cache, customer_model
from metrics.clv.predict import Prediction, predict
from metrics.clv.rfm import SEGMENT_GRID, SEGMENTS, rfm_segments
from metrics.clv.risk import RiskList, churn_dates, churn_risk, churned_ids, churned_note, risk_list
from metrics.clv.summary import summarize

__all__ = [
    "SEGMENTS",
    "SEGMENT_GRID",
    "BGNBDFit",
    "BetaGeoFitter",
    "ClvFitter",
    "ClvModel",
    "FitResult",
    "GammaGammaFit",
    "GammaGammaFitter",
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
    "p_alive",
    "predict",
    "rfm_segments",
    "risk_list",
    "summarize",
]
