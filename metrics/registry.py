"""The one catalogue of metrics: per metric its function, label, unit, aliases, help, slash command and defaults.

Everything that names metrics derives from `CATALOGUE`: the command grammar's aliases (bot/grammar.py), the
`/pulse help` list (bot/help.py), the per-metric slash commands (bot/slack/listeners/commands/metric.py), the
Slack app manifest (`pulse manifest`, bot/slack/manifest.py), the `Pulse Summary` columns (`SUMMARY`) and the
README's metric list (checked by tests/metrics/test_registry.py). Adding a metric: docs/adding-a-metric.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from metrics import complaints, purchasing, renewal, retention, surveys, value
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult, Unit
from metrics.tables import Tables

Kind = Literal["proportion", "nps", "value", "report"]
MetricFn = Callable[[Tables, Period, MetricOptions], MetricResult]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its function (a report the bot composes — overview, cohorts, risk — has one that refuses), the
    kind of number (drives significance), the direction that is better, the tabs it reads and which default period
    applies; what people see of it (label, unit, help, aliases, slash command); which clauses it takes."""

    name: str
    fn: MetricFn
    kind: Kind
    tabs: tuple[str, ...]
    label: str
    unit: Unit | None
    help: str
    aliases: tuple[str, ...] = ()
    command: str | None = None
    lower_is_better: bool = False
    default_period: Literal["rates", "surveys"] = "rates"
    needs: tuple[str, ...] | None = None
    summary: bool = True
    takes_period: bool = True
    takes_vs: bool = True
    splits: bool = True
    filters: bool = True

    @property
    def required(self) -> tuple[str, ...]:
        """The tabs the metric cannot do without ("customers|orders": either will do). By default every tab it
        reads except Customers, which a first order stands in for."""
        return self.needs if self.needs is not None else tuple(t for t in self.tabs if t != "customers")

    @property
    def usage(self) -> str:
        """The clauses its slash command takes, for Slack's usage hint: `[period] [by <dimension>] …`."""
        clauses = (
            (self.takes_period, "[period]"),
            (self.splits, "[by <dimension>]"),
            (self.filters, "[where <dimension>=<value>]"),
            (self.takes_vs, "[vs <period>]"),
        )
        return " ".join(text for wanted, text in clauses if wanted)


def _report(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """The function of a report (overview, cohorts, risk): the bot composes those from several metrics."""
    raise ValueError("a report is composed by the bot, not computed as one metric")


_PEOPLE = ("customers", "orders")
_EITHER = ("customers|orders",)

# In display order: `/pulse help`, the README list and the `Pulse Summary` columns follow it.
_SPECS = (
    MetricSpec(
        "customers",
        retention.active_customers,
        "value",
        _PEOPLE,
        "Active customers",
        "count",
        "customers active on the last day of the period",
        ("active-customers", "active", "活跃客户", "活跃客户数"),
        needs=_EITHER,
    ),
    MetricSpec(
        "new",
        retention.new_customers,
        "value",
        _PEOPLE,
        "New customers",
        "count",
        "customers whose first signup or order falls in the period",
        ("new-customers", "new-customer", "新客户", "新客"),
        needs=_EITHER,
    ),
    MetricSpec(
        "growth",
        retention.growth,
        "value",
        _PEOPLE,
        "Customer-base growth",
        "percent",
        "change of the active customer base over the period",
        ("growth-rate", "customer-growth", "增长率", "客户增长率"),
        needs=_EITHER,
    ),
    MetricSpec(
        "retention",
        retention.retention,
        "proportion",
        _PEOPLE,
        "Customer retention",
        "percent",
        "customer retention rate: share of the customers active at the start still active at the end",
        ("retention-rate", "customer-retention", "留存率", "留存", "客户留存率"),
        "/retention",
        needs=_EITHER,
    ),
    MetricSpec(
        "churn",
        retention.churn,
        "proportion",
        _PEOPLE,
        "Customer churn",
        "percent",
        "customer churn rate: share of the customers active at the start lost by the end",
        ("churn-rate", "attrition", "customer-churn", "流失率", "流失", "客户流失率"),
        "/churn",
        lower_is_better=True,
        needs=_EITHER,
    ),
    MetricSpec(
        "lapsed",
        retention.lapsed,
        "proportion",
        ("orders",),
        "Lapsed customers",
        "percent",
        "share of buyers with no order for `churn.after_days`",
        ("lapsed-customers", "lapsed-share", "失效客户占比", "失效客户"),
        lower_is_better=True,
    ),
    MetricSpec(
        "revenue",
        purchasing.revenue,
        "value",
        ("orders",),
        "Revenue",
        "money",
        "revenue: the amount of the period's orders, refunds deducted",
        ("sales", "收入", "营收", "销售额"),
        "/revenue",
    ),
    MetricSpec(
        "orders",
        purchasing.orders,
        "value",
        ("orders",),
        "Orders",
        "count",
        "number of orders in the period",
        ("order", "order-count", "订单", "订单数"),
    ),
    MetricSpec(
        "purchasers",
        purchasing.purchasers,
        "value",
        ("orders",),
        "Purchasers",
        "count",
        "customers with at least one order in the period",
        ("buyers", "purchasing-customers", "购买客户数", "购买人数"),
    ),
    MetricSpec(
        "aov",
        purchasing.aov,
        "value",
        ("orders",),
        "Average order value",
        "money",
        "average order value",
        ("average-order-value", "avg-order-value", "basket", "客单价", "平均订单价值"),
    ),
    MetricSpec(
        "frequency",
        purchasing.frequency,
        "value",
        ("orders",),
        "Purchase frequency",
        "ratio",
        "orders per purchaser",
        ("purchase-frequency", "order-frequency", "购买频率"),
    ),
    MetricSpec(
        "repeat",
        purchasing.repeat_rate,
        "proportion",
        ("orders",),
        "Repeat-purchase rate",
        "percent",
        "repeat-purchase rate: share of purchasers with two or more orders",
        ("repeat-purchase", "repeat-purchase-rate", "repeat-rate", "重复购买率", "复购率"),
        "/repeat",
    ),
    MetricSpec(
        "returning",
        purchasing.returning_rate,
        "proportion",
        ("orders",),
        "Returning-customer rate",
        "percent",
        "share of purchasers whose first order was before the period",
        ("returning-rate", "returning-customers", "returning-customer-rate", "回购率"),
    ),
    MetricSpec(
        "refunds",
        purchasing.refund_rate,
        "proportion",
        ("orders",),
        "Refund rate",
        "percent",
        "refund rate: share of orders refunded",
        ("refund", "refund-rate", "returns", "return-rate", "退换货率", "退货率"),
        lower_is_better=True,
    ),
    MetricSpec(
        "nrr",
        retention.nrr,
        "value",
        ("orders",),
        "Net revenue retention",
        "percent",
        "net revenue retention: this period's revenue from last period's buyers",
        ("net-revenue-retention", "ndr", "net-dollar-retention", "净收入留存率"),
    ),
    MetricSpec(
        "grr",
        retention.grr,
        "value",
        ("orders",),
        "Gross revenue retention",
        "percent",
        "gross revenue retention: as nrr, without expansion",
        ("gross-revenue-retention", "gross-retention", "毛收入留存率"),
    ),
    MetricSpec(
        "nps",
        surveys.nps,
        "nps",
        ("responses",),
        "Net Promoter Score",
        "nps",
        "Net Promoter Score (−100…100) with margin of error",
        ("net-promoter", "net-promoter-score", "净推荐值", "净推荐"),
        "/nps",
        default_period="surveys",
    ),
    MetricSpec(
        "csat",
        surveys.csat,
        "proportion",
        ("responses",),
        "CSAT",
        "percent",
        "customer satisfaction: share of satisfied answers",
        ("satisfaction", "customer-satisfaction", "满意度", "客户满意度"),
        "/csat",
        default_period="surveys",
    ),
    MetricSpec(
        "csi",
        surveys.csi,
        "proportion",
        ("responses",),
        "CSI",
        "percent",
        "customer satisfaction index: share of satisfied answers on the 1–10 scale",
        ("satisfaction-index", "customer-satisfaction-index", "客户满意度指数", "满意度指数"),
        "/csi",
        default_period="surveys",
    ),
    MetricSpec(
        "complaints",
        complaints.complaint_rate,
        "proportion",
        ("complaints", "orders"),
        "Complaint rate",
        "percent",
        "complaint rate: complaints per order (or per active customer)",
        ("complaint", "complaint-rate", "complaints-rate", "投诉率", "客户投诉率", "投诉"),
        "/complaints",
        lower_is_better=True,
        needs=("complaints", "orders|customers"),
    ),
    MetricSpec(
        "resolution",
        complaints.resolution_rate,
        "proportion",
        ("complaints",),
        "Resolution rate",
        "percent",
        "share of the period's complaints resolved",
        ("resolution-rate", "resolved", "first-contact-resolution", "问题解决率", "解决率"),
    ),
    MetricSpec(
        "cac",
        value.cac,
        "value",
        ("spend", "customers"),
        "Customer acquisition cost",
        "money",
        "customer acquisition cost: spend per new customer",
        ("acquisition-cost", "customer-acquisition-cost", "获客成本", "客户获取成本"),
        "/cac",
        lower_is_better=True,
    ),
    MetricSpec(
        "clv",
        value.clv,
        "value",
        ("orders", "customers"),
        "Customer lifetime value",
        "money",
        "customer lifetime value, historical and predicted",
        ("ltv", "cltv", "lifetime-value", "customer-lifetime-value", "客户终身价值", "终身价值"),
        "/clv",
    ),
    MetricSpec(
        "net-clv",
        value.net_clv,
        "value",
        ("orders", "spend"),
        "Net customer lifetime value",
        "money",
        "customer lifetime value less acquisition cost",
        ("net-ltv", "net-lifetime-value", "净终身价值"),
        summary=False,
    ),
    MetricSpec(
        "ltv-cac",
        value.ltv_cac,
        "value",
        ("orders", "spend"),
        "LTV:CAC",
        "ratio",
        "customer lifetime value per acquisition cost",
        ("ltv:cac", "ltvcac", "ltv/cac", "clv:cac", "clv-cac", "clv/cac", "ltv-to-cac", "ltv-cac-ratio"),
    ),
    MetricSpec(
        "renewal",
        renewal.renewal_rate,
        "proportion",
        ("subscriptions",),
        "Renewal rate",
        "percent",
        "contract renewal rate (Subscriptions tab)",
        ("renewals", "renewal-rate", "续约率", "续费率"),
    ),
    MetricSpec(
        "cohorts",
        _report,
        "report",
        _PEOPLE,
        "Cohort retention",
        None,
        "retention by signup cohort: share with an order k months later",
        ("cohort", "cohort-retention", "同期群", "队列"),
        "/cohorts",
        summary=False,
        takes_vs=False,
    ),
    MetricSpec(
        "risk",
        _report,
        "report",
        ("orders",),
        "Churn risk",
        None,
        "still-active customers at risk of churning, by value at stake",
        ("churn-risk", "at-risk", "流失风险", "风险"),
        "/risk",
        summary=False,
        takes_period=False,
        takes_vs=False,
    ),
    MetricSpec(
        "overview",
        _report,
        "report",
        (),
        "Overview",
        None,
        "headline KPIs for a period",
        ("summary", "dashboard", "概览", "总览"),
        "/overview",
        summary=False,
    ),
)

# Every metric and report by name, in display order.
CATALOGUE: dict[str, MetricSpec] = {s.name: s for s in _SPECS}

# The metrics the engine computes (every entry but the reports).
METRICS: dict[str, MetricSpec] = {s.name: s for s in _SPECS if s.kind != "report"}

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
SUMMARY = tuple(name for name, spec in METRICS.items() if spec.summary)

# Bumped whenever a definition changes, and written next to every summary row so old numbers can be audited.
DEFINITIONS_VERSION = "2026.11"
