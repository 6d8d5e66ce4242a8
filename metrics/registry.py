"""The catalogue of metrics: name → how to compute it, what kind of number it is, which way is better."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult
from metrics.tables import Tables

Kind = Literal["proportion", "nps", "mean", "value"]
MetricFn = Callable[[Tables, Period, MetricOptions], MetricResult]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its function (as "module:function"), the kind of number (drives significance),
    the direction that is better, the tabs it reads and which default period applies."""

    name: str
    target: str
    kind: Kind
    tabs: tuple[str, ...]
    lower_is_better: bool = False
    default_period: Literal["rates", "surveys"] = "rates"
    needs: tuple[str, ...] | None = None

    @property
    def required(self) -> tuple[str, ...]:
        """The tabs the metric cannot do without ("customers|orders": either will do). By default every tab it
        reads except Customers, which a first order stands in for."""
        return self.needs if self.needs is not None else tuple(t for t in self.tabs if t != "customers")

    @property
    def fn(self) -> MetricFn:
        module, func = self.target.split(":")
        fn: MetricFn = getattr(importlib.import_module(module), func)
        return fn


_SPECS = [
    MetricSpec("nps", "metrics.surveys:nps", "nps", ("responses",), default_period="surveys"),
    MetricSpec("csat", "metrics.surveys:csat", "proportion", ("responses",), default_period="surveys"),
    MetricSpec("csi", "metrics.surveys:csi", "proportion", ("responses",), default_period="surveys"),
    MetricSpec(
        "retention", "metrics.retention:retention", "proportion", ("customers", "orders"), needs=("customers|orders",)
    ),
    MetricSpec(
        "churn",
        "metrics.retention:churn",
        "proportion",
        ("customers", "orders"),
        lower_is_better=True,
        needs=("customers|orders",),
    ),
    MetricSpec("growth", "metrics.retention:growth", "value", ("customers", "orders"), needs=("customers|orders",)),
    MetricSpec(
        "customers", "metrics.retention:active_customers", "value", ("customers", "orders"), needs=("customers|orders",)
    ),
    MetricSpec("new", "metrics.retention:new_customers", "value", ("customers", "orders"), needs=("customers|orders",)),
    MetricSpec("lapsed", "metrics.retention:lapsed", "proportion", ("orders",), lower_is_better=True),
    MetricSpec("nrr", "metrics.retention:nrr", "value", ("orders",)),
    MetricSpec("grr", "metrics.retention:grr", "value", ("orders",)),
    MetricSpec("revenue", "metrics.purchasing:revenue", "value", ("orders",)),
    MetricSpec("orders", "metrics.purchasing:orders", "value", ("orders",)),
    MetricSpec("purchasers", "metrics.purchasing:purchasers", "value", ("orders",)),
    MetricSpec("aov", "metrics.purchasing:aov", "value", ("orders",)),
    MetricSpec("frequency", "metrics.purchasing:frequency", "value", ("orders",)),
    MetricSpec("repeat", "metrics.purchasing:repeat_rate", "proportion", ("orders",)),
    MetricSpec("returning", "metrics.purchasing:returning_rate", "proportion", ("orders",)),
    MetricSpec("refunds", "metrics.purchasing:refund_rate", "proportion", ("orders",), lower_is_better=True),
    MetricSpec(
        "complaints",
        "metrics.complaints:complaint_rate",
        "proportion",
        ("complaints", "orders"),
        lower_is_better=True,
        needs=("complaints", "orders|customers"),
    ),
    MetricSpec("resolution", "metrics.complaints:resolution_rate", "proportion", ("complaints",)),
    MetricSpec("cac", "metrics.value:cac", "value", ("spend", "customers"), lower_is_better=True),
    MetricSpec("clv", "metrics.value:clv", "value", ("orders", "customers")),
    MetricSpec("net-clv", "metrics.value:net_clv", "value", ("orders", "spend")),
    MetricSpec("ltv-cac", "metrics.value:ltv_cac", "value", ("orders", "spend")),
    MetricSpec("renewal", "metrics.renewal:renewal_rate", "proportion", ("subscriptions",)),
]

METRICS: dict[str, MetricSpec] = {s.name: s for s in _SPECS}

# The headline set shown by `overview`, the digest and the add-on's KPI cards, in display order.
OVERVIEW = (
    "customers",
    "new",
    "retention",
    "churn",
    "nps",
    "csat",
    "repeat",
    "complaints",
    "revenue",
    "aov",
    "cac",
    "clv",
    "ltv-cac",
)

# Columns of the `Pulse Summary` tab, one row per month.
SUMMARY = (
    "customers",
    "new",
    "growth",
    "retention",
    "churn",
    "lapsed",
    "revenue",
    "orders",
    "purchasers",
    "aov",
    "frequency",
    "repeat",
    "returning",
    "refunds",
    "nrr",
    "grr",
    "nps",
    "csat",
    "csi",
    "complaints",
    "resolution",
    "cac",
    "clv",
    "ltv-cac",
    "renewal",
)

# Bumped whenever a definition changes, and written next to every summary row so old numbers can be audited.
DEFINITIONS_VERSION = "2026.11"
