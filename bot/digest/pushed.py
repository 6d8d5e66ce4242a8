"""The weekly digest of a SQL source with `[source] pushdown = true`, built from the warehouse's aggregates (issue 18):
row counts of the week per table, the survey counts and the few recent comments (a LIMITed query), the movers from
pushed-down breakdowns, the churn-risk highlights from the per-customer model `/pulse risk` uses, and the trend from one
query per family for all its weeks; the same functions as the in-memory digest (bot/digest/builder.py) finish them, so
both give the same digest. No row enters Python.

Used only when every table the source has can be aggregated as it is (typed, nothing the validation rules reject);
else the digest is built from the snapshot as before. A part that cannot be pushed down (a KPI or mover whose query
cannot run there, a data-issue count that reading the rows could change) is computed from the snapshot on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from bot.context import Context
from bot.digest.builder import (
    QUIET_TABS,
    TOP_COMMENTS,
    TREND_METRICS,
    Digest,
    Kpi,
    Mover,
    RiskHighlights,
    RowsSource,
    TrendPoint,
    highlights,
    kpi_names,
    mover_metrics,
    pushed_kpis,
    recent_comments,
    top_movers,
    trend_points,
    trend_weeks,
)
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.registry import METRICS
from metrics.result import MetricResult
from metrics.schema import DATED, SOURCE_TABS
from metrics.tables import Tables

log = logging.getLogger(__name__)
Scope = tuple[tuple[str, str], ...]


class NotPushed(Exception):
    """The warehouse can no longer answer (the source changed while the digest was built): build it from the rows."""


def warehouse_source(ctx: Context, where: dict[str, str]) -> WarehouseSource | None:
    """The digest's source in the warehouse, or None when the digest must read the snapshot (see the module)."""
    from bot import pushed_series
    from bot.pushdown import pushed_down

    if not pushed_down(ctx):
        return None
    with pushed_series.pushed(ctx) as p:
        if p is None:
            return None
        missing = [tab for tab in SOURCE_TABS if p.wh.table(tab) is None]
        problems = p.facts.problems
        problem = next((f"{tab}: {problems[tab]}" for tab in SOURCE_TABS if tab not in missing and problems[tab]), None)
        if problem:
            log.info("digest answered from the snapshot, not the warehouse: %s", problem)
            return None
        return WarehouseSource(ctx, where, p.scope(where), p, missing)


def from_warehouse(ctx: Context) -> bool:
    """Whether this context's digest is built from the warehouse, so reading the rows before posting it is pointless;
    False (read them, as before) when that cannot be told (the database does not answer)."""
    from bot.pushdown import pushed_down

    if not pushed_down(ctx):
        return False
    try:
        return warehouse_source(ctx, {}) is not None
    except Exception as err:  # noqa: BLE001 - the digest reports the failure itself when it is built
        log.warning("could not check the warehouse before the digest: %s", err)
        return False


class WarehouseSource:
    """The digest's parts from the warehouse (bot/digest/builder.py `DigestSource`)."""

    def __init__(
        self, ctx: Context, where: dict[str, str], scope: tuple[tuple[str, str], ...], p: Any, missing: list[str]
    ):
        self.ctx, self.where, self.scope, self.missing = ctx, where, scope, missing
        self.facts = p.facts
        self.data_as_of: datetime = p.read_at
        self._notes = p.notes()
        self.o = ctx.options()
        self._fallback: RowsSource | None = None

    @contextmanager
    def _pushed(self) -> Iterator[Any]:
        """The open warehouse (bot.pushed_series.Pushed); NotPushed when it can no longer be aggregated."""
        from bot import pushed_series

        with pushed_series.pushed(self.ctx) as p:
            if p is None:
                raise NotPushed("the source's Customers or Orders can no longer be aggregated as they are")
            yield p

    def _rows(self) -> RowsSource:
        """The snapshot's rows, for a part that cannot be pushed down."""
        if self._fallback is None:
            self._fallback = RowsSource(self.ctx, self.where)
        return self._fallback

    def _stub(self) -> Tables:
        return Tables.from_frames(
            {}, dimensions=self.facts.dimensions, missing=self.missing, excluded=self.facts.excluded
        )

    def issues(self) -> int:
        """The snapshot's issue count without reading it (`bot.pushdown.issues_without_rows`), else read."""
        from bot.pushdown import issues_without_rows

        issues = issues_without_rows(self.ctx)
        return self._rows().issues() if issues is None else len(issues)

    def notes(self) -> list[str]:
        return list(self._notes)

    def rows_in(self, p: Period) -> dict[str, int]:
        """`builder.rows_in` as one COUNT per table: the rows of the `where` segment dated inside `p`."""
        with self._pushed() as pushed:
            return {tab: _count_in(pushed.wh, tab, self.scope, p) for tab in QUIET_TABS}

    def kpis(self, week: Period, trailing: Period) -> list[Kpi]:
        pushed = pushed_kpis(self.ctx, kpi_names(self._stub(), self.o), week, trailing, self.o, self.where)
        return self._rows().kpis(week, trailing) if pushed is None else pushed

    def survey_facts(self, d: Digest, since: date, end: date) -> None:
        """`builder._survey_facts` from one aggregate of the segment's responses and a LIMITed query per kind of
        comment (newest first, then by sheet row)."""
        recent = Period(since, end, "")
        with self._pushed() as pushed:
            if pushed.wh.table("responses") is None:
                return
            row = survey_query(pushed.wh, self.scope, d.week, recent).to_pyarrow().to_pylist()[0]
            picked = {kind: comments_query(pushed.wh, self.scope, recent, kind).to_pandas() for kind in KINDS}
        d.responses, d.commented = int(row["responses"] or 0), int(row["commented"] or 0)
        d.new_promoters, d.new_detractors = int(row["promoters"] or 0), int(row["detractors"] or 0)
        d.promoter_comments = recent_comments(picked["promoters"])
        d.detractor_comments = recent_comments(picked["detractors"])

    def movers(self, p: Period, *, exclude: set[str], min_n: int, labels: Mapping[str, str]) -> list[Mover]:
        """`builder.movers` from the pushed-down breakdown of each mover metric by each dimension."""
        from bot.pushdown import compute_pushed

        found = []
        for name in mover_metrics(self.missing):
            for dimension in (d for d in self.facts.dimensions if d not in exclude):
                r = compute_pushed(self.ctx, name, p, self.o, by=dimension, where=self.where)
                if r is None:
                    return self._rows().movers(p, exclude=exclude, min_n=min_n, labels=labels)
                found.append((name, dimension, r.breakdown or []))
        return top_movers(found, min_n, labels)

    def risk(self, as_of: date) -> tuple[RiskHighlights | None, str | None]:
        """`builder.risk_highlights` from the whole book's per-customer model and churned customers as the pushed-down
        `/pulse risk` computes them, narrowed to the segment's customers."""
        from bot import pushed_series

        with self._pushed() as p:
            orders = p.wh.table("orders")
            if not int(orders.limit(1).count().execute()):
                return None, None
            o = pushed_series.resolved(p, self.o)
            keep = pushed_series.members(p, self.where, None).index if self.where else None
            return highlights(
                lambda: pushed_series.customer_model(p, as_of, o), lambda: pushed_series.churned_ids(p, as_of, o), keep
            )

    def trend(self, monday: date) -> list[TrendPoint]:
        """`builder.trend` from one query per family (the orders aggregate, the NPS histogram, the customer flow) for
        all the weeks."""
        from bot import pushed_series

        periods = trend_weeks(monday)
        names = [m for m in TREND_METRICS if not set(METRICS[m].tabs) & set(self.missing)]
        with self._pushed() as p:
            o = pushed_series.resolved(p, self.o)
            results = {name: weekly(p.wh, name, periods, o, self.scope) for name in names}
        if any(series is None for series in results.values()):
            return self._rows().trend(monday)
        return trend_points(periods, {name: series for name, series in results.items() if series is not None})


def weekly(
    wh: Any, name: str, periods: list[Period], o: MetricOptions, scope: tuple[tuple[str, str], ...]
) -> list[MetricResult] | None:
    """The metric in each of `periods` from one query for all of them (the union of their rows, labelled by period);
    None for a metric of no family pushed down this way. Excluded rows do not matter here: only values are drawn."""
    from bot.pushdown import BASKET, SURVEYS, score_result
    from bot.pushdown_people import FLOW, _Ask, flow_result
    from metrics import surveys
    from sheets.warehouse.pushdown import ScoreStats

    ask = _Ask(wh, tuple(periods), o, scope, None, [])
    if name in BASKET:
        baskets = ask.baskets(periods)
        return [BASKET[name](baskets[(i, None)], p, o) for i, p in enumerate(periods)]
    if name in SURVEYS:
        survey = SURVEYS[name][0]
        scale = surveys.scale_for(survey, o)
        bounds = [(_naive(p.start), _naive(p.end)) for p in periods]
        stats = wh.score_stats(bounds, survey, scale.min, scale.max, scope, None)
        return [score_result(name, stats.get((i, None), ScoreStats()), 0, p, o) for i, p in enumerate(periods)]
    if name in FLOW or name == "new":
        flows = ask.flows(periods)
        return [flow_result(name, flows[(i, None)], 0, p, o) for i, p in enumerate(periods)]
    return None


# The NPS answers whose comments the digest quotes: promoters (9–10) and detractors (0–6).
KINDS = ("promoters", "detractors")


def _responses(wh: Any, scope: Scope, recent: Period) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The segment's Responses, its comment trimmed, whether it has one, and per kind whether an NPS answer of
    `recent` is of that kind (the survey trimmed and upper-cased, as the NPS metric reads it)."""
    import ibis

    r: Any = _table(wh, "responses", scope)
    if "comment" in r.columns:
        text = r.comment.cast("string").strip()
        commented = r.comment.notnull() & (text != "")
    else:
        text, commented = ibis.literal(""), ibis.literal(False)
    nps = (r.survey.cast("string").strip().upper() == "NPS") & _within(r.date.cast("timestamp"), recent)
    return r, text, commented, {"promoters": nps & (r.score >= 9), "detractors": nps & (r.score <= 6)}


def survey_query(wh: Any, scope: Scope, week: Period, recent: Period) -> Any:
    """One row: the segment's responses in the week and those with a comment, and the NPS promoters and detractors of
    `recent` (since the last digest)."""
    r, _text, commented, kinds = _responses(wh, scope, recent)
    in_week = _within(r.date.cast("timestamp"), week)
    return r.aggregate(
        responses=r.count(where=in_week),
        commented=r.count(where=in_week & commented),
        **{name: r.count(where=kind) for name, kind in kinds.items()},
    )


def comments_query(wh: Any, scope: Scope, recent: Period, kind: str) -> Any:
    """The TOP_COMMENTS newest commented answers of `kind` in `recent`: date, customer, score, trimmed comment; ties
    broken by sheet row (a `pulse export`), else by customer and comment."""
    r, text, commented, kinds = _responses(wh, scope, recent)
    order = [r.date.desc(), *(r[c] for c in ("row", "customer_id", "comment") if c in r.columns)]
    chosen = r.filter(kinds[kind] & commented).order_by(order).limit(TOP_COMMENTS)
    return chosen.select("date", "customer_id", "score", comment=text)


def _table(wh: Any, tab: str, scope: tuple[tuple[str, str], ...]) -> Any | None:
    """Table `tab` narrowed to the customers of `scope` (None when the source has no such table)."""
    if wh.table(tab) is None:
        return None
    return wh._scoped(tab, scope, None) if scope else wh.table(tab)


def _count_in(wh: Any, tab: str, scope: Scope, p: Period) -> int:
    """The rows of `tab` in the segment dated inside `p`; 0 without the table or its date column."""
    query = count_query(wh, tab, scope, p)
    return 0 if query is None else int(query.execute())


def count_query(wh: Any, tab: str, scope: Scope, p: Period) -> Any | None:
    """COUNT of the rows of `tab` in the segment dated inside `p` (by metrics.schema.DATED); Spend's rows by the
    segment columns Spend has, matched trimmed and case-insensitively as metrics.spend does."""
    column = DATED[tab]
    t = wh.table(tab)
    if t is None or column not in t.columns:
        return None
    if tab == "spend":
        for dimension, value in scope:
            if dimension in t.columns:
                t = t.filter(t[dimension].cast("string").strip().lower() == value.strip().lower())
    elif scope:
        t = wh._scoped(tab, scope, None)
    return t.filter(_within(t[column].cast("timestamp"), p)).count()


def _within(stamp: Any, p: Period) -> Any:
    """Whether a timestamp column falls inside the period [start, end)."""
    import ibis

    return (stamp >= ibis.literal(_naive(p.start))) & (stamp < ibis.literal(_naive(p.end)))


def _naive(d: date) -> datetime:
    """A period bound (a date) as the naive datetime at midnight the tables hold."""
    return datetime(d.year, d.month, d.day)
