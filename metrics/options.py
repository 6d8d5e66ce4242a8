"""Options that change how metrics are computed, built from config by the caller (metrics reads no files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Scale:
    """A survey answer scale; answers ≥ satisfied_from count as satisfied (CSAT%)."""

    min: int
    max: int
    satisfied_from: int


def _scales() -> dict[str, Scale]:
    return {"NPS": Scale(0, 10, 9), "CSAT": Scale(1, 5, 4), "CSI": Scale(1, 10, 9)}


@dataclass(frozen=True)
class MetricOptions:
    """Everything in config that a metric definition depends on (METRICS.md names each one)."""

    churn_mode: Literal["auto", "explicit", "inactivity"] = "auto"
    churn_after_days: int = 90
    scales: dict[str, Scale] = field(default_factory=_scales)
    min_n: int = 30
    complaints_denominator: Literal["orders", "customers"] = "orders"
    resolved_statuses: tuple[str, ...] = ("resolved", "closed", "已解决", "已关闭")
    clv_lifetime_years: float | Literal["survival"] | None = None
    clv_max_lifetime_years: float = 10.0
    gross_margin: float = 1.0
    horizon_months: int = 12
    discount_rate: float = 0.01
    risk_p_alive_below: float = 0.5
    renewal_grace_days: int = 30
    targets: dict[str, float] = field(default_factory=dict)
    fiscal_year_start_month: int = 1
