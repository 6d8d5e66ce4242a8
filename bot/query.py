"""The one query entry point: command text in, a reply out. Slack, the CLI, the digest and the add-on call `answer`."""

from __future__ import annotations

import logging

from bot.context import Context
from bot.grammar import Command, CommandError, parse_command
from bot.help import help_reply
from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from metrics.engine import MetricError, compute
from metrics.periods import Period, PeriodError, parse_period
from metrics.registry import METRICS, OVERVIEW

log = logging.getLogger(__name__)


def answer(text: str, ctx: Context, *, command: str = "/pulse", user_id: str | None = None) -> Reply:
    """Parse and answer `text` typed after `command`. User mistakes come back as ErrorReply, never raised."""
    try:
        cmd = parse_command(text or "", command)
        return _dispatch(cmd, ctx)
    except (CommandError, PeriodError, MetricError) as err:
        return ErrorReply(str(err), getattr(err, "suggestion", None))


# Commands that cannot split or filter, and why: a `by` or `where` typed after them is refused, never ignored.
NO_BY = {
    "forecast": "a forecast follows one series; it has no `by` — forecast one segment with `where`, "
    "e.g. `forecast revenue where region=North`",
    "targets": "targets have no `by` — check one segment's targets with `where`, e.g. `targets where region=North`",
    "digest": "the digest covers the whole book or one segment; it has no `by` — use `digest where region=North`",
}
NO_SEGMENT = {
    "refresh": "refresh re-reads the whole workbook and rewrites every summary tab; it takes no `by` or `where`",
    "issues": "issues lists every data problem of the workbook; it takes no `by` or `where`",
    "alerts": 'each alert rule names its own segment in the config (`segment = "region=North"`); '
    "`alerts` takes no `by` or `where`",
}
_SEGMENT_WORDS = {"by", "按", "按照", "where", "筛选"}


def refusal(cmd: Command) -> ErrorReply | None:
    """The sentence for a `by`/`where` a command cannot honour (METRICS.md "Breakdowns"), else None."""
    words = [a.lower() for a in cmd.args]
    segmented = cmd.by or cmd.where or any(w in _SEGMENT_WORDS or "=" in w for w in words)
    if cmd.action in NO_SEGMENT and segmented:
        return ErrorReply(NO_SEGMENT[cmd.action])
    if cmd.action in NO_BY and (cmd.by or any(w in {"by", "按", "按照"} for w in words)):
        return ErrorReply(NO_BY[cmd.action])
    return None


def _dispatch(cmd: Command, ctx: Context) -> Reply:
    refused = refusal(cmd)
    if refused is not None:
        return refused
    if cmd.action == "help":
        return help_reply(ctx.settings)
    if cmd.action == "issues":
        return issues_reply(ctx, cmd)
    if cmd.action == "targets":
        return targets_reply(ctx, cmd)
    if cmd.action == "refresh":
        from bot.refresh import refresh

        return refresh(ctx).reply()
    if cmd.action in ("digest", "alerts", "why", "forecast", "survival"):
        from bot.actions import run_action

        return run_action(cmd, ctx)
    if cmd.metric == "overview":
        return overview_reply(ctx, cmd)
    if cmd.metric in ("cohorts", "risk"):
        from bot.actions import run_action

        return run_action(cmd, ctx)
    return metric_reply(ctx, cmd)


def resolve_period(ctx: Context, text: str | None, metric: str | None) -> Period:
    """The period named by `text`, else the configured default for this kind of metric."""
    if not text:
        spec = METRICS.get(metric or "")
        kind = spec.default_period if spec else "rates"
        text = ctx.settings.default_periods.surveys if kind == "surveys" else ctx.settings.default_periods.rates
    return parse_period(text, ctx.today(), ctx.settings.fiscal_year_start_month)


def data_notes(ctx: Context | None, cached, *, workbook_count: bool = True) -> list[str]:
    """Notes every answer carries about its data: a stale snapshot, and the invalid rows of the whole workbook
    left out — unless the answer states its own metric's count instead (one count per answer)."""
    from bot.render.format import WORKBOOK, left_out

    notes = []
    if cached.note:
        notes.append(cached.note)
    rejected = sum(cached.snapshot.excluded.values())
    if rejected and workbook_count:
        notes.append(left_out(rejected, WORKBOOK))
    return notes


def metric_reply(ctx: Context, cmd: Command) -> MetricReply:
    cached = ctx.snapshot()
    tables = ctx.tables(cached.snapshot)
    period = resolve_period(ctx, cmd.period, cmd.metric)
    vs = parse_period(cmd.vs, ctx.today(), ctx.settings.fiscal_year_start_month) if cmd.vs else None
    result = compute(cmd.metric, tables, period, ctx.options(), by=cmd.by, where=cmd.where, compare_to=vs)
    if cmd.metric == "clv":
        add_prediction(result, tables, ctx)
    return MetricReply(result, cached.snapshot.read_at, data_notes(ctx, cached, workbook_count=False), cmd.raw)


def add_prediction(result, tables, ctx: Context, top: int = 5) -> None:
    """Put the predicted CLV (BG/NBD + Gamma-Gamma) beside the historical one: the total with its 80%
    interval and the top customers by predicted value; a model that did not converge says so instead."""
    from metrics.clv import customer_model
    from metrics.engine import filter_where

    orders = filter_where(tables, result.where).orders
    if orders.empty:
        return
    model = customer_model(orders, ctx.today(), ctx.options())
    if not model.converged:
        result.notes.append(model.note or "the predictive model did not converge; showing historical CLV")
        return
    ranked = model.customers.dropna(subset=["predicted_clv"]).head(top)
    per_customer = model.total_clv / model.n_customers if model.total_clv is not None and model.n_customers else None
    result.details["predicted"] = {
        "horizon_months": model.horizon_months,
        "total": model.total_clv,
        "interval": list(model.total_interval) if model.total_interval else None,
        "interval_level": model.interval_level,
        "per_customer": per_customer,
        "customers": model.n_customers,
        "top": [
            {"customer_id": str(r.customer_id), "predicted_clv": float(r.predicted_clv)}
            for r in ranked.itertuples(index=False)
        ],
    }
    money = ctx.settings.currency
    from bot.render.format import number

    band = ""
    if model.total_interval:
        low = number(model.total_interval[0], "money", money)
        high = number(model.total_interval[1], "money", money)
        band = f" ({model.interval_level:.0%} interval {low}–{high})"
    tops = ", ".join(
        f"{r.customer_id} {number(float(r.predicted_clv), 'money', money)}" for r in ranked.itertuples(index=False)
    )
    result.notes.append(
        f"predicted next {model.horizon_months} months: {number(model.total_clv, 'money', money)} across "
        f"{model.n_customers:,} customers{band}, {number(per_customer, 'money', money)} each on average; top: {tops}"
        + (f" — the prediction is for all these customers together, not split by {result.by}" if result.by else "")
    )


def overview_reply(ctx: Context, cmd: Command) -> OverviewReply | TableReply:
    cached = ctx.snapshot()
    tables = ctx.tables(cached.snapshot)
    period = resolve_period(ctx, cmd.period, "overview")
    vs = parse_period(cmd.vs, ctx.today(), ctx.settings.fiscal_year_start_month) if cmd.vs else None
    results = [compute(m, tables, period, ctx.options(), by=cmd.by, where=cmd.where, compare_to=vs) for m in OVERVIEW]
    if cmd.by:
        return overview_by_reply(ctx, cmd, results, period, cached)
    return OverviewReply(results, period, cached.snapshot.read_at, data_notes(ctx, cached), cmd.raw)


def overview_by_reply(ctx: Context, cmd: Command, results: list, period: Period, cached) -> TableReply:
    """`overview by <dim>`: one row per headline metric, the total then each segment (largest first); a value
    on fewer than `surveys.min_n` observations is marked *, and the full results are in the JSON payload."""
    from bot.render.format import number

    by = results[0].by
    sizes: dict[str, int] = {}
    for r in results:
        for s in r.breakdown:
            sizes.setdefault(s.segment, 0)
        if r.metric == "customers":
            sizes.update({s.segment: int(s.value or 0) for s in r.breakdown})
    segments = sorted(sizes, key=lambda seg: (-sizes[seg], seg))
    money = ctx.settings.currency
    rows, small, notes = [], False, data_notes(ctx, cached)
    for r in results:
        cells = {s.segment: number(s.value, r.unit, money) + (" *" if s.small_sample else "") for s in r.breakdown}
        small = small or any(s.small_sample for s in r.breakdown)
        rows.append([r.label, number(r.value, r.unit, money)] + [cells.get(seg, "n/a") for seg in segments])
        notes += [
            f"{r.label}: {n}" for n in r.notes if not n.startswith("small sample") and f"{r.label}: {n}" not in notes
        ]
    if small:
        notes.append(f"* small sample: fewer than {ctx.settings.surveys.min_n} observations")
    scope = "".join(f" where {k}={v}" for k, v in cmd.where.items())
    return TableReply(
        f"Overview — {period.label}{scope} by {by}",
        ["metric", "all", *segments],
        rows,
        cached.snapshot.read_at,
        notes,
        payload={"metric": "overview", "by": by, "period": period.to_json(), "results": [r.to_json() for r in results]},
        query=cmd.raw,
    )


def targets_reply(ctx: Context, cmd: Command) -> TableReply | TextReply:
    targets = ctx.settings.targets
    if not targets:
        return TextReply(
            "Targets",
            [("No targets set", "Add a [targets] table to the config, e.g. `nps = 40`, `churn = 5`.")],
            markup=True,
        )
    cached = ctx.snapshot()
    tables = ctx.tables(cached.snapshot)
    rows, units = [], []
    for name in targets:
        if name not in METRICS:
            rows.append([name, None, targets[name], "unknown metric"])
            units.append(None)
            continue
        r = compute(name, tables, resolve_period(ctx, cmd.period, name), ctx.options(), where=cmd.where)
        status = "n/a" if r.target is None else ("met" if r.target.met else "missed")
        rows.append([name, r.value, targets[name], status, r.period.label])
        units.append(r.unit)
    scope = "".join(f" where {k}={v}" for k, v in cmd.where.items())
    return TableReply(
        f"Targets{scope}",
        ["metric", "value", "target", "status", "period"],
        rows,
        cached.snapshot.read_at,
        data_notes(ctx, cached),
        query=cmd.raw,
        units=[None, "row", "row", None, None],
        row_units=units,
    )


def issues_reply(ctx: Context, cmd: Command, limit: int = 20) -> TableReply:
    cached = ctx.snapshot()
    issues = cached.snapshot.issues
    rows = [[i.tab, i.row, i.column, i.value, i.reason, i.severity] for i in issues[:limit]]
    notes = [] if len(issues) <= limit else [f"showing {limit} of {len(issues)} — all are in the Pulse Data Issues tab"]
    return TableReply(
        f"Data issues: {len(issues)}",
        ["tab", "row", "column", "value", "problem", "severity"],
        rows,
        cached.snapshot.read_at,
        notes,
        payload={"count": len(issues)},
        query=cmd.raw,
    )
