"""`/pulse why`, `/pulse forecast`, `/pulse survival`: the analyses (pure, in `metrics.analysis`) as replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import pandas as pd

from bot.context import Context, data_notes, resolve_period
from bot.grammar import Command
from bot.i18n import N_, _, ngettext
from bot.render import format as fmt
from bot.render.analysis import correlation_note, what_moved
from bot.replies import ErrorReply, Reply, TableReply
from metrics.analysis import (
    ADDITIVE,
    CORRELATED,
    RATIOS,
    best_dimension,
    correlation_table,
    correlations,
    decomposition_of,
    monthly_series,
    most_concentrated,
    trailing_months,
)
from metrics.decompose import Correlation, Decomposition, explanation
from metrics.engine import check_dimension, compute, filter_where, resolve_options, spec_for, what_to_add
from metrics.forecast import ForecastError, forecast_series
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period, parse_period, vs_period
from metrics.result import MetricResult
from metrics.survival import SurvivalResult, durations, kaplan_meier_of, survival_input
from metrics.tables import Tables

CORRELATION_MONTHS = 12
LARGE_CHANGE = 5.0
MIN_AT_RISK = 20
SHAKY_MAPE = 50.0
# The names metrics.forecast gives its models (Forecast.model), for the catalogue.
MODEL_NAMES = (N_("exponential smoothing (additive damped trend)"),)


def _scope(ctx: Context, cmd: Command):
    """The cached snapshot, the tables narrowed by `where`, and options resolved before narrowing."""
    cached = ctx.snapshot()
    whole = ctx.tables(cached.snapshot)
    return cached, filter_where(whole, cmd.where), resolve_options(whole, ctx.options())


def why_reply(cmd: Command, ctx: Context) -> Reply:
    """What moved a metric: mix/rate parts by segment, the sentence, and the correlations table."""
    name = cmd.metric or "nps"
    spec = spec_for(name)
    if spec.kind == "value" and name not in ADDITIVE | RATIOS:
        return ErrorReply(
            _(
                "'why' splits rates, scores, totals and simple ratios by segment; {name} is a derived value that has "
                "no per-segment weight — try 'why revenue', 'why churn' or 'why nps'",
                name=name,
            )
        )
    found = _pushed_why(cmd, ctx, name)
    if found is None:
        found = _why(cmd, ctx, name)
    if isinstance(found, ErrorReply):
        return found
    period, before, dimension, d, r = found.period, found.before, found.dimension, found.split, found.result
    sentence = what_moved(r.label, r.unit, ctx.settings.currency, explanation(d), dimension)
    months, corr = found.months, found.correlations
    rows = [[p.segment, p.value_before, p.value_after, p.mix + 0.0, p.rate + 0.0, p.total + 0.0] for p in d.parts]
    if abs(d.residual) > 1e-9:
        rows.append([_("(no segment)"), None, None, None, None, d.residual])
    notes = [*found.notes, sentence]
    corr_line = correlation_note(corr, dimension)
    if corr_line:
        notes.append(corr_line)
    return TableReply(
        _(
            "Why {name} moved — {period} vs {before}, by {dimension}",
            name=name,
            period=fmt.period(period),
            before=fmt.period(before),
            dimension=dimension,
        ),
        [_("segment"), _("before"), _("after"), _("mix"), _("rate"), _("total")],
        rows,
        found.read_at,
        notes,
        # parts of an NPS change in points with 1 decimal: they add up to the change, so whole points would not
        units=[None, r.unit, r.unit] + [fmt.CHANGE + ("percent" if r.unit == "nps" else r.unit)] * 3,
        payload={
            "metric": name,
            "period": period.to_json(),
            "previous_period": before.to_json(),
            "by": dimension,
            "before": d.before,
            "after": d.after,
            "change": d.total,
            "parts": [
                {
                    "segment": p.segment,
                    "mix": p.mix,
                    "rate": p.rate,
                    "total": p.total,
                    "weight_before": p.weight_before,
                    "weight_after": p.weight_after,
                    "value_before": p.value_before,
                    "value_after": p.value_after,
                }
                for p in d.parts
            ],
            "residual": d.residual,
            "sentence": sentence,
            "correlations": [{"metric": c.metric, "rho": c.rho, "p_value": c.p_value, "n": c.n} for c in corr],
            "correlation_months": [m.label for m in months],
        },
        query=cmd.raw,
    )


@dataclass(frozen=True)
class _Why:
    """What `why_reply` shows, from the snapshot or from a warehouse's aggregates: the periods, the dimension that
    explains the change best and its split, the metric now (its label and unit), the correlations over `months`,
    when the data was read and its notes."""

    period: Period
    before: Period
    dimension: str
    split: Decomposition
    result: MetricResult
    months: list[Period]
    correlations: list[Correlation]
    read_at: datetime
    notes: list[str]


def _why(cmd: Command, ctx: Context, name: str) -> _Why | ErrorReply:
    """`why`'s figures from the snapshot: each dimension's split in the `where` scope, the best one, its
    correlations."""
    cached, t, o = _scope(ctx, cmd)
    if not t.dimensions:
        return _no_dimension()
    period, before = _why_periods(cmd, ctx, name)
    dims = [check_dimension(t, cmd.by)] if cmd.by else [x for x in t.dimensions if x not in cmd.where]
    if t.customers.empty:
        return _no_customers(name, dims or list(t.dimensions))
    dimension, d = best_dimension(name, t, period, before, o, dims or list(t.dimensions))
    r = spec_for(name).fn(t, period, o)
    months = trailing_months(period.end, CORRELATION_MONTHS)
    corr = correlations(t, months, o, dimension) if len(months) >= 3 else []
    return _Why(period, before, dimension, d, r, months, corr, cached.snapshot.read_at, data_notes(ctx, cached))


def _pushed_why(cmd: Command, ctx: Context, name: str) -> _Why | ErrorReply | None:
    """`_why` from the warehouse's per-segment aggregates (`[source] pushdown = true`): each dimension's segments in
    both periods (one query per dimension) split by `decomposition_of`, and retention and the correlated metrics per
    segment over the trailing months (one query per kind of aggregate); None to answer from the snapshot when any of
    it cannot be pushed down (a table with rejected rows or untyped columns, or the metric's own table absent)."""
    from bot import pushed_series

    with pushed_series.pushed(ctx) as p:
        if p is None:
            return None
        scope = p.scope(cmd.where)  # an unknown dimension or value raises as `filter_where` does in memory
        dimensions = list(p.facts.dimensions)
        if not dimensions:
            return _no_dimension()
        period, before = _why_periods(cmd, ctx, name)
        dims = [check_dimension(p.stub(), cmd.by)] if cmd.by else [x for x in dimensions if x not in cmd.where]
        if not p.wh.dimension_values((dims or dimensions)[0], scope):  # no customer in scope
            return _no_customers(name, dims or dimensions)
        read_at, notes, stub = p.read_at, p.notes(), p.stub()
    o = ctx.options()
    split = _pushed_split(ctx, name, (period, before), o, dims or dimensions, cmd.where)
    if split is None:
        return None
    dimension, d, r = split
    months = trailing_months(period.end, CORRELATION_MONTHS)
    corr = _pushed_correlations(ctx, months, o, dimension, cmd.where, stub) if len(months) >= 3 else []
    if corr is None:
        return None
    return _Why(period, before, dimension, d, r, months, corr, read_at, notes)


def _pushed_split(
    ctx: Context, metric: str, periods: tuple[Period, Period], o: MetricOptions, dims: list[str], where: dict[str, str]
) -> tuple[str, Decomposition, MetricResult] | None:
    """`best_dimension` from the warehouse: each of `dims`' segments in both periods (now, before; one query per
    dimension), split by `decomposition_of` as in memory; the dimension, its split and the metric now, or None when
    it cannot be pushed down."""
    from bot.pushdown import segment_figures

    options, overall = [], None
    for dimension in dims:
        found = segment_figures(ctx, metric, periods, o, by=dimension, where=where)
        if found is None:
            return None
        segments, now, then = found
        overall = now[None]
        parts = [(s, now[s], then[s]) for s in segments]
        options.append((dimension, decomposition_of(metric, now[None], then[None], parts)))
    if overall is None:
        return None
    dimension, d = most_concentrated(options)
    return dimension, d, overall


def _pushed_correlations(
    ctx: Context, months: list[Period], o: MetricOptions, dimension: str, where: dict[str, str], stub: Tables
) -> list[Correlation] | None:
    """`metrics.analysis.correlations` from the warehouse: retention and each CORRELATED metric per segment of
    `dimension` over `months` — n/a throughout for one whose table the source lacks (`stub`'s missing tabs), as in
    memory; None when one of them cannot be pushed down."""
    from bot.pushdown import segment_series

    values: dict[str, dict[tuple[str, int], float | None]] = {}
    segments: list[str] = []
    for metric in ("retention", *CORRELATED):
        if what_to_add(spec_for(metric), stub) is not None:
            values[metric] = {}
            continue
        found = segment_series(ctx, metric, months, o, by=dimension, where=where)
        if found is None:
            return None
        segments, series = found
        values[metric] = {(s, i): results[s].value for i, results in enumerate(series) for s in segments}
    rows = [{m: values[m].get((s, i)) for m in values} for s in segments for i in range(len(months))]
    return correlation_table(rows)


def _why_periods(cmd: Command, ctx: Context, name: str) -> tuple[Period, Period]:
    """The asked period (else the metric's default) and the one it is compared with (`vs`, else the one before)."""
    period = resolve_period(ctx, cmd.period, name)
    if cmd.vs:
        return period, vs_period(cmd.vs, period, ctx.today(), ctx.settings.fiscal_year_start_month)
    return period, comparison_period(period)


def _no_dimension() -> ErrorReply:
    return ErrorReply(_("'why' needs a dimension column (region, plan, …) in the Customers tab"))


def _no_customers(name: str, dims: list[str]) -> ErrorReply:
    """`why` on a Customers tab without rows: it has no segment to split by."""
    named = ", ".join(dims)
    return ErrorReply(
        _(
            "'why' splits {name} by the customers' {dimensions}, but the Customers tab has no rows — add your "
            "customers (customer_id, {dimensions}) to split the change by segment",
            name=name,
            dimensions=named,
        )
    )


def forecast_reply(cmd: Command, ctx: Context) -> Reply:
    """The next 1–3 months of a metric with an 80% interval and the backtested MAPE."""
    name = cmd.metric or "revenue"
    series, last_month, read_at, notes = _pushed_forecast_input(name, cmd, ctx) or _forecast_input(name, cmd, ctx)
    try:
        f = forecast_series(series, horizon=3)
    except ForecastError as err:
        reason = fmt.note(str(err))
        return ErrorReply(
            _("cannot forecast {name}: {reason} (monthly values, full months only)", name=name, reason=reason)
        )
    last = last_month()
    label = last.label
    mape = (
        _("backtested MAPE {mape}% over the last {n} months", mape=f"{f.mape:.1f}", n=len(f.backtest))
        if f.mape is not None
        else _("no backtest")
    )
    notes.append(_("{model}; {mape}; fitted on {n} months", model=_(f.model), mape=mape, n=f.history))
    if f.mape is not None and f.mape > SHAKY_MAPE:
        notes.append(
            _(
                "past one-month-ahead forecasts missed by {mape}% on average (values near zero inflate this) — "
                "read the interval, not the point",
                mape=f"{f.mape:.0f}",
            )
        )
    return TableReply(
        _("Forecast — {label}, next {n} months (80% interval)", label=_(label), n=len(f.points)),
        [_("month"), _("forecast"), _("low"), _("high")],
        [[fmt.period_name(p.label), p.value, p.low, p.high] for p in f.points],
        read_at,
        notes,
        units=[None, last.unit, last.unit, last.unit],
        payload={
            "metric": name,
            "model": f.model,
            "level": 0.8,
            "mape": f.mape,
            "history": {k: v for k, v in series.dropna().items()},
            "forecast": [{"period": p.label, "value": p.value, "low": p.low, "high": p.high} for p in f.points],
            "backtest": [{"period": k, "actual": a, "forecast": b} for k, a, b in f.backtest],
        },
        query=cmd.raw,
        attachments=[("forecast.png", _forecast_png(f"Forecast — {label}", series, f.points))],
    )


# A forecast's input: the monthly series, the metric over last month (its label and unit, asked only for an answer),
# when the data was read and its notes.
ForecastInput = tuple[pd.Series, Callable[[], MetricResult], datetime, list[str]]


def _forecast_input(name: str, cmd: Command, ctx: Context) -> ForecastInput:
    """From the snapshot: the metric's monthly series among the customers in `where`."""
    cached, t, o = _scope(ctx, cmd)
    last = partial(spec_for(name).fn, t, parse_period("last-month", ctx.today()), o)
    return monthly_series(name, t, ctx.today(), o), last, cached.snapshot.read_at, data_notes(ctx, cached)


def _pushed_forecast_input(name: str, cmd: Command, ctx: Context) -> ForecastInput | None:
    """`_forecast_input` from the warehouse's monthly aggregates (`[source] pushdown = true`); None to answer from
    the snapshot."""
    from bot import pushed_series

    with pushed_series.pushed(ctx) as p:
        if p is None:
            return None
        found = pushed_series.monthly_series(p, name, ctx.today(), pushed_series.resolved(p, ctx.options()), cmd.where)
        if found is None:
            return None
        series, results = found
        # A series long enough to forecast ends with last month (`metrics.analysis.series_months`).
        return series, lambda: results[-1], p.read_at, p.notes()


def _forecast_png(title: str, series: pd.Series, points: list) -> bytes:
    from bot.charts import forecast_chart  # lazy: matplotlib, only when a chart is drawn

    history = {str(k): float(v) for k, v in series.dropna().items()}
    return forecast_chart(title, history, [(p.label, p.value, p.low, p.high) for p in points])


def survival_reply(cmd: Command, ctx: Context) -> Reply:
    """Median customer lifetime (Kaplan–Meier) overall and by segment, with the log-rank p-value."""
    from bot.charts import survival_chart  # lazy: matplotlib, only when a chart is drawn

    data, segments, by, o, read_at, notes = _pushed_survival(cmd, ctx) or _survival(cmd, ctx)
    try:
        r = kaplan_meier_of(data, ctx.today(), by, segments)
    except ValueError as err:
        return ErrorReply(str(err))
    curves = [r.overall, *r.segments]
    at_risk = _at_risk_at_median(data, segments, r)
    shown = {c.segment: _("all customers") if c is r.overall else c.segment for c in curves}
    rows = [[shown[c.segment], c.n, c.events, c.median_days, c.median_low, c.median_high] for c in curves]
    notes.append(
        _(
            "median lifetime in days from signup ({mode} churn); '–' means more than half are still active",
            mode=o.churn_mode,
        )
    )
    for c in curves:
        k = at_risk.get(c.segment)
        if k is not None and k < MIN_AT_RISK:
            days = f"{c.median_days:,.0f}"
            who = ngettext(
                "{n} customer followed for {days} days or more",
                "{n} customers followed for {days} days or more",
                k,
                days=days,
            )
            notes.append(
                _("the median of {segment} rests on only {who} — unreliable", segment=shown[c.segment], who=who)
            )
    if r.logrank_p is not None:
        verdict = _(" (curves differ)") if r.logrank_p < 0.05 else _(" (no clear difference)")
        notes.append(_("log-rank test across {by}: p = {p}{verdict}", by=by, p=f"{r.logrank_p:.3g}", verdict=verdict))
    return TableReply(
        _("Customer survival") + (_(" by {dimension}", dimension=by) if by else ""),
        [_("segment"), _("customers"), _("churned"), _("median days"), _("low"), _("high")],
        rows,
        read_at,
        notes,
        payload={
            "by": by,
            "as_of": r.as_of.isoformat(),
            "churn_mode": o.churn_mode,
            "medians": [
                {
                    "segment": c.segment,
                    "n": c.n,
                    "events": c.events,
                    "median_days": c.median_days,
                    "median_low": c.median_low,
                    "median_high": c.median_high,
                    "at_risk_at_median": at_risk.get(c.segment),
                }
                for c in curves
            ],
            "logrank_p": r.logrank_p,
            "logrank_statistic": r.logrank_statistic,
        },
        query=cmd.raw,
        attachments=[("survival.png", survival_chart(r))],
    )


SurvivalInputs = tuple[pd.DataFrame, "pd.Series | None", str | None, MetricOptions, datetime, list[str]]


def _survival(cmd: Command, ctx: Context) -> SurvivalInputs:
    """From the snapshot: survival input of the customers in `where`, each row's segment of `by` (None without),
    the dimension, the options resolved on the whole book, when the data was read and its notes."""
    cached, t, o = _scope(ctx, cmd)
    by = check_dimension(t, cmd.by) if cmd.by else None
    data = survival_input(t, ctx.today(), o)
    segments = data["customer_id"].map(t.dimension_of(by)) if by else None
    return data, segments, by, o, cached.snapshot.read_at, data_notes(ctx, cached)


def _pushed_survival(cmd: Command, ctx: Context) -> SurvivalInputs | None:
    """`_survival` from the warehouse's per-customer days (`[source] pushdown = true`); None to answer from the
    snapshot."""
    from bot import pushed_series

    with pushed_series.pushed(ctx) as p:
        if p is None:
            return None
        by = p.by(cmd.by)
        o = pushed_series.resolved(p, ctx.options())
        events, segments = pushed_series.churn_events(p, ctx.today(), o, cmd.where, by)
        return durations(events, ctx.today()), segments if by else None, by, o, p.read_at, p.notes()


def _at_risk_at_median(data: pd.DataFrame, segments: pd.Series | None, r: SurvivalResult) -> dict[str, int]:
    """For each curve with a median, how many customers were still followed at that day (few → a shaky median)."""
    groups = {r.overall.segment: data}
    if r.by and segments is not None:
        labels = segments.fillna("(blank)").astype(str)
        groups.update({c.segment: data[labels == c.segment] for c in r.segments})
    return {
        c.segment: int((groups[c.segment]["duration"] >= c.median_days).sum())
        for c in [r.overall, *r.segments]
        if c.median_days is not None and c.segment in groups
    }


def what_moved_line(ctx: Context, metric: str, period: Period, where: dict[str, str] | None = None) -> str | None:
    """One sentence for the digest when a metric moved significantly or by LARGE_CHANGE points or more.

    The digest (bot.digest.builder.what_moved) calls it for each of its WHAT_MOVED_METRICS. A source pushed down to
    its warehouse answers it from the warehouse's per-segment aggregates (`_pushed_what_moved_line`)."""
    pushed = _pushed_what_moved_line(ctx, metric, period, dict(where or {}))
    if pushed is not NOT_PUSHED:
        return pushed  # type: ignore[return-value]
    whole = ctx.tables(ctx.snapshot().snapshot)
    o = resolve_options(whole, ctx.options())
    where = dict(where or {})
    dims = [d for d in whole.dimensions if d not in where]
    if not dims:
        return None
    r = compute(metric, whole, period, o, where=where)
    c = r.previous
    if c is None or c.change is None or not (c.significant or abs(c.change) >= LARGE_CHANGE):
        return None
    dimension, d = best_dimension(metric, filter_where(whole, where), period, c.period, o, dims)
    return what_moved(r.label, r.unit, ctx.settings.currency, explanation(d), dimension)


NOT_PUSHED = object()  # `_pushed_what_moved_line` could not answer from the warehouse: answer from the snapshot


def _pushed_what_moved_line(ctx: Context, metric: str, period: Period, where: dict[str, str]) -> str | object | None:
    """`what_moved_line` from the warehouse (`[source] pushdown = true`): the metric and its comparison pushed down,
    then each dimension's segments in both periods (one query per dimension), split by `decomposition_of` as in
    memory; NOT_PUSHED when any of it cannot be pushed down."""
    from bot import pushed_series
    from bot.pushdown import compute_pushed, pushed_down

    if not pushed_down(ctx):
        return NOT_PUSHED
    o = ctx.options()
    r = compute_pushed(ctx, metric, period, o, where=where)
    if r is None:
        return NOT_PUSHED
    with pushed_series.pushed(ctx) as p:
        if p is None:
            return NOT_PUSHED
        dims = [d for d in p.facts.dimensions if d not in where]
    if not dims:
        return None
    c = r.previous
    if c is None or c.change is None or not (c.significant or abs(c.change) >= LARGE_CHANGE):
        return None
    split = _pushed_split(ctx, metric, (period, c.period), o, dims, where)
    if split is None:
        return NOT_PUSHED
    dimension, d, _now = split
    return what_moved(r.label, r.unit, ctx.settings.currency, explanation(d), dimension)
