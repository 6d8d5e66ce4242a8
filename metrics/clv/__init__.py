"""Predicted customer value: BG/NBD + Gamma-Gamma fits, P(alive), predicted CLV, churn risk and RFM segments.

Names are imported on first use (PEP 562), so a question that never fits a model does not import scipy
(issue 16: ~0.3 s CPU per process)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metrics.clv.bgnbd import (
        BetaGeoFitter,
        BGNBDFit,
        conditional_expected_purchases,
        expected_purchases,
        p_alive,
    )
    from metrics.clv.fitter import ClvFitter, FitResult
    from metrics.clv.gamma_gamma import GammaGammaFit, GammaGammaFitter, expected_spend
    from metrics.clv.model import ClvModel, clear_cache, customer_model, customer_model_of, model_from_totals
    from metrics.clv.predict import Prediction, predict
    from metrics.clv.rfm import SEGMENT_GRID, SEGMENTS, rfm_segments
    from metrics.clv.risk import RiskList, churn_dates, churn_risk, churned_ids, churned_note, risk_list
    from metrics.clv.summary import summarize

_WHERE = {
    "bgnbd": ["BetaGeoFitter", "BGNBDFit", "conditional_expected_purchases", "expected_purchases", "p_alive"],
    "fitter": ["ClvFitter", "FitResult"],
    "gamma_gamma": ["GammaGammaFit", "GammaGammaFitter", "expected_spend"],
    "model": ["ClvModel", "clear_cache", "customer_model", "customer_model_of", "model_from_totals"],
    "predict": ["Prediction", "predict"],
    "rfm": ["SEGMENT_GRID", "SEGMENTS", "rfm_segments"],
    "risk": ["RiskList", "churn_dates", "churn_risk", "churned_ids", "churned_note", "risk_list"],
    "summary": ["summarize"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import the submodule defining `name` on first use."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics.clv' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"metrics.clv.{module}"), name)
    globals()[name] = value
    return value


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
    "customer_model_of",
    "expected_purchases",
    "expected_spend",
    "model_from_totals",
    "p_alive",
    "predict",
    "rfm_segments",
    "risk_list",
    "summarize",
]
