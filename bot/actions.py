"""The cohort and churn-risk answers (routed by `bot.query.ROUTES`)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from bot.context import Context, data_notes
from bot.grammar import Command
from bot.i18n import N_, _
from bot.render import format as fmt
from bot.replies import ErrorReply, Reply, TableReply
from metrics.clv import ClvModel, churned_ids, churned_note, customer_model_of, risk_list
from metrics.cohorts import CohortTable, cohort_table
from metrics.engine import check_dimension, filter_where, resolve_options, segment_tables
from metrics.periods import Period, parse_period


def cohorts_reply(cmd: Command, ctx: Context) -> Reply:
    """Monthly signup cohorts over the period (default the last 12 months): share with an order k months later.

    `where` keeps one segment's customers; `by` gives each segment's cohorts, one block of rows per segment."""
    if cmd.vs:
        return ErrorReply(
            _("cohorts have no comparison period — drop `vs`; each row already follows one cohort over time")
        )
    period = parse_period(cmd.period or "last-12-months", ctx.today(), ctx.settings.fiscal_year_start_month)
    by, tables, read_at, notes = _pushed_cohorts(cmd, ctx, period) or _cohorts(cmd, ctx, period)
    width = max((table.shares.shape[1] for _, table in tables if len(table.cohorts)), default=0)
    columns = ([by] if by else []) + [_("cohort"), _("customers")] + [f"M{k}" for k in range(width)]
    rows = []
    for segment, table in sorted(tables, key=lambda x: (-int(x[1].sizes.sum()), x[0] or "")):
        for c, n, shares in zip(table.cohorts, table.sizes, table.shares, strict=True):
            cells = [None if v != v else round(float(v), 1) for v in shares]
            rows.append(([segment] if by else []) + [str(c), int(n)] + cells + [None] * (width - len(cells)))
    scope = fmt.scope(cmd.where) + (_(" by {dimension}", dimension=by) if by else "")
    title = _("Cohort retention — {period}{scope}", period=fmt.period(period), scope=scope)
    # drawn on the chart in English only (bot.charts.words); in another language Slack posts the title with the chart
    chart_title = f"Cohort retention — {period.label}{''.join(f' where {k}={v}' for k, v in cmd.where.items())}"
    charts = []
    if by is None and tables and len(tables[0][1].cohorts):
        from bot.charts import cohort_heatmap  # lazy: matplotlib, only when a chart is drawn

        charts.append(
            ("cohorts.png", cohort_heatmap(chart_title, [str(c) for c in tables[0][1].cohorts], tables[0][1].shares))
        )
    return TableReply(
        _("{title} (% of cohort with an order in month k)", title=title),
        columns,
        rows,
        read_at,
        notes,
        query=cmd.raw,
        attachments=charts,
    )


CohortInputs = tuple[str | None, list[tuple[str | None, CohortTable]], datetime, list[str]]


def _cohorts(cmd: Command, ctx: Context, period: Period) -> CohortInputs:
    """From the snapshot: the dimension of `by`, the cohort table of each segment, when the data was read, notes."""
    cached = ctx.snapshot()
    whole = ctx.tables(cached.snapshot)
    t = filter_where(whole, cmd.where)
    by = check_dimension(whole, cmd.by) if cmd.by else None
    o = resolve_options(whole, ctx.options())
    parts = (
        [(None, t)] if by is None else [(str(v), segment_tables(t, by, str(v))) for v in t.dimension_of(by).unique()]
    )
    tables = [(segment, cohort_table(part, period.start, period.last_day, o)) for segment, part in parts]
    return by, tables, cached.snapshot.read_at, data_notes(ctx, cached)


def _pushed_cohorts(cmd: Command, ctx: Context, period: Period) -> CohortInputs | None:
    """`_cohorts` from the warehouse's cohort counts (`[source] pushdown = true`); None to answer from the snapshot."""
    from bot import pushed_series

    with pushed_series.pushed(ctx) as p:
        if p is None:
            return None
        by = p.by(cmd.by)
        tables = pushed_series.cohort_tables(p, period.start, period.last_day, cmd.where, by)
        return by, tables, p.read_at, p.notes()


def risk_reply(cmd: Command, ctx: Context, top: int = 10, top_per_segment: int = 5) -> Reply:
    """Top customers at risk of churning, by value at stake (customer ids only, no personal data).

    P(alive) comes from one model of the whole book, so a customer's risk does not depend on the view;
    `where` narrows the list to a segment's customers and `by` splits it (the top few of each segment).
    Customers already churned at today's date are a loss, not a risk: left out and counted on their own line."""
    if cmd.period or cmd.vs:
        return ErrorReply(
            _(
                "churn risk is as of today ({today}); it takes no period or `vs` — "
                "try `risk`, `risk where region=North` or `risk by plan`",
                today=fmt.day(ctx.today()),
            )
        )
    inputs = _pushed_risk(cmd, ctx) or _risk_inputs(cmd, ctx)
    if inputs is None:
        return ErrorReply(_("no orders to model churn risk from — add rows to the Orders tab"))
    model, churned, keep, dims, read_at, notes = inputs
    by = str(dims.name) if dims is not None else None
    notes = notes + ([model.note] if model.note else [])
    if model.customers["p_alive"].isna().all():
        return TableReply(_("Churn risk unavailable"), [], [], read_at, notes, query=cmd.raw)
    overall = risk_list(model.customers, churned, keep)
    money = ctx.settings.currency
    scope = fmt.scope(cmd.where)
    notes.append(fmt.at_risk(overall.at_risk, ctx.settings.risk.p_alive_below, overall.value_at_stake, money))
    notes += [fmt.note(n) for n in (churned_note(overall.already_churned),) if n]
    payload = {
        "at_risk": overall.at_risk,
        "value_at_stake": overall.value_at_stake,
        "already_churned": overall.already_churned,
        "already_churned_value": overall.churned_value,
    }
    columns = [_("rank"), _("customer"), _("P(alive)"), _("value at stake"), _("segment")]
    if by is None:
        rows = [_risk_row(r) for r in overall.customers.head(top).itertuples(index=False)]
        return TableReply(
            _("Churn risk — top customers by value at stake{scope}", scope=scope),
            columns,
            rows,
            read_at,
            notes,
            payload=payload,
            query=cmd.raw,
            units=RISK_UNITS,
        )
    assert dims is not None
    parts = []
    for value in dims.unique():
        part = risk_list(model.customers, churned, dims.index[dims == value])
        parts.append((str(value), part))
    parts.sort(key=lambda x: (-x[1].value_at_stake, x[0]))
    rows = [
        [segment, *_risk_row(r)]
        for segment, part in parts
        for r in part.customers.head(top_per_segment).itertuples(index=False)
    ]
    for segment, part in parts:
        notes.append(fmt.segment_at_risk(segment, part.at_risk, part.value_at_stake, part.already_churned, money))
    payload["by"] = by
    payload["segments"] = [
        {
            "segment": segment,
            "at_risk": part.at_risk,
            "value_at_stake": part.value_at_stake,
            "already_churned": part.already_churned,
            "already_churned_value": part.churned_value,
        }
        for segment, part in parts
    ]
    return TableReply(
        _(
            "Churn risk{scope} by {dimension} — top {k} of each by value at stake",
            scope=scope,
            dimension=by,
            k=top_per_segment,
        ),
        [by, *columns],
        rows,
        read_at,
        notes,
        payload=payload,
        query=cmd.raw,
        units=[None, *RISK_UNITS],
    )


RiskInputs = tuple[ClvModel, set[str], "pd.Index | None", "pd.Series | None", datetime, list[str]]


def _risk_inputs(cmd: Command, ctx: Context) -> RiskInputs | None:
    """From the snapshot: the whole book's model, the churned ids, the ids in `where` (None without), each scoped
    customer's segment of `by` (named after it; None without), when the data was read and its notes; None without
    orders."""
    cached = ctx.snapshot()
    whole = ctx.tables(cached.snapshot)
    scoped = filter_where(whole, cmd.where)
    by = check_dimension(whole, cmd.by) if cmd.by else None
    if whole.orders.empty:
        return None
    o = resolve_options(whole, ctx.options())
    model = customer_model_of(whole, ctx.today(), o)
    keep = scoped.customer_ids() if cmd.where else None
    dims = scoped.dimension_of(by).rename(by) if by else None
    return model, churned_ids(whole, ctx.today(), o), keep, dims, cached.snapshot.read_at, data_notes(ctx, cached)


def _pushed_risk(cmd: Command, ctx: Context) -> RiskInputs | None:
    """`_risk_inputs` from the warehouse's per-customer totals and days (`[source] pushdown = true`); None to answer
    from the snapshot."""
    from bot import pushed_series

    with pushed_series.pushed(ctx) as p:
        if p is None:
            return None
        by = p.by(cmd.by)
        o = pushed_series.resolved(p, ctx.options())
        model = pushed_series.customer_model(p, ctx.today(), o)
        if model.n_customers == 0:
            return None
        churned = pushed_series.churned_ids(p, ctx.today(), o)
        members = pushed_series.members(p, cmd.where, by) if cmd.where or by else None
        keep = members.index if members is not None and cmd.where else None
        dims = members if members is not None and by else None
        return model, churned, keep, dims, p.read_at, p.notes()


# Units of the risk table's columns (rank, customer, P(alive), value at stake, segment) for text and Slack.
RISK_UNITS = [None, None, "probability", "money", None]


def _risk_row(r) -> list:
    """One listed customer: rank, id, P(alive), value at stake, RFM segment."""
    return [
        int(r.risk_rank),
        str(r.customer_id),
        round(float(r.p_alive), 3),
        round(float(r.value_at_stake), 2),
        _(str(r.segment)),
    ]


# The RFM segment names metrics/clv/rfm.py writes, for extraction; `_risk_row` shows them translated.
RFM_SEGMENTS = (
    N_("Champions"),
    N_("Loyal"),
    N_("Potential"),
    N_("New"),
    N_("At risk"),
    N_("Can't lose"),
    N_("Hibernating"),
    N_("Lost"),
)
