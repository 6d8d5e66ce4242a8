"""Answers that need more than one period's aggregate, pushed down to a SQL source (`[source] pushdown = true`): the
per-customer summary behind predicted CLV and churn risk, the per-customer days behind churn and survival, and the
signup-cohort counts come from one query each (sheets/warehouse/series.py); the same functions of metrics/ as in
memory finish them. Each function returns None when the tables it reads cannot be used as they are (untyped
columns, rows the validation rules reject): the caller then answers from the in-memory snapshot, so the numbers
never depend on the path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from bot.context import Context
from bot.pushdown import Facts, opened, pushed_down, scope_of
from bot.pushed_days import events_of
from bot.render.format import WORKBOOK, left_out
from metrics.clv import ClvModel, model_from_totals
from metrics.cohorts import CohortTable, cohort_finish, cohort_shape
from metrics.engine import check_dimension
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.result import MetricResult
from metrics.tables import Tables
from sheets.warehouse.pushdown import Scope

log = logging.getLogger(__name__)
# How long a summary's aggregates are kept at least (seconds), so that the families sharing one (the customer flow,
# the spend, the orders) query it once even when `[source] cache_seconds` is shorter than the summary takes.
ONE_SUMMARY = 3600.0


@dataclass
class Pushed:
    """An open warehouse whose Customers and Orders can be aggregated as they are, with the source's facts."""

    wh: Any
    facts: Facts
    read_at: datetime

    def stub(self) -> Tables:
        """Tables with no rows but the source's dimensions and recorded rejected rows, for the engine's checks."""
        return self.facts.stub()

    def notes(self) -> list[str]:
        """What `bot.context.data_notes` says of a snapshot: the rows the source rejected, left out."""
        rejected = sum(self.facts.excluded.values())
        return [left_out(rejected, WORKBOOK)] if rejected else []

    def scope(self, where: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
        """`where` as (dimension, value as the data spells it) pairs; unknown names raise as in memory."""
        return scope_of(self.wh, self.facts, where or {})

    def by(self, by: str | None) -> str | None:
        return check_dimension(self.stub(), by) if by else None


@contextmanager
def pushed(ctx: Context) -> Iterator[Pushed | None]:
    """The warehouse when Customers and Orders can be aggregated there, else None (answer from the snapshot)."""
    if not pushed_down(ctx):
        yield None
        return
    with opened(ctx) as (wh, facts):
        problem = facts.problems.get("orders") or facts.problems.get("customers")
        if problem:
            log.info("answered in memory, not in the warehouse: %s", problem)
            yield None
            return
        yield Pushed(wh, facts, ctx.now())


def customer_model(p: Pushed, as_of: date, o: MetricOptions, where: Mapping[str, str] | None = None) -> ClvModel:
    """`metrics.clv.customer_model` of the orders in `where`, from the warehouse's per-customer totals."""
    from sheets.warehouse.series import customer_totals

    return model_from_totals(customer_totals(p.wh, as_of, p.scope(where)), as_of, o)


def members(p: Pushed, where: Mapping[str, str] | None, by: str | None) -> pd.Series:
    """customer_id → segment of `by` ("(blank)" for none; "" without `by`) of the Customers rows in `where`, as
    `Tables.dimension_of` on the scoped snapshot."""
    rows = p.wh._segments(p.scope(where), by).to_pyarrow()
    ids = pd.Index([str(v) for v in rows.column("customer_id").to_pylist()], name="customer_id")
    return pd.Series(rows.column("segment").to_pylist(), index=ids, dtype="string", name=by)


def resolved(p: Pushed, o: MetricOptions) -> MetricOptions:
    """`metrics.engine.resolve_options` on the whole source: `auto` churn mode → explicit when any churned_on."""
    from bot.pushdown import _resolved

    return _resolved(p.facts, o)


def churn_events(
    p: Pushed, as_of: date, o: MetricOptions, where: Mapping[str, str] | None = None, by: str | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """`metrics.customers.churn_events` of the customers in `where` (options already resolved), with each row's
    segment of `by` ("" without; None for a customer only in Orders), from the warehouse's per-customer days."""
    return events_of(p.wh, as_of, o, p.scope(where), by)


def churned_ids(p: Pushed, as_of: date, o: MetricOptions) -> set[str]:
    """`metrics.clv.churned_ids` of the whole book (options already resolved): the customers churned at `as_of`."""
    from metrics.clv.risk import churn_dates_of

    events, _segments = churn_events(p, as_of, o)
    return set(churn_dates_of(events).index)


def cohort_tables(
    p: Pushed,
    first_month: date,
    last_month: date,
    where: Mapping[str, str] | None = None,
    by: str | None = None,
    as_of: date | None = None,
) -> list[tuple[str | None, CohortTable]]:
    """`metrics.cohorts.cohort_table` of the customers in `where`, one per segment of `by` (every value of the
    dimension in scope, as in memory), from the warehouse's cohort counts."""
    from sheets.warehouse.series import cohort_counts

    m0, n_cohorts, width, observed = cohort_shape(first_month, last_month, as_of)
    scope = p.scope(where)
    counts = cohort_counts(p.wh, m0, n_cohorts, width, scope, by)
    keys: list[str | None] = list(p.wh.dimension_values(by, scope)) if by else [None]
    out = []
    for key in keys:
        sizes = np.zeros(n_cohorts, dtype=np.int64)
        buyers = np.zeros((n_cohorts, width), dtype=np.int64)
        for (segment, cohort, k), n in counts.items():
            if segment == (key or ""):
                if k < 0:
                    sizes[cohort] = n
                else:
                    buyers[cohort, k] = n
        out.append((key, cohort_finish(m0, sizes, buyers, observed)))
    return out


def monthly_results(ctx: Context, months: list[Period], o: MetricOptions) -> dict[str, list[MetricResult]]:
    """The summary tab's series of every metric that can be pushed down, for consecutive calendar `months`: one query
    per family for all months (the orders aggregate, the survey histograms, the customer flow and its buyers, revenue
    retention, complaints, resolution, renewal, spend, and CLV's trailing years), finished by the same functions as a
    single pushed-down answer and named as `metrics.engine.evaluate` names them; a metric needing a table the source
    lacks is n/a with what to add, as in memory, without a query. Empty when the source is not pushed down; a metric
    whose tables cannot be aggregated as they are (untyped, rejected rows) is left out (computed in memory)."""
    from metrics.cohorts import month_index
    from metrics.registry import SUMMARY

    if not months or not pushed_down(ctx):
        return {}
    m0 = month_index(months[0].start)
    if [month_index(p.start) for p in months] != list(range(m0, m0 + len(months))):
        return {}
    with opened(ctx) as (wh, facts):
        wh.ttl = max(wh.ttl, ONE_SUMMARY)  # each aggregate is queried once here, however long the summary takes
        out = _monthly(wh, facts, SUMMARY, months, o)
    return {name: [_named(name, r) for r in results] for name, results in out.items()}


def _monthly(
    wh: Any, facts: Facts, wanted: Sequence[str], months: list[Period], o: MetricOptions, scope: Scope = ()
) -> dict[str, list[MetricResult]]:
    """`monthly_results` of the metrics `wanted` among the customers in `scope` (consecutive calendar `months`), as
    the metrics' own functions return them; a metric whose tables (Customers too when scoped) cannot be aggregated
    as they are is left out."""
    from dataclasses import replace

    from bot.pushdown import BASKET, SURVEYS, TABS, score_result
    from bot.pushdown_people import PEOPLE, _Ask, figures_of
    from metrics import surveys
    from metrics.cohorts import month_index
    from metrics.engine import evaluate, what_to_add
    from metrics.registry import METRICS
    from sheets.warehouse.pushdown import BasketStats, ScoreStats, baskets_of
    from sheets.warehouse.series import monthly_basket_query, monthly_scores

    def usable(tabs: Sequence[str]) -> bool:
        return not any(facts.problems.get(tab) for tab in (*tabs, *(("customers",) if scope else ())))

    m0 = month_index(months[0].start)
    excluded = facts.excluded
    out: dict[str, list[MetricResult]] = {}
    baskets = None
    # The orders by month: the basket metrics', and the complaint rate's denominator (orders per month).
    if usable(("orders",)) and any(n in BASKET or n == "complaints" for n in wanted):
        baskets = baskets_of(monthly_basket_query(wh, m0, len(months), scope))
        rows = excluded.get("orders", 0)
        for name in (n for n in BASKET if n in wanted):
            out[name] = [
                BASKET[name](replace(baskets.get((i, None), BasketStats()), excluded_rows=rows), p, o)
                for i, p in enumerate(months)
            ]
    scored = [n for n in SURVEYS if n in wanted]
    if scored and usable(("responses",)):
        scales = {SURVEYS[n][0]: surveys.scale_for(SURVEYS[n][0], o) for n in scored}
        stats = monthly_scores(wh, m0, len(months), {s: (v.min, v.max) for s, v in scales.items()}, scope)
        rows = excluded.get("responses", 0)
        for name in scored:
            survey = SURVEYS[name][0]
            out[name] = [
                score_result(name, stats.get((i, survey), ScoreStats()), rows, p, o) for i, p in enumerate(months)
            ]
    mode = o.churn_mode if o.churn_mode != "auto" else ("explicit" if facts.churn_dates else "inactivity")
    # The months as the periods of one question: the single answers' queries take any number of periods, so
    # each family is one query for all months (the customer flow's buyers, the complaints' orders: reused).
    ask = _Ask(wh, tuple(months), replace(o, churn_mode=mode), scope, None, [], baskets)
    for name in (n for n in PEOPLE if n in wanted):
        if usable(TABS[name]):
            out[name] = [figures[None] for figures in figures_of(ask, name, excluded)]
    stub = facts.stub()
    for name in (n for n in wanted if n not in out):
        fine = all(not facts.problems.get(tab) or tab in facts.fixes for tab in TABS[name])
        if fine and what_to_add(METRICS[name], stub) is not None:  # a tab it needs is absent: n/a, as in memory
            out[name] = [evaluate(METRICS[name], stub, p, o) for p in months]
    return out


def monthly_series(
    p: Pushed, name: str, today: date, o: MetricOptions, where: Mapping[str, str] | None = None
) -> tuple[pd.Series, list[MetricResult]] | None:
    """`metrics.analysis.monthly_series` of the customers in `where` (options already resolved) and each month's
    result, from the warehouse: the first dated row of the metric's tabs, then one query per family for all months;
    None when a table the metric reads cannot be aggregated as it is (the caller reads the rows)."""
    from bot.pushdown import PUSHED, TABS
    from metrics.analysis import month_series, series_months
    from metrics.engine import SEGMENTED_TABS, spec_for
    from metrics.schema import DATED

    if name not in PUSHED:
        return None
    scope = p.scope(where)
    tabs = (*TABS[name], *(("customers",) if scope else ()))
    if any(p.facts.problems.get(tab) and tab not in p.facts.fixes for tab in tabs):
        return None
    spec = spec_for(name)
    # As in memory, the spend of every customer (`metrics.engine.filter_where` narrows only the customers' rows).
    found = [p.wh.first_day(tab, DATED[tab], scope if tab in SEGMENTED_TABS else ()) for tab in spec.tabs]
    months = series_months(min((d.date() for d in found if d is not None), default=None), today)
    results = _monthly(p.wh, p.facts, [name], months, o, scope).get(name) if months else []
    if results is None:
        return None
    return month_series(months, [r.value for r in results]), results


def _named(name: str, result: MetricResult) -> MetricResult:
    """A result named, labelled and with the unit of the catalogue, as `metrics.engine.evaluate` returns it."""
    from dataclasses import replace

    from metrics.registry import METRICS

    spec = METRICS[name]
    return replace(result, metric=spec.name, label=spec.label, unit=spec.unit or "count")
