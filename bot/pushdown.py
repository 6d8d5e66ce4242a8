"""Metrics pushed down to a SQL source (`[source] pushdown = true`): the warehouse sums, counts and histograms with
`by`/`where` and the comparison period (sheets/warehouse/pushdown.py), and the same functions as in memory
(`metrics.purchasing.*_of`, `metrics.surveys.*_of`) turn those aggregates into results — no row enters Python.

A metric is pushed down only when every table it reads is in typed form and the validation rules, run as queries,
reject nothing there; anything else (another metric, a table with bad rows, untyped columns) returns None and the
caller answers from the in-memory snapshot as before, so the numbers never depend on the path.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from bot.context import Context
from bot.pushdown_people import PEOPLE, PEOPLE_TABS, _Ask, figures_of, people_notes
from metrics import purchasing, surveys
from metrics.engine import check_dimension, compare, compute, match_value, spec_for, target_status, what_to_add
from metrics.engine import segment_value as make_segment
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period
from metrics.result import MetricResult
from metrics.schema import SOURCE_TABS
from metrics.tables import Tables
from sheets.snapshot import fixes_for

log = logging.getLogger(__name__)

BASKET: dict[str, Callable[..., MetricResult]] = {
    "revenue": purchasing.revenue_of,
    "orders": purchasing.orders_of,
    "purchasers": purchasing.purchasers_of,
    "aov": purchasing.aov_of,
    "frequency": purchasing.frequency_of,
    "repeat": purchasing.repeat_rate_of,
    "refunds": purchasing.refund_rate_of,
}
SURVEYS = {"nps": ("NPS", "nps", "Net Promoter Score"), "csat": ("CSAT", "csat", "CSAT"), "csi": ("CSI", "csi", "CSI")}
PUSHED = (*BASKET, *SURVEYS, *PEOPLE)
# Pushed down when asked on their own: all of them (clv adds the predicted CLV from the warehouse's per-customer
# summary, bot/pushed_series.py).
SINGLE = PUSHED
# The tables each pushed-down metric reads (Customers too for any `by`/`where`).
TABS: dict[str, tuple[str, ...]] = {
    **{name: ("orders",) for name in BASKET},
    **{name: ("responses",) for name in SURVEYS},
    **PEOPLE_TABS,
}


def pushed_down(ctx: Context) -> bool:
    """Whether this context answers pushable metrics in the warehouse (a SQL source with `pushdown = true`)."""
    from sheets.warehouse.source import SqlWorkbook

    return ctx.settings.source.pushdown and isinstance(ctx.workbook, SqlWorkbook)


def compute_pushed(
    ctx: Context,
    name: str,
    period: Period,
    o: MetricOptions,
    *,
    by: str | None = None,
    where: Mapping[str, str] | None = None,
    compare_to: Period | None = None,
) -> MetricResult | None:
    """`metrics.engine.compute` with the aggregates computed by the warehouse; None when it cannot be pushed down."""
    with _open_for(ctx, name, o) as found:
        if found is None:
            return None
        wh, facts = found
        if what_to_add(spec_for(name), facts.stub()) is not None:  # a tab it needs is absent: n/a, as in memory
            return _compute(wh, facts, name, period, o, by, dict(where or {}), compare_to)
        if not _usable(facts, name, bool(by or where)):
            return None
        return _compute(wh, facts, name, period, _resolved(facts, o), by, dict(where or {}), compare_to)


def segment_figures(
    ctx: Context,
    name: str,
    periods: tuple[Period, Period],
    o: MetricOptions,
    *,
    by: str,
    where: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str | None, MetricResult], dict[str | None, MetricResult]] | None:
    """The segments of `by` in the `where` scope and the metric in both periods, whole scope under None and each
    segment under its value (what `metrics.analysis.decomposition_of` splits); None when it cannot be pushed down."""
    found = segment_series(ctx, name, periods, o, by=by, where=where)
    if found is None:
        return None
    segments, (now, then) = found
    return segments, now, then


def segment_series(
    ctx: Context,
    name: str,
    periods: Sequence[Period],
    o: MetricOptions,
    *,
    by: str | None,
    where: Mapping[str, str] | None = None,
) -> tuple[list[str], list[dict[str | None, MetricResult]]] | None:
    """The segments of `by` in the `where` scope (none without `by`) and the metric over each of `periods` (one query
    per kind of aggregate for all of them), whole scope under None and each segment under its value; None when it
    cannot be pushed down, a tab it needs being absent included (the caller reads the rows)."""
    with _open_for(ctx, name, o) as found:
        if found is None or what_to_add(spec_for(name), found[1].stub()) is not None:
            return None
        wh, facts = found
        if not _usable(facts, name, True):
            return None
        scope = scope_of(wh, facts, dict(where or {}))
        column = check_dimension(facts.stub(), by) if by else None
        segments = wh.dimension_values(column, scope) if column else []
        return segments, _figures(wh, name, periods, _resolved(facts, o), scope, column, segments, facts.excluded)


@contextmanager
def _open_for(ctx: Context, name: str, o: MetricOptions) -> Iterator[tuple[Any, Facts] | None]:
    """The open warehouse and the source's facts when `name` may be pushed down there, else None."""

    if name not in PUSHED or not pushed_down(ctx):
        yield None
        return
    with opened(ctx) as found:
        yield found


@contextmanager
def opened(ctx: Context) -> Iterator[tuple[Any, Facts]]:
    """The source's warehouse, open (aggregates reused for `cache_seconds`), and its facts (checked once per
    version of the source)."""
    from sheets.warehouse.pushdown import open_warehouse

    with open_warehouse(ctx.workbook, table_names(ctx), ctx.settings.source.cache_seconds) as wh:  # type: ignore[arg-type]
        yield wh, _facts(ctx, wh)


def _usable(facts: Facts, name: str, scoped: bool) -> bool:
    """Whether every table `name` reads (and Customers when `scoped` by `by`/`where`) can be aggregated as it is."""
    tabs = (*TABS[name], "customers") if scoped else TABS[name]
    problem = next((facts.problems.get(tab) for tab in tabs if facts.problems.get(tab)), None)
    if problem:
        log.info("%s is answered in memory, not in the warehouse: %s", name, problem)
    return not problem


def _resolved(facts: Facts, o: MetricOptions) -> MetricOptions:
    """`o` with an `auto` churn mode decided on the whole source, as metrics.engine.resolve_options does."""
    if o.churn_mode != "auto":
        return o
    return replace(o, churn_mode="explicit" if facts.churn_dates else "inactivity")


@dataclass(frozen=True)
class Facts:
    """What every pushed-down answer needs to know of the source, checked again only when a DuckDB file changes (a
    database without a change stamp: every `cache_seconds`): why a table cannot be aggregated as it is, the
    dimensions, the recorded rejected rows. The checks scan whole tables, so they must not run per question."""

    problems: Mapping[str, str | None]
    dimensions: tuple[str, ...]
    excluded: Mapping[str, int]
    checked_at: float
    marker: str | None
    churn_dates: bool = False
    # What to add, per source tab the database lacks ("add a Spend tab with date, amount"): the metrics needing one
    # are n/a with that note, as in memory, without reading a row.
    fixes: Mapping[str, str] = field(default_factory=dict)

    def stub(self) -> Tables:
        """Tables with no rows but the source's dimensions, absent tabs and recorded rejected rows: what the
        engine's checks (dimensions, what to add) read."""
        return Tables.from_frames(
            {}, dimensions=self.dimensions, missing=self.fixes, excluded=self.excluded, fixes=self.fixes
        )


_FACTS: dict[tuple[Any, ...], Facts] = {}
# The tables whose problems and rejected rows the facts record.
CHECKED = ("customers", "orders", "responses", "complaints", "spend", "subscriptions")
_FACTS_LOCK = threading.Lock()


def _facts(ctx: Context, wh: Any) -> Facts:
    """The source's facts, from the cache while they are fresh."""
    from sheets.warehouse.people import has_churn_dates

    workbook: Any = ctx.workbook
    key, marker, ttl = _checks_key(ctx), workbook.change_marker(), ctx.settings.source.cache_seconds
    with _FACTS_LOCK:
        known = _FACTS.get(key)
        if known is not None and _fresh(known.marker, known.checked_at, marker, ttl):
            return known
    scales = _scales(ctx)
    counted: dict[str, list[Any]] = {}  # each table's rule counts: the issue lists show those of SHOWN
    problems = {tab: wh.problem((tab,)) or _rejections(wh, tab, scales, counted) for tab in CHECKED}
    churn_dates = problems["customers"] is None and has_churn_dates(wh)
    absent = [tab for tab in SOURCE_TABS if wh.table(tab) is None]
    facts = Facts(
        problems,
        tuple(wh.dimensions()),
        workbook.recorded_issues()[1],
        time.monotonic(),
        marker,
        churn_dates,
        fixes_for(absent, {}, ctx.settings),
    )
    with _FACTS_LOCK:
        _FACTS[key] = facts
        if all(tab in counted or wh.table(tab) is None for tab in SHOWN):  # not scanned again for the issue lists
            _RULES[key] = (marker, facts.checked_at, [rule for tab in SHOWN for rule in counted.get(tab, [])])
    return facts


def _checks_key(ctx: Context) -> tuple[Any, ...]:
    """What the checks depend on: the database, which table each tab is, and the survey scales the score rule
    applies — two configs on one database (other scales, other table names) each get their own."""
    return ctx.workbook.describe(), tuple(sorted(table_names(ctx).items())), tuple(sorted(_scales(ctx).items()))


def _scales(ctx: Context) -> dict[str, tuple[int, int]]:
    """Each survey's (min, max) scale, by upper-case survey name, as the score rule reads them."""
    return {s.upper(): (v.min, v.max) for s, v in ctx.settings.surveys.scales.items()}


def table_names(ctx: Context) -> dict[str, str]:
    """Each source tab (customers, orders…) → its configured table name."""
    return {key: getattr(ctx.settings.tabs, key) for key in SOURCE_TABS}


def _fresh(then: str | None, checked_at: float, marker: str | None, ttl: float) -> bool:
    """Whether what was checked at `checked_at` on the source as it was (`then`) still holds: the same change marker,
    or, for a database without one, within `ttl` seconds."""
    return then == marker if marker is not None else time.monotonic() - checked_at < ttl


_RULES: dict[tuple[Any, ...], tuple[str | None, float, list[Any]]] = {}
# The tables whose validation rules the issue lists show (`pulse check`, `/pulse issues`, `Pulse Data Issues`).
SHOWN = ("customers", "orders", "responses")


def database_rules(ctx: Context) -> list[Any] | None:
    """The validation rules run as queries over the source's Customers, Orders and Responses tables (`pulse check`,
    `/pulse issues`, `Pulse Data Issues`), reused while the source is unchanged (they scan whole tables); None when
    the source is not a database."""
    from sheets.warehouse.pushdown import open_warehouse
    from sheets.warehouse.source import SqlWorkbook

    if not isinstance(ctx.workbook, SqlWorkbook):
        return None
    key, marker = _checks_key(ctx), ctx.workbook.change_marker()
    with _FACTS_LOCK:
        known = _RULES.get(key)
    if known is not None and _fresh(known[0], known[1], marker, ctx.settings.source.cache_seconds):
        return list(known[2])
    with open_warehouse(ctx.workbook, table_names(ctx)) as wh:
        rules = list(wh.rule_counts(SHOWN, _scales(ctx)))
    with _FACTS_LOCK:
        _RULES[key] = (marker, time.monotonic(), rules)
    return rules


def shown_rules(ctx: Context) -> list[Any] | None:
    """`database_rules` for the issue lists (`/pulse issues`, `Pulse Data Issues`), which must answer even when a
    rule cannot run on an odd table: then None, and the reason is logged (`pulse check` shows it)."""
    try:
        return database_rules(ctx)
    except Exception as err:  # noqa: BLE001 - the snapshot's issues are listed anyway; the rules are a summary
        log.warning("validation rules not run in the database for the issue list: %s", err)
        return None


def issues_without_rows(ctx: Context) -> list[Any] | None:
    """The snapshot's data issues without reading a row (`[source] pushdown = true`): when every table is typed as
    its columns' kinds and the validation rules, run as queries, reject nothing, reading the rows would find only
    the issues `pulse export` recorded and a warning per missing tab. None when reading could find more (then the
    caller reads the snapshot, which reports each bad row)."""
    if not pushed_down(ctx):
        return None
    try:
        return _issues_without_rows(ctx)
    except Exception as err:  # noqa: BLE001 - a check the database cannot run: the rows are read and list the issues
        log.warning("data issues listed from the rows: a check did not run in the database: %s", err)
        return None


def _issues_without_rows(ctx: Context) -> list[Any] | None:
    """`issues_without_rows` on a pushed-down source: the tables' checks, then the recorded and missing-tab issues."""
    from sheets.snapshot import OPTIONAL_TABS, _missing_tab_issue

    names = table_names(ctx)
    missing = []
    with opened(ctx) as (wh, facts):
        for key in SOURCE_TABS:
            if wh.table(key) is None:
                missing += [] if key in OPTIONAL_TABS else [_missing_tab_issue(key, names[key])]
            elif why := facts.problems.get(key) or wh.cells_problem(key, ctx.settings.columns.get(key)):
                log.info("the data issues are listed from the rows: %s", why)
                return None
    return ctx.workbook.with_recorded(missing, {})[0]  # type: ignore[attr-defined]


def _rejections(wh: Any, tab: str, scales: Mapping[str, tuple[int, int]], counted: dict[str, list[Any]]) -> str | None:
    """The first validation rule that rejects rows of the table, as a sentence; None when none does. Every rule's
    count goes into `counted[tab]`."""
    counted[tab] = wh.rule_counts((tab,), scales)
    for rule in counted[tab]:
        if rule.severity == "rejected":
            return f"{rule.rows} {rule.tab} rows rejected ({rule.column}: {rule.rule})"
    return None


def scope_of(wh: Any, facts: Facts, where: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """`where` as (dimension, value as the data spells it) pairs; unknown names or values raise as in memory."""
    stub = facts.stub()
    scope: tuple[tuple[str, str], ...] = ()
    for dimension, value in where.items():
        named = check_dimension(stub, dimension)
        scope = (*scope, (named, match_value(wh.dimension_values(named, scope), named, value)))
    return scope


def _compute(
    wh: Any,
    facts: Facts,
    name: str,
    period: Period,
    o: MetricOptions,
    by: str | None,
    where: dict[str, str],
    compare_to: Period | None,
) -> MetricResult:
    spec = spec_for(name)
    stub = facts.stub()
    scope = scope_of(wh, facts, where)
    if what_to_add(spec, stub) is not None:  # a tab it needs is absent: the engine's n/a with what to add, no rows
        result = compute(name, stub, period, o, by=by, compare_to=compare_to)
        result.where = where
        return result
    before = compare_to or comparison_period(period)
    column = check_dimension(stub, by) if by else None
    segments = wh.dimension_values(column, scope) if column else []
    now, then = _figures(wh, name, (period, before), o, scope, column, segments, facts.excluded)
    result, previous = now[None], then[None]
    result.previous = compare(spec, result, previous)
    result.target = target_status(spec, result.value, o.targets)
    result.where = where
    if column:
        result.by = column
        rows = [make_segment(spec, v, now[v], then[v], o) for v in segments]
        result.breakdown = sorted(rows, key=lambda r: (-r.n, r.segment))
        result.notes.extend(people_notes(wh, name, period, scope, column, result.label))
    return result


def _figures(
    wh: Any,
    name: str,
    periods: Sequence[Period],
    o: MetricOptions,
    scope: tuple[tuple[str, str], ...],
    by: str | None,
    segments: list[str],
    excluded: Mapping[str, int],
) -> list[dict[str | None, MetricResult]]:
    """The metric over each period, in their order (one query per kind of aggregate for all of them): the whole scope
    under key None, each segment under its value (a segment without rows gets the metric of no rows, as in memory)."""
    from sheets.warehouse.pushdown import BasketStats, ScoreStats

    if name in PEOPLE:
        return figures_of(_Ask(wh, tuple(periods), o, scope, by, segments), name, excluded)
    bounds = [(_naive(p.start_ts), _naive(p.end_ts)) for p in periods]
    keys: list[str | None] = [None, *segments]
    out: list[dict[str | None, MetricResult]] = [{} for _ in periods]
    if name in BASKET:
        baskets = wh.basket_stats(bounds, scope, by)
        finish = BASKET[name]
        rows = excluded.get("orders", 0)
        for i, p in enumerate(periods):
            for k in keys:
                out[i][k] = finish(replace(baskets.get((i, k), BasketStats()), excluded_rows=rows), p, o)
        return out
    survey = SURVEYS[name][0]
    scale = surveys.scale_for(survey, o)
    answers = wh.score_stats(bounds, survey, scale.min, scale.max, scope, by)
    rows = excluded.get("responses", 0)
    for i, p in enumerate(periods):
        for k in keys:
            out[i][k] = score_result(name, answers.get((i, k), ScoreStats()), rows, p, o)
    return out


def score_result(name: str, stats: Any, rows: int, p: Period, o: MetricOptions) -> MetricResult:
    """NPS, CSAT or CSI of one period from a survey's `ScoreStats` (histogram of valid scores, unusable answers)."""
    survey, metric, label = SURVEYS[name]
    values = sorted(stats.histogram)
    scores = np.repeat(np.array(values, dtype="int64"), [stats.histogram[v] for v in values])
    if name == "nps":
        return surveys.nps_of(scores, stats.invalid, rows, p, o)
    return surveys.satisfaction_of(scores, stats.invalid, rows, p, o, survey, metric, label)


def _naive(stamp: Any) -> datetime:
    """A period bound as the naive datetime the tables hold (dates at midnight in the configured timezone)."""
    value = stamp.to_pydatetime() if hasattr(stamp, "to_pydatetime") else stamp
    return value.replace(tzinfo=None)


# Several metrics at once (an overview, a digest's headline numbers), all from the warehouse or none.


@dataclass(frozen=True)
class Pushed:
    """Every asked metric computed from the warehouse's aggregates, with the notes a workbook answer carries."""

    results: list[MetricResult]
    notes: list[str]


def pushed_overview(
    ctx: Context,
    names: Sequence[str],
    period: Period,
    o: MetricOptions,
    *,
    by: str | None = None,
    where: Mapping[str, str] | None = None,
    compare_to: Period | None = None,
) -> Pushed | None:
    """`compute_pushed` for each of `names`; None (answer all from the snapshot) when any cannot be pushed down, so
    an overview never mixes the paths. The notes are those of `bot.context.data_notes`: the rows the source's
    export recorded as rejected (the tables hold only valid rows, or nothing is pushed down)."""
    from bot.render.format import WORKBOOK, left_out

    if not pushed_down(ctx) or any(name not in PUSHED for name in names):
        return None
    results = []
    for name in names:
        result = compute_pushed(ctx, name, period, o, by=by, where=where, compare_to=compare_to)
        if result is None:
            return None
        results.append(result)
    rejected = sum(ctx.workbook.recorded_issues()[1].values())  # type: ignore[attr-defined]
    return Pushed(results, [left_out(rejected, WORKBOOK)] if rejected else [])
