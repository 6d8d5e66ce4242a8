"""`/pulse why`, `/pulse forecast`, `/pulse survival`: the analyses, wired to the same query layer."""

from __future__ import annotations

from datetime import date

import pandas as pd

from bot.context import Context
from bot.grammar import Command
from bot.replies import ErrorReply, Reply, TableReply
from metrics.decompose import Decomposition, explain, mix_rate, spearman_table
from metrics.engine import check_dimension, filter_where, segment_tables, spec_for
from metrics.forecast import ForecastError, forecast_series
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period, month_periods, parse_period
from metrics.result import MetricResult
from metrics.survival import kaplan_meier
from metrics.tables import Tables
from sheets.workbook import Cell, OwnedTab

ADDITIVE = {"revenue", "orders", "purchasers", "customers", "new"}
CORRELATED = ("nps", "csat", "complaints", "repeat")
SURVIVAL_STEP_DAYS = 30


def _weight(name: str, r: MetricResult) -> float | None:
    """How much a segment counts in the overall value: the rate's denominator, or NPS's n."""
    if name in ADDITIVE:
        return 1.0
    if r.denominator:
        return float(r.denominator)
    if r.details.get("n"):
        return float(r.details["n"])
    return None


def decompose(name: str, t: Tables, now: Period, before: Period, o: MetricOptions, dimension: str) -> Decomposition:
    """Split the change of `name` between `before` and `now` by the segments of `dimension`."""
    spec = spec_for(name)
    overall_now, overall_before = spec.fn(t, now, o), spec.fn(t, before, o)
    rows_now, rows_before = [], []
    for value in t.dimension_of(dimension).unique():
        part = segment_tables(t, dimension, str(value))
        a, b = spec.fn(part, now, o), spec.fn(part, before, o)
        rows_now.append((str(value), _weight(name, a) or 0.0, a.value))
        rows_before.append((str(value), _weight(name, b) or 0.0, b.value))
    cols = ["segment", "weight", "value"]
    after_frame, before_frame = pd.DataFrame(rows_now, columns=cols), pd.DataFrame(rows_before, columns=cols)
    if name in ADDITIVE:
        # A total is the sum of its segments: weight every segment 1/k, scale values by k so Σ w·v = Σ v.
        k = len(rows_now)
        after_frame["value"] = after_frame["value"].astype(float) * k
        before_frame["value"] = before_frame["value"].astype(float) * k
    return mix_rate(before_frame, after_frame, total_before=overall_before.value, total_after=overall_now.value)


def correlations(t: Tables, months: list[Period], o: MetricOptions, dimension: str | None):
    """Spearman correlation of retention with NPS, CSAT, complaint and repeat rates over months × segments."""
    groups = [("all", t)]
    if dimension:
        groups = [(str(v), segment_tables(t, dimension, str(v))) for v in t.dimension_of(dimension).unique()]
    rows = []
    for _, part in groups:
        for p in months:
            rows.append({m: spec_for(m).fn(part, p, o).value for m in ("retention", *CORRELATED)})
    return spearman_table(pd.DataFrame(rows, dtype=float), "retention", list(CORRELATED))


def _unit_word(unit: str) -> str:
    return {"percent": "points", "nps": "points"}.get(unit, "")


def why_reply(cmd: Command, ctx: Context) -> Reply:
    """What moved a metric: mix/rate parts by segment, the sentence, and the correlations table."""
    from bot.query import data_notes, resolve_period

    name = cmd.metric or "nps"
    spec = spec_for(name)
    if spec.kind == "value" and name not in ADDITIVE:
        return ErrorReply(f"`why` explains rates, NPS/CSAT and totals; {name} is a derived value — try `why revenue` or `why churn`")
    cached = ctx.snapshot()
    t = filter_where(ctx.tables(cached.snapshot), cmd.where)
    if not t.dimensions:
        return ErrorReply("`why` needs a dimension column (region, plan, …) in the Customers tab")
    period = resolve_period(ctx, cmd.period, name)
    before = parse_period(cmd.vs, ctx.today(), ctx.settings.fiscal_year_start_month) if cmd.vs else comparison_period(period)
    o = ctx.options()
    dims = [check_dimension(t, cmd.by)] if cmd.by else list(t.dimensions)
    options = [(d, decompose(name, t, period, before, o, d)) for d in dims]
    dimension, d = max(options, key=lambda x: max((abs(p.total) for p in x[1].parts), default=0.0))
    r = spec.fn(t, period, o)
    sentence = explain(r.label, _unit_word(r.unit), d, dimension)
    months = [m for m in month_periods(period.start.replace(day=1) - pd.DateOffset(months=12), period.start) if m.end <= period.end][-12:]
    corr = correlations(t, months, o, dimension) if len(months) >= 3 else []
    rows = [[p.segment, p.value_before, p.value_after, p.mix, p.rate, p.total] for p in d.parts]
    if abs(d.residual) > 1e-9:
        rows.append(["(no segment)", None, None, None, None, d.residual])
    notes = data_notes(ctx, cached) + [sentence]
    return TableReply(
        f"Why {name} moved — {period.label} vs {before.label}, by {dimension}",
        ["segment", "before", "after", "mix", "rate", "total"],
        rows,
        cached.snapshot.read_at,
        notes,
        payload={
            "metric": name,
            "period": period.to_json(),
            "previous_period": before.to_json(),
            "by": dimension,
            "before": d.before,
            "after": d.after,
            "change": d.total,
            "parts": [
                {"segment": p.segment, "mix": p.mix, "rate": p.rate, "total": p.total,
                 "weight_before": p.weight_before, "weight_after": p.weight_after,
                 "value_before": p.value_before, "value_after": p.value_after}
                for p in d.parts
            ],
            "residual": d.residual,
            "sentence": sentence,
            "correlations": [{"metric": c.metric, "rho": c.rho, "p_value": c.p_value, "n": c.n} for c in corr],
        },
        query=cmd.raw,
    )


def monthly_series(name: str, t: Tables, today: date, o: MetricOptions, months: int = 24) -> pd.Series:
    """The metric for each of the last `months` full calendar months, indexed YYYY-MM."""
    spec = spec_for(name)
    first_of_month = today.replace(day=1)
    periods = [p for p in month_periods(first_of_month - pd.DateOffset(months=months), first_of_month) if p.end <= first_of_month]
    return pd.Series({p.start.strftime("%Y-%m"): spec.fn(t, p, o).value for p in periods[-months:]}, dtype=float)


def forecast_reply(cmd: Command, ctx: Context) -> Reply:
    """The next 1–3 months of a metric with an 80% interval and the backtested MAPE."""
    name = cmd.metric or "revenue"
    spec = spec_for(name)
    cached = ctx.snapshot()
    t = filter_where(ctx.tables(cached.snapshot), cmd.where)
    series = monthly_series(name, t, ctx.today(), ctx.options())
    try:
        f = forecast_series(series, horizon=3)
    except ForecastError as err:
        return ErrorReply(f"cannot forecast {name}: {err}")
    label = spec.fn(t, parse_period("last-month", ctx.today()), ctx.options()).label
    mape = f"backtested MAPE {f.mape:.1f}% over the last {len(f.backtest)} months" if f.mape is not None else "no backtest"
    return TableReply(
        f"Forecast — {label}, next {len(f.points)} months (80% interval)",
        ["month", "forecast", "low", "high"],
        [[p.label, p.value, p.low, p.high] for p in f.points],
        cached.snapshot.read_at,
        [f"{f.model}; {mape}; fitted on {f.history} months"],
        payload={
            "metric": name,
            "mape": f.mape,
            "history": {k: v for k, v in series.dropna().items()},
            "forecast": [{"period": p.label, "value": p.value, "low": p.low, "high": p.high} for p in f.points],
            "backtest": [{"period": k, "actual": a, "forecast": b} for k, a, b in f.backtest],
        },
        query=cmd.raw,
    )


def survival_reply(cmd: Command, ctx: Context) -> Reply:
    """Median customer lifetime (Kaplan–Meier) overall and by segment, with the log-rank p-value."""
    cached = ctx.snapshot()
    t = filter_where(ctx.tables(cached.snapshot), cmd.where)
    by = check_dimension(t, cmd.by) if cmd.by else None
    try:
        r = kaplan_meier(t, ctx.today(), ctx.options(), by=by)
    except ValueError as err:
        return ErrorReply(str(err))
    curves = [r.overall, *r.segments]
    rows = [[c.segment, c.n, c.events, c.median_days, c.median_low, c.median_high] for c in curves]
    notes = ["median lifetime in days from signup; '–' means more than half are still active"]
    if r.logrank_p is not None:
        notes.append(f"log-rank test across {by}: p = {r.logrank_p:.3g}" + (" (curves differ)" if r.logrank_p < 0.05 else " (no clear difference)"))
    return TableReply(
        "Customer survival" + (f" by {by}" if by else ""),
        ["segment", "customers", "churned", "median days", "low", "high"],
        rows,
        cached.snapshot.read_at,
        notes,
        payload={
            "by": by,
            "as_of": r.as_of.isoformat(),
            "medians": [{"segment": c.segment, "n": c.n, "events": c.events, "median_days": c.median_days,
                         "median_low": c.median_low, "median_high": c.median_high} for c in curves],
            "logrank_p": r.logrank_p,
            "logrank_statistic": r.logrank_statistic,
        },
        query=cmd.raw,
    )


def survival_tab(t: Tables, today: date, o: MetricOptions) -> OwnedTab | None:
    """`Pulse Survival`: the overall curve and one per first dimension, sampled every 30 days."""
    by = t.dimensions[0] if t.dimensions else None
    try:
        r = kaplan_meier(t, today, o, by=by)
    except ValueError:
        return None
    rows: list[list[Cell]] = []
    for c in [r.overall, *r.segments]:
        s = pd.DataFrame({"s": c.survival, "lo": c.low, "hi": c.high}, index=c.days)
        horizon = int(max(c.days)) if c.days else 0
        for day in range(0, horizon + 1, SURVIVAL_STEP_DAYS):
            at = s[s.index <= day].iloc[-1] if (s.index <= day).any() else None
            if at is not None:
                rows.append([c.segment, day, round(float(at.s), 4), round(float(at.lo), 4), round(float(at.hi), 4)])
    return OwnedTab("Pulse Survival", ["Segment", "Days since signup", "Survival", "Low (95%)", "High (95%)"], rows)


def what_moved_line(ctx: Context, metric: str, period: Period, where: dict[str, str] | None = None) -> str | None:
    """One sentence for the digest when a metric moved significantly or by more than 5 points."""
    from metrics.engine import compute

    t = ctx.tables(ctx.snapshot().snapshot)
    if not t.dimensions:
        return None
    r = compute(metric, t, period, ctx.options(), where=where)
    c = r.previous
    if c is None or c.change is None or not (c.significant or abs(c.change) >= 5):
        return None
    t = filter_where(t, where or {})
    options = [(d, decompose(metric, t, period, c.period, ctx.options(), d)) for d in t.dimensions]
    dimension, d = max(options, key=lambda x: max((abs(p.total) for p in x[1].parts), default=0.0))
    return explain(r.label, _unit_word(r.unit), d, dimension)
