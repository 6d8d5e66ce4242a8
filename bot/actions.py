"""Answers that are not a single metric: cohorts, churn risk, digest preview, alerts, why, forecast, survival."""

from __future__ import annotations

import importlib

from bot.context import Context
from bot.grammar import Command
from bot.replies import ErrorReply, Reply, TableReply
from metrics.periods import parse_period

# action → "module:function" taking (cmd, ctx) and returning a Reply; each lives with its feature.
HANDLERS = {
    "cohorts": "bot.actions:cohorts_reply",
    "risk": "bot.actions:risk_reply",
    "digest": "bot.digest.preview:digest_reply",
    "alerts": "bot.alerts.preview:alerts_reply",
    "why": "bot.analyses:why_reply",
    "forecast": "bot.analyses:forecast_reply",
    "survival": "bot.analyses:survival_reply",
}


def run_action(cmd: Command, ctx: Context) -> Reply:
    """Route a non-metric command to its handler."""
    key = cmd.metric if cmd.action == "metric" else cmd.action
    module, func = HANDLERS[key].split(":")
    try:
        handler = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError):
        return ErrorReply(f"`{key}` is not available in this installation")
    return handler(cmd, ctx)


def cohorts_reply(cmd: Command, ctx: Context) -> TableReply:
    """Monthly signup cohorts over the period (default the last 12 months): share with an order k months later."""
    from metrics.cohorts import cohort_table

    cached = ctx.snapshot()
    t = ctx.tables(cached.snapshot)
    period = parse_period(cmd.period or "last-12-months", ctx.today(), ctx.settings.fiscal_year_start_month)
    table = cohort_table(t, period.start, period.last_day, ctx.options())
    width = table.shares.shape[1] if len(table.cohorts) else 0
    columns = ["cohort", "customers"] + [f"M{k}" for k in range(width)]
    rows = [
        [str(c), int(n)] + [None if v != v else round(float(v), 1) for v in shares]
        for c, n, shares in zip(table.cohorts, table.sizes, table.shares)
    ]
    return TableReply(f"Cohort retention — {period.label} (% of cohort with an order in month k)", columns, rows,
                      cached.snapshot.read_at, query=cmd.raw)


def risk_reply(cmd: Command, ctx: Context, top: int = 10) -> Reply:
    """Top customers at risk of churning, by value at stake (customer ids only, no personal data)."""
    from metrics.clv import customer_model

    cached = ctx.snapshot()
    t = ctx.tables(cached.snapshot)
    if t.orders.empty:
        return ErrorReply("no orders to model churn risk from — add rows to the Orders tab")
    model = customer_model(t.orders, ctx.today(), ctx.options())
    notes = [model.note] if model.note else []
    if not model.converged:
        return TableReply("Churn risk unavailable", [], [], cached.snapshot.read_at, notes, query=cmd.raw)
    risky = model.customers.dropna(subset=["risk_rank"]).sort_values("risk_rank").head(top)
    rows = [
        [int(r.risk_rank), str(r.customer_id), round(float(r.p_alive), 3), round(float(r.value_at_stake), 2), str(r.segment)]
        for r in risky.itertuples(index=False)
    ]
    at_risk = int(model.customers["risk_rank"].notna().sum())
    notes.append(f"{at_risk} customers have P(alive) below {ctx.settings.risk.p_alive_below:g}")
    return TableReply(
        "Churn risk — top customers by value at stake", ["rank", "customer", "P(alive)", "value at stake", "segment"],
        rows, cached.snapshot.read_at, notes, payload={"at_risk": at_risk}, query=cmd.raw,
    )
