"""The weekly digest's content, computed once, rendered for Slack, terminal and JSON (DESIGN.md, "Weekly digest")."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from bot.analyses import what_moved_line
from bot.context import Context, data_notes
from bot.digest.schedule import parse_segment
from metrics.clv import churned_ids, customer_model_of, risk_list
from metrics.engine import breakdown, compute, filter_where, resolve_options
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period, parse_period, week_start
from metrics.registry import METRICS
from metrics.result import Interval, MetricResult, SegmentValue, json_safe
from metrics.schema import DATED, SOURCE_TABS
from metrics.spend import segment_rows
from metrics.tables import Tables

if TYPE_CHECKING:
    from metrics.clv import ClvModel

log = logging.getLogger(__name__)

TRAILING_WEEKS = 13
# Headline KPIs, in display order; any metric with a target is added after these.
DIGEST_KPIS = (
    "revenue",
    "orders",
    "aov",
    "new",
    "customers",
    "retention",
    "churn",
    "repeat",
    "nps",
    "csat",
    "complaints",
    "cac",
)
# Metrics whose segment changes are compared for "biggest movers" (all in points, so they rank together).
MOVER_METRICS = ("nps", "churn", "repeat", "csat")
TOP_MOVERS = 3
TOP_COMMENTS = 3
TOP_RISK = 3
# Weekly series drawn in the trend chart.
TREND_METRICS = ("revenue", "nps", "churn")
# Tabs whose dated rows (by metrics.schema.DATED) make a week "not quiet".
QUIET_TABS = ("orders", "responses", "complaints", "customers", "spend")
# Metrics that get a what-moved line (bot.analyses.what_moved_line: a sentence when one moved a lot, else None).
WHAT_MOVED_METRICS = ("nps", "churn")


@dataclass
class Kpi:
    """One headline metric for the report week and for the trailing 13 weeks, each vs its previous period."""

    metric: str
    label: str
    unit: str
    week: MetricResult
    trailing: MetricResult
    lower_is_better: bool = False


@dataclass(frozen=True)
class Comment:
    """A survey comment: customer id only (no names or e-mails), the score and the day it was given."""

    customer_id: str | None
    score: int
    date: date
    text: str


@dataclass(frozen=True)
class Mover:
    """A segment whose metric moved most over the trailing 13 weeks vs the 13 before."""

    metric: str
    label: str
    unit: str
    dimension: str
    segment: str
    value: float
    previous: float
    change: float
    n: int
    interval: Interval | None = None
    significant: bool | None = None
    p_value: float | None = None
    small_sample: bool = False


@dataclass
class RiskHighlights:
    """Churn-risk summary from the customer model: how many are at risk, the value at stake, the top few."""

    at_risk: int
    value_at_stake: float
    top: list[tuple[str, float, float]] = field(default_factory=list)
    note: str | None = None
    already_churned: int = 0


@dataclass
class TrendPoint:
    """One week of the chart's series; `values` maps metric → value (None when undefined)."""

    week: Period
    values: dict[str, float | None]
    nps_margin: float | None = None


@dataclass
class Digest:
    """Everything one digest says, before rendering. `quiet` means no rows dated in the week at all."""

    week: Period
    trailing: Period
    segment: dict[str, str]
    currency: str
    data_as_of: datetime
    quiet: bool
    new_rows: dict[str, int]
    kpis: list[Kpi] = field(default_factory=list)
    responses: int = 0
    commented: int = 0
    since: date | None = None
    new_promoters: int = 0
    new_detractors: int = 0
    promoter_comments: list[Comment] = field(default_factory=list)
    detractor_comments: list[Comment] = field(default_factory=list)
    movers: list[Mover] = field(default_factory=list)
    risk: RiskHighlights | None = None
    issues: int = 0
    trend: list[TrendPoint] = field(default_factory=list)
    what_moved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        scope = "".join(f" · {k}={v}" for k, v in self.segment.items())
        return f"Weekly pulse — {self.week.label}{scope}"

    @property
    def comment_rate(self) -> float | None:
        return None if not self.responses else 100 * self.commented / self.responses

    def kpi(self, metric: str) -> Kpi | None:
        return next((k for k in self.kpis if k.metric == metric), None)

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape: every KPI as `MetricResult.to_json()`, the rest as plain values."""
        return json_safe(
            {
                "title": self.label,
                "week": self.week.to_json(),
                "trailing": self.trailing.to_json(),
                "segment": self.segment,
                "quiet": self.quiet,
                "new_rows": self.new_rows,
                "kpis": [
                    {"metric": k.metric, "week": k.week.to_json(), "trailing": k.trailing.to_json()} for k in self.kpis
                ],
                "surveys": {
                    "responses": self.responses,
                    "commented": self.commented,
                    "comment_rate": self.comment_rate,
                    "since": self.since,
                    "new_promoters": self.new_promoters,
                    "new_detractors": self.new_detractors,
                    "promoter_comments": [c.__dict__ for c in self.promoter_comments],
                    "detractor_comments": [c.__dict__ for c in self.detractor_comments],
                },
                "movers": [asdict(m) for m in self.movers],
                "risk": None if self.risk is None else self.risk.__dict__,
                "data_issues": self.issues,
                "trend": [{"week": p.week.label, **p.values, "nps_margin": p.nps_margin} for p in self.trend],
                "what_moved": self.what_moved,
                "data_as_of": self.data_as_of,
                "notes": self.notes,
            }
        )


def report_week_period(monday: date) -> Period:
    """The ISO week starting on `monday` as a Period (kind "week", so its comparison is the week before)."""
    year, week, _ = monday.isocalendar()
    return parse_period(f"{year}-W{week:02d}", monday + timedelta(days=6))


def trailing_period(monday: date, fiscal_year_start_month: int = 1) -> Period:
    """The 13 full ISO weeks ending with the week of `monday` (compared with the 13 weeks before)."""
    return parse_period(f"last-{TRAILING_WEEKS}-weeks", monday + timedelta(days=7), fiscal_year_start_month)


def build_digest(
    ctx: Context,
    week_start: date | None = None,
    segment: Mapping[str, str] | str | None = None,
    *,
    since: date | None = None,
) -> Digest:
    """The digest for the ISO week starting `week_start` (default: the last full week), optionally for one segment.
    `since` is where "new since the last digest" starts (default: the start of the week).

    A SQL source with `[source] pushdown = true` whose tables can be aggregated as they are builds it from the
    warehouse's aggregates (`WarehouseSource` below: no row enters Python); any other source, or one of its tables with
    rejected rows or untyped columns, from the snapshot's rows. Both give the same digest."""
    where = parse_segment(segment) if isinstance(segment, str) or segment is None else dict(segment)
    try:
        source = warehouse_source(ctx, where)
        if source is not None:
            return assemble(ctx, source, week_start, where, since)
    except NotPushed as why:  # the source changed under the digest: read the rows instead
        log.info("digest answered from the snapshot, not the warehouse: %s", why)
    return assemble(ctx, RowsSource(ctx, where), week_start, where, since)


def assemble(
    ctx: Context, source: DigestSource, week_start: date | None, where: dict[str, str], since: date | None
) -> Digest:
    """The digest's parts from `source` (the snapshot's rows or the warehouse's aggregates), in one order."""
    monday = _monday(week_start or ctx.today() - timedelta(days=7))
    week = report_week_period(monday)
    trailing = trailing_period(monday, ctx.settings.fiscal_year_start_month)
    new_rows = source.rows_in(week)
    digest = Digest(
        week=week,
        trailing=trailing,
        segment=where,
        currency=ctx.settings.currency,
        data_as_of=source.data_as_of,
        quiet=not any(new_rows.values()),
        new_rows=new_rows,
        issues=source.issues(),
        notes=source.notes(),
    )
    if digest.quiet:
        return digest
    digest.kpis = source.kpis(week, trailing)
    since = max(since or week.start, week.start - timedelta(days=7 * TRAILING_WEEKS))
    digest.since = since
    source.survey_facts(digest, since, week.end)
    labels = {k.metric: k.label for k in digest.kpis}
    digest.movers = source.movers(trailing, exclude=set(where), min_n=ctx.settings.surveys.min_n, labels=labels)
    digest.risk, risk_note = source.risk(week.end)
    if risk_note:
        digest.notes.append(risk_note)
    digest.trend = source.trend(monday)
    digest.what_moved = what_moved(ctx, trailing, where)
    return digest


class DigestSource(Protocol):
    """Where a digest's parts come from: the snapshot's rows (RowsSource) or a warehouse (WarehouseSource)."""

    data_as_of: datetime

    def issues(self) -> int: ...
    def notes(self) -> list[str]: ...
    def rows_in(self, p: Period) -> dict[str, int]: ...
    def kpis(self, week: Period, trailing: Period) -> list[Kpi]: ...
    def survey_facts(self, d: Digest, since: date, end: date) -> None: ...
    def movers(self, p: Period, *, exclude: set[str], min_n: int, labels: Mapping[str, str]) -> list[Mover]: ...
    def risk(self, as_of: date) -> tuple[RiskHighlights | None, str | None]: ...
    def trend(self, monday: date) -> list[TrendPoint]: ...


class RowsSource:
    """The digest's parts from the snapshot's rows, the `where` segment's tables and the options resolved on the
    whole workbook (so a segment without churn dates keeps the whole book's churn rule, as every answer does)."""

    def __init__(self, ctx: Context, where: dict[str, str]) -> None:
        self.ctx, self.where = ctx, where
        self.cached = ctx.snapshot()
        self.tables = ctx.tables(self.cached.snapshot)
        self.scoped = filter_where(self.tables, where)
        self.o = resolve_options(self.tables, ctx.options())
        self.data_as_of = self.cached.snapshot.read_at

    def issues(self) -> int:
        return len(self.cached.snapshot.issues)

    def notes(self) -> list[str]:
        return _data_notes(self.cached)

    def rows_in(self, p: Period) -> dict[str, int]:
        return rows_in(self.scoped, p)

    def kpis(self, week: Period, trailing: Period) -> list[Kpi]:
        return headline(self.ctx, self.tables, week, trailing, self.o, self.where)

    def survey_facts(self, d: Digest, since: date, end: date) -> None:
        _survey_facts(d, self.scoped.responses, since, end)

    def movers(self, p: Period, *, exclude: set[str], min_n: int, labels: Mapping[str, str]) -> list[Mover]:
        return movers(self.scoped, p, self.o, exclude=exclude, min_n=min_n, labels=labels)

    def risk(self, as_of: date) -> tuple[RiskHighlights | None, str | None]:
        return risk_highlights(self.tables, as_of, self.o, self.where)

    def trend(self, monday: date) -> list[TrendPoint]:
        return trend(self.scoped, monday, self.o)


def _data_notes(cached) -> list[str]:
    """The same data notes every answer carries: a stale snapshot, the whole workbook's invalid rows left out."""
    return data_notes(None, cached)


def _monday(d: date) -> date:
    return week_start(d)


def rows_in(t: Tables, p: Period) -> dict[str, int]:
    """Rows per source tab dated inside `p` (orders by order date, customers by signup, the rest by date)."""
    out = {}
    for tab in QUIET_TABS:
        column = DATED[tab]
        frame = segment_rows(t) if tab == "spend" else t.frame(tab)
        out[tab] = int(p.mask(frame[column]).sum()) if column in frame and len(frame) else 0
    return out


def kpi_names(t: Tables, o: MetricOptions) -> list[str]:
    """The headline KPIs and every targeted metric, but those reading a tab the source lacks."""
    names = list(DIGEST_KPIS) + [m for m in o.targets if m in METRICS and m not in DIGEST_KPIS]
    return [name for name in names if not set(METRICS[name].tabs) & t.missing]


def headline(
    ctx: Context, t: Tables, week: Period, trailing: Period, o: MetricOptions, where: Mapping[str, str]
) -> list[Kpi]:
    """`kpis`, computed by the warehouse when the source pushes every one of them down (`[source] pushdown`)."""
    pushed = pushed_kpis(ctx, kpi_names(t, o), week, trailing, o, where)
    return kpis(t, week, trailing, o, where) if pushed is None else pushed


def pushed_kpis(
    ctx: Context, names: list[str], week: Period, trailing: Period, o: MetricOptions, where: Mapping[str, str]
) -> list[Kpi] | None:
    """The KPIs `names` from the warehouse, all of them or None (then computed from the rows)."""
    from bot.pushdown import pushed_overview

    now = pushed_overview(ctx, names, week, o, where=where)
    then = pushed_overview(ctx, names, trailing, o, where=where) if now is not None else None
    if now is None or then is None:
        return None
    pairs = zip(names, now.results, then.results, strict=True)
    return [Kpi(name, w.label, w.unit, w, tr, METRICS[name].lower_is_better) for name, w, tr in pairs]


def kpis(t: Tables, week: Period, trailing: Period, o: MetricOptions, where: Mapping[str, str]) -> list[Kpi]:
    """The headline KPIs (and every targeted metric) for the week and the trailing 13 weeks."""
    out = []
    for name in kpi_names(t, o):
        spec = METRICS[name]
        w = compute(name, t, week, o, where=where)
        tr = compute(name, t, trailing, o, where=where)
        out.append(Kpi(name, w.label, w.unit, w, tr, spec.lower_is_better))
    return out


def _survey_facts(d: Digest, responses: pd.DataFrame, since: date, end: date) -> None:
    """Response count and comment rate for the week; promoters, detractors and their comments since `since`."""
    in_week = d.week.mask(responses["date"])
    d.responses = int(in_week.sum())
    d.commented = int(_has_comment(responses[in_week]).sum())
    nps = responses[
        (responses["survey"].astype("string").str.upper() == "NPS") & Period(since, end, "").mask(responses["date"])
    ]
    promoters = nps[nps["score"] >= 9]
    detractors = nps[nps["score"] <= 6]
    d.new_promoters, d.new_detractors = len(promoters), len(detractors)
    d.promoter_comments = recent_comments(promoters)
    d.detractor_comments = recent_comments(detractors)


def _has_comment(frame: pd.DataFrame) -> pd.Series:
    return frame["comment"].astype("string").fillna("").str.strip() != ""


def recent_comments(frame: pd.DataFrame, limit: int = TOP_COMMENTS) -> list[Comment]:
    """The `limit` most recent non-empty comments, newest first."""
    rows = frame[_has_comment(frame)].sort_values("date", ascending=False, kind="stable").head(limit)
    return [
        Comment(
            customer_id=None if pd.isna(r.customer_id) else str(r.customer_id),
            score=int(r.score),
            date=pd.Timestamp(r.date).date(),
            text=str(r.comment).strip(),
        )
        for r in rows.itertuples(index=False)
    ]


def movers(
    t: Tables, p: Period, o: MetricOptions, *, exclude: set[str], min_n: int, labels: Mapping[str, str] | None = None
) -> list[Mover]:
    """The largest |change| in points of MOVER_METRICS over every dimension's segments whose n (this period) ≥ min_n,
    changes beyond the noise first (a move within the noise is not news), each with its interval and verdict."""
    previous = comparison_period(p)
    found = (
        (name, dimension, breakdown(METRICS[name], t, p, previous, o, dimension))
        for name in mover_metrics(t.missing)
        for dimension in t.dimensions
        if dimension not in exclude
    )
    return top_movers(found, min_n, labels)


def mover_metrics(missing: Iterable[str]) -> list[str]:
    """MOVER_METRICS but those reading a tab the source lacks."""
    return [name for name in MOVER_METRICS if not set(METRICS[name].tabs) & set(missing)]


def top_movers(
    breakdowns: Iterable[tuple[str, str, list[SegmentValue]]], min_n: int, labels: Mapping[str, str] | None = None
) -> list[Mover]:
    """The TOP_MOVERS segments of (metric, dimension, its breakdown) by `movers`' rule, computed in memory or by a
    warehouse."""
    found: list[Mover] = []
    for name, dimension, rows in breakdowns:
        label = (labels or {}).get(name, name.upper())
        for s in rows:
            if s.change is None or s.n < min_n or s.previous is None or s.value is None:
                continue
            found.append(
                Mover(
                    name,
                    label,
                    _unit(name),
                    dimension,
                    s.segment,
                    float(s.value),
                    float(s.previous),
                    float(s.change),
                    s.n,
                    s.interval,
                    s.significant,
                    s.p_value,
                    s.small_sample,
                )
            )
    found.sort(key=lambda m: (m.significant is not True, -abs(m.change), m.metric, m.dimension, m.segment))
    return found[:TOP_MOVERS]


def _unit(name: str) -> str:
    return "nps" if name == "nps" else "percent"


def risk_highlights(
    t: Tables, as_of: date, o: MetricOptions, where: Mapping[str, str] | None = None
) -> tuple[RiskHighlights | None, str | None]:
    """Churn-risk highlights as `/pulse risk` shows them: P(alive) from the whole book's model, the already
    churned left out and counted, narrowed to the `where` segment; None and why when P(alive) is unavailable."""
    if t.orders.empty:
        return None, None
    o = resolve_options(t, o)
    keep = filter_where(t, where).customer_ids() if where else None
    return highlights(lambda: customer_model_of(t, as_of, o), lambda: churned_ids(t, as_of, o), keep)


def highlights(
    model_of: Callable[[], ClvModel], churned_of: Callable[[], set[str]], keep: Iterable[str] | None
) -> tuple[RiskHighlights | None, str | None]:
    """`risk_highlights` from the whole book's model and churned ids (computed in memory or from a warehouse's
    per-customer aggregates), narrowed to `keep`."""
    try:
        model = model_of()
    except Exception as err:  # noqa: BLE001 - a model failure must not stop the digest
        log.warning("churn-risk model failed: %s", err)
        return None, f"churn risk unavailable: {err}"
    if model.customers["p_alive"].isna().all():
        why = (model.note or "the customer model did not converge").split(" (")[0][:160]
        return None, f"churn risk unavailable: {why}"
    risky = risk_list(model.customers, churned_of(), keep)
    top = [
        (str(r.customer_id), float(r.p_alive), float(r.value_at_stake))
        for r in risky.customers.head(TOP_RISK).itertuples(index=False)
    ]
    return RiskHighlights(risky.at_risk, risky.value_at_stake, top, model.note, risky.already_churned), None


def trend(t: Tables, monday: date, o: MetricOptions, weeks: int = TRAILING_WEEKS) -> list[TrendPoint]:
    """Weekly values of TREND_METRICS for the `weeks` weeks ending with the report week."""
    periods = trend_weeks(monday, weeks)
    names = [m for m in TREND_METRICS if not set(METRICS[m].tabs) & t.missing]
    return trend_points(periods, {name: [METRICS[name].fn(t, p, o) for p in periods] for name in names})


def trend_weeks(monday: date, weeks: int = TRAILING_WEEKS) -> list[Period]:
    """The `weeks` ISO weeks ending with the one starting `monday`, oldest first."""
    return [report_week_period(monday - timedelta(days=7 * k)) for k in range(weeks - 1, -1, -1)]


def trend_points(periods: list[Period], results: Mapping[str, list[MetricResult]]) -> list[TrendPoint]:
    """The chart's points from each metric's weekly results (in memory or from a warehouse): value, NPS margin."""
    points = []
    for i, p in enumerate(periods):
        values: dict[str, float | None] = {}
        margin = None
        for name, series in results.items():
            r = series[i]
            values[name] = None if r.value is None or pd.isna(r.value) else float(r.value)
            if name == "nps":
                margin = r.details.get("margin")
        points.append(TrendPoint(p, values, margin))
    return points


def what_moved(ctx: Context, period: Period, where: Mapping[str, str]) -> list[str]:
    """Plain sentences on what drove the big moves of WHAT_MOVED_METRICS."""
    lines = []
    for metric in WHAT_MOVED_METRICS:
        try:
            line = what_moved_line(ctx, metric, period, dict(where) or None)
        except Exception as err:  # noqa: BLE001 - an optional line must not stop the digest
            log.warning("what-moved line for %s failed: %s", metric, err)
            continue
        if line:
            lines.append(str(line))
    return lines


# The digest of a SQL source with `[source] pushdown = true`, built from the warehouse's aggregates (issue 18): row
# counts of the week per table, the survey counts and the few recent comments (a LIMITed query), the movers from
# pushed-down breakdowns, the churn-risk highlights from the per-customer model `/pulse risk` uses, and the trend from
# one query per family for all its weeks; the same functions as above finish them, so both sources give the same
# digest. Used only when every table the source has can be aggregated as it is (typed, nothing the validation rules
# reject); else the digest is built from the snapshot as before. A part that cannot be pushed down (a KPI or mover
# whose query cannot run there, a data-issue count that reading the rows could change) is computed from the snapshot
# on its own.

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
