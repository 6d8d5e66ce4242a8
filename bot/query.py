"""The one query entry point: command text in, a reply out. Slack, the CLI, the digest and the add-on call `answer`."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.actions import cohorts_reply, risk_reply
from bot.analyses import forecast_reply, survival_reply, why_reply
from bot.context import Context, data_notes, resolve_period
from bot.errors import error_reply
from bot.grammar import Command, parse_command, with_dimensions
from bot.help import help_reply
from bot.i18n import N_, _
from bot.reasons import reasons_in_language, rule_rows
from bot.render import format as fmt
from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from bot.tabs import refresh
from metrics.clv import ClvModel, customer_model_of
from metrics.engine import compute, filter_where
from metrics.errors import BadCommand
from metrics.periods import Period, vs_period
from metrics.registry import METRICS, OVERVIEW
from metrics.result import MetricResult
from sheets.validate import DataIssue

log = logging.getLogger(__name__)


def answer(text: str, ctx: Context, *, command: str = "/pulse") -> Reply:
    """Parse and answer `text` typed after `command`. User mistakes come back as ErrorReply, never raised."""
    return reply_to(parse(text, command), ctx)


def parse(text: str, command: str = "/pulse") -> Command | ErrorReply:
    """The typed command for `text` typed after `command`, or the sentence saying why it does not parse.

    Surfaces parse once and pass the result on (Slack checks access on it, then answers it)."""
    try:
        return parse_command(text or "", command)
    except BadCommand as err:
        return error_reply(err)


def reply_to(cmd: Command | ErrorReply, ctx: Context) -> Reply:
    """The answer to a parsed command (a parse error is its own answer). User mistakes come back as ErrorReply."""
    if isinstance(cmd, ErrorReply):
        return cmd
    try:
        return _dispatch(with_dimensions(cmd), ctx)
    except BadCommand as err:
        return error_reply(err)


# Commands that cannot split or filter, and why: a `by` or `where` typed after them is refused, never ignored.
NO_BY = {
    "forecast": N_(
        "a forecast follows one series; it has no `by` — forecast one segment with `where`, "
        "e.g. `forecast revenue where region=North`"
    ),
    "targets": N_("targets have no `by` — check one segment's targets with `where`, e.g. `targets where region=North`"),
    "digest": N_("the digest covers the whole book or one segment; it has no `by` — use `digest where region=North`"),
}
NO_SEGMENT = {
    "refresh": N_("refresh re-reads the whole workbook and rewrites every summary tab; it takes no `by` or `where`"),
    "issues": N_("issues lists every data problem of the workbook; it takes no `by` or `where`"),
    "alerts": N_(
        'each alert rule names its own segment in the config (`segment = "region=North"`); '
        "`alerts` takes no `by` or `where`"
    ),
}
_SEGMENT_WORDS = {"by", "按", "按照", "where", "筛选", "其中"}


def refusal(cmd: Command) -> ErrorReply | None:
    """The sentence for a `by`/`where` a command cannot honour (METRICS.md "Breakdowns"), else None."""
    words = [a.lower() for a in cmd.args]
    segmented = cmd.by or cmd.where or any(w in _SEGMENT_WORDS or "=" in w for w in words)
    if cmd.action in NO_SEGMENT and segmented:
        return ErrorReply(_(NO_SEGMENT[cmd.action]))
    if cmd.action in NO_BY and (cmd.by or any(w in {"by", "按", "按照"} for w in words)):
        return ErrorReply(_(NO_BY[cmd.action]))
    return None


def _dispatch(cmd: Command, ctx: Context) -> Reply:
    refused = refusal(cmd)
    if refused is not None:
        return refused
    if cmd.action == "metric":
        return ROUTES.get(cmd.metric or "", metric_reply)(cmd, ctx)
    return ROUTES[cmd.action](cmd, ctx)


def metric_reply(cmd: Command, ctx: Context) -> MetricReply:
    pushed = pushed_reply(cmd, ctx)
    if pushed is not None:
        return pushed
    cached = ctx.snapshot()
    tables = ctx.tables(cached.snapshot)
    period = resolve_period(ctx, cmd.period, cmd.metric)
    vs = vs_period(cmd.vs, period, ctx.today(), ctx.settings.fiscal_year_start_month) if cmd.vs else None
    result = compute(cmd.metric, tables, period, ctx.options(), by=cmd.by, where=cmd.where, compare_to=vs)
    if cmd.metric == "clv":
        add_prediction(result, tables, ctx)
    return MetricReply(result, cached.snapshot.read_at, data_notes(ctx, cached, workbook_count=False), cmd.raw)


def pushed_reply(cmd: Command, ctx: Context) -> MetricReply | None:
    """The answer computed in the warehouse (`[source] pushdown = true`), or None to answer from the snapshot."""
    from bot import pushed_series
    from bot.pushdown import SINGLE, compute_pushed, pushed_down

    if cmd.metric not in SINGLE or not pushed_down(ctx):
        return None
    period = resolve_period(ctx, cmd.period, cmd.metric)
    vs = vs_period(cmd.vs, period, ctx.today(), ctx.settings.fiscal_year_start_month) if cmd.vs else None
    result = compute_pushed(ctx, cmd.metric, period, ctx.options(), by=cmd.by, where=cmd.where, compare_to=vs)
    if result is not None and cmd.metric == "clv":  # the predicted CLV, from the warehouse's per-customer summary
        with pushed_series.pushed(ctx) as p:
            if p is None:
                return None
            model = pushed_series.customer_model(p, ctx.today(), ctx.options(), result.where)
            if len(model.customers) or sum(model.excluded.values()):  # the scope has orders
                predict_into(result, model)
    return None if result is None else MetricReply(result, ctx.now(), [], cmd.raw)


def add_prediction(result, tables, ctx: Context, top: int = 5) -> None:
    """Put the predicted CLV (BG/NBD + Gamma-Gamma) beside the historical one: the total with its 80%
    interval and the top customers by predicted value (numbers: `bot.render.format.notes` words them); a model that
    did not converge says so instead."""
    scoped = filter_where(tables, result.where)
    if scoped.orders.empty:
        return
    predict_into(result, customer_model_of(scoped, ctx.today(), ctx.options()), top)


def predict_into(result, model: ClvModel, top: int = 5) -> None:
    """The predicted CLV of a fitted model in `result.details["predicted"]`, or the note saying why there is none."""
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


def overview_reply(cmd: Command, ctx: Context) -> OverviewReply | TableReply:
    from bot.pushdown import pushed_overview

    period = resolve_period(ctx, cmd.period, "overview")
    vs = vs_period(cmd.vs, period, ctx.today(), ctx.settings.fiscal_year_start_month) if cmd.vs else None
    pushed = pushed_overview(ctx, OVERVIEW, period, ctx.options(), by=cmd.by, where=cmd.where, compare_to=vs)
    if pushed is not None:  # every headline metric from the warehouse's aggregates: no row is read
        results, notes, as_of = pushed.results, pushed.notes, ctx.now()
    else:
        cached = ctx.snapshot()
        tables = ctx.tables(cached.snapshot)
        o = ctx.options()
        results = [compute(m, tables, period, o, by=cmd.by, where=cmd.where, compare_to=vs) for m in OVERVIEW]
        notes, as_of = data_notes(ctx, cached), cached.snapshot.read_at
    if cmd.by:
        return overview_by_reply(ctx, cmd, results, period, notes, as_of)
    return OverviewReply(results, period, as_of, notes, cmd.raw)


def overview_by_reply(
    ctx: Context, cmd: Command, results: list, period: Period, data: list[str], as_of: datetime
) -> TableReply:
    """`overview by <dim>`: one row per headline metric, the total then each segment (largest first); a value
    on fewer than `surveys.min_n` observations is marked *, and the full results are in the JSON payload."""
    by = results[0].by
    sizes: dict[str, int] = {}
    for r in results:
        for s in r.breakdown:
            sizes.setdefault(s.segment, 0)
        if r.metric == "customers":
            sizes.update({s.segment: int(s.value or 0) for s in r.breakdown})
    segments = sorted(sizes, key=lambda seg: (-sizes[seg], seg))
    rows: list[list] = []
    marks: list[tuple[int, int]] = []
    notes = list(data)
    for i, r in enumerate(results):
        cells = {s.segment: s for s in r.breakdown}
        marks += [(i, 2 + j) for j, seg in enumerate(segments) if seg in cells and cells[seg].small_sample]
        label = fmt.label(r)
        values = [r.value] + [cells[seg].value if seg in cells else None for seg in segments]
        rows.append([label] + [_("n/a") if fmt.is_missing(v) else v for v in values])
        said = (
            _("{label}: {note}", label=label, note=fmt.note(n)) for n in r.notes if not n.startswith("small sample")
        )
        notes += [n for n in said if n not in notes]
    if marks:
        notes.append(_("* small sample: fewer than {n} observations", n=ctx.settings.surveys.min_n))
    return TableReply(
        _(
            "Overview — {period}{scope} by {dimension}",
            period=fmt.period(period),
            scope=fmt.scope(cmd.where),
            dimension=by,
        ),
        [_("metric"), _("all"), *segments],
        rows,
        as_of,
        notes,
        payload={"metric": "overview", "by": by, "period": period.to_json(), "results": [r.to_json() for r in results]},
        query=cmd.raw,
        units=[None] + [fmt.ROW] * (1 + len(segments)),
        row_units=[r.unit for r in results],
        small_sample=marks,
    )


def targets_reply(cmd: Command, ctx: Context) -> TableReply | TextReply:
    targets = ctx.settings.targets
    if not targets:
        return TextReply(
            _("Targets"),
            [(_("No targets set"), _("Add a [targets] table to the config, e.g. `nps = 40`, `churn = 5`."))],
            markup=True,
        )
    results, as_of, notes = _target_results(cmd, ctx)
    rows, units = [], []
    for name in targets:
        if name not in METRICS:
            rows.append([name, None, targets[name], _("unknown metric")])
            units.append(None)
            continue
        r = results[name]
        status = _("n/a") if r.target is None else (_("met") if r.target.met else _("missed"))
        rows.append([name, r.value, targets[name], status, fmt.period(r.period)])
        units.append(r.unit)
    return TableReply(
        _("Targets{scope}", scope=fmt.scope(cmd.where)),
        [_("metric"), _("value"), _("target"), _("status"), _("period")],
        rows,
        as_of,
        notes,
        query=cmd.raw,
        units=[None, "row", "row", None, None],
        row_units=units,
    )


def _target_results(cmd: Command, ctx: Context) -> tuple[dict[str, MetricResult], datetime, list[str]]:
    """Each targeted metric over its default period (or the one asked), when the data was read and its notes: all
    computed by the warehouse (`[source] pushdown = true`) when every one can be, else all from the snapshot, so the
    table never mixes the paths."""
    from bot.pushdown import pushed_overview

    o = ctx.options()
    names = [name for name in ctx.settings.targets if name in METRICS]
    results, notes = {}, None
    for name in names:
        pushed = pushed_overview(ctx, [name], resolve_period(ctx, cmd.period, name), o, where=cmd.where)
        if pushed is None:
            break
        results[name], notes = pushed.results[0], pushed.notes
    else:
        return results, ctx.now(), notes or []
    cached = ctx.snapshot()
    tables = ctx.tables(cached.snapshot)
    results = {name: compute(name, tables, resolve_period(ctx, cmd.period, name), o, where=cmd.where) for name in names}
    return results, cached.snapshot.read_at, data_notes(ctx, cached)


def issues_reply(cmd: Command, ctx: Context, limit: int = 20) -> TableReply:
    """The snapshot's data issues (the first `limit`); on a SQL source the validation rules run in the database come
    first, one row per rule with its count and sample keys. Reasons in the current language."""
    from bot.pushdown import shown_rules

    issues, as_of = data_issues(ctx)
    rules = shown_rules(ctx)
    rows: list[list[Any]] = [[i.tab, i.row, i.column, i.value, i.reason, i.severity] for i in issues[:limit]]
    shown = _("showing {limit} of {n} — all are in the Pulse Data Issues tab", limit=limit, n=len(issues))
    notes = [] if len(issues) <= limit else [shown]
    payload: dict[str, Any] = {"count": len(issues)}
    if rules is not None:
        rejected = sum(r.rows for r in rules if r.severity == "rejected")
        notes.insert(0, _("validation rules run in the database: {n} rows rejected", n=f"{rejected:,}"))
        payload["database_rules"] = [dataclasses.asdict(r) for r in rules]
    return TableReply(
        _("Data issues: {n}", n=len(issues)),
        [_("tab"), _("row"), _("column"), _("value"), _("problem"), _("severity")],
        reasons_in_language([*rule_rows(rules or []), *rows]),
        as_of,
        notes,
        payload=payload,
        query=cmd.raw,
    )


def data_issues(ctx: Context) -> tuple[list[DataIssue], datetime]:
    """Every data issue of the source and when it was read: without reading a row when the warehouse's rules and
    types show there is nothing more to find (`bot.pushdown.issues_without_rows`), else the snapshot's."""
    from bot.pushdown import issues_without_rows

    issues = issues_without_rows(ctx)
    if issues is not None:
        return issues, ctx.now()
    snap = ctx.snapshot().snapshot
    return snap.issues, snap.read_at


def _help(cmd: Command, ctx: Context) -> Reply:
    return help_reply(ctx.settings)


def _refresh(cmd: Command, ctx: Context) -> Reply:
    return refresh(ctx).reply()


def _digest(cmd: Command, ctx: Context) -> Reply:
    from bot.digest.preview import digest_reply  # lazy: the digest's Block Kit pulls in slack_sdk

    return digest_reply(cmd, ctx)


def _alerts(cmd: Command, ctx: Context) -> Reply:
    from bot.alerts.preview import alerts_reply  # lazy: the alert messages' Block Kit pulls in slack_sdk

    return alerts_reply(cmd, ctx)


# Every action, and every metric with an answer of its own, → its handler; other metrics → `metric_reply`.
ROUTES: dict[str, Callable[[Command, Context], Reply]] = {
    "help": _help,
    "refresh": _refresh,
    "issues": issues_reply,
    "targets": targets_reply,
    "digest": _digest,
    "alerts": _alerts,
    "why": why_reply,
    "forecast": forecast_reply,
    "survival": survival_reply,
    "overview": overview_reply,
    "cohorts": cohorts_reply,
    "risk": risk_reply,
}
