"""Every tab crm-pulse owns and `pulse refresh`, which computes them and writes them to the workbook in one batch:
`Pulse Summary`, `Pulse Cohorts`, `Pulse Customers`, `Pulse Survival`, `Pulse Data Issues` (and `Pulse Log`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from bot.context import Context, source_id
from bot.i18n import N_, _, pgettext, use
from bot.pulse_log import deferred, forget_deferred, log_tab
from bot.pushdown import issues_without_rows, shown_rules
from bot.reasons import issues_tab_in_language, rule_rows
from bot.render.format import CURRENCY_SYMBOLS, note
from bot.replies import TextReply
from metrics.clv import ClvModel, churn_dates, customer_model_of, risk_list
from metrics.cohorts import CohortTable, cohort_table
from metrics.engine import evaluate, resolve_options
from metrics.options import MetricOptions
from metrics.periods import Period, month_periods
from metrics.registry import DEFINITIONS_VERSION, METRICS, SUMMARY
from metrics.result import MetricResult
from metrics.survival import SurvivalResult, durations, kaplan_meier, kaplan_meier_of
from metrics.tables import Tables
from sheets import progress
from sheets.cache import CachedSnapshot
from sheets.snapshot import Snapshot, data_issues_tab
from sheets.workbook import (
    COHORTS_TAB,
    CUSTOMERS_TAB,
    ISSUES_TAB,
    LOG_TAB,
    SUMMARY_TAB,
    SURVIVAL_TAB,
    TABS_KEPT,
    Cell,
    OwnedTab,
    WorkbookError,
    WriteReport,
)

SUMMARY_MONTHS = 24
PARTS = 6  # of a refresh, for its progress bar: the five tabs built (or skipped when n/a), then writing them
SURVIVAL_STEP_DAYS = 30
# At most this many customers in `Pulse Customers` (8 columns: 800,000 cells, well within an .xlsx's 1,048,576 rows
# and a Google Sheet's 10 M cells): past it, those ranked by risk first, then by predicted CLV (`customers_of`).
CUSTOMERS_TAB_LIMIT = 100_000
CUSTOMERS_HEADER = [
    N_("Customer"),
    N_("Segment"),
    N_("P(alive)"),
    N_("Expected purchases"),
    N_("Predicted CLV"),
    N_("Value at stake"),
    N_("Risk rank"),
    N_("Churned on"),
]
SURVIVAL_HEADER = [N_("Days since signup"), N_("Survival"), N_("Low (95%)"), N_("High (95%)")]
# When the refresh in progress started, per source (`source_id`): one refresh at a time writes a sheet, while a
# refresh of another sheet served by the same process goes ahead.
_running_lock = threading.Lock()
_running: dict[str, datetime] = {}


@dataclass
class RefreshReport:
    """What a refresh wrote, refused and why."""

    written: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    months: int = 0
    issues: int = 0
    skipped: bool = False
    running_since: datetime | None = None

    def reply(self) -> TextReply:
        if self.skipped:
            return TextReply(_("Refresh already running"), [("", already_running(self.running_since))])
        sections = [(_("Written"), ", ".join(self.written) or _("nothing"))]
        if self.refused:
            sections.append((_("Not written"), "\n".join(f"{name}: {why}" for name, why in self.refused.items())))
        data = _("{months} months summarised · {issues} data issues listed", months=self.months, issues=self.issues)
        sections.append((_("Data"), data))
        title = (
            _("Summary tabs refreshed") if not self.refused else _("Summary tabs refreshed, with tabs left untouched")
        )
        return TextReply(title, sections, payload={"written": self.written, "refused": self.refused})


def summary_months(t: Tables, today: date, limit: int = SUMMARY_MONTHS) -> list[Period]:
    """Full calendar months with data, the latest `limit` of them, ending with last month."""
    dates = t.orders["order_date"].dropna()
    return months_since(dates.min().date() if len(dates) else None, today, limit)


def months_since(first: date | None, today: date, limit: int = SUMMARY_MONTHS) -> list[Period]:
    """`summary_months` from the first order date (None: no orders), wherever it was found (snapshot or warehouse)."""
    last = date(today.year, today.month, 1)
    months = [m for m in month_periods(first or last, last) if m.end <= last]
    return months[-limit:]


RATE_KINDS = ("proportion", "nps")


def summary_tab(
    t: Tables,
    months: list[Period],
    o: MetricOptions,
    currency: str = "USD",
    known: Mapping[str, list[MetricResult]] | None = None,
) -> OwnedTab:
    """`Pulse Summary` for people and pivots alike: one row per month, a column per metric under its name with its
    unit ("Customer churn %", "Revenue (USD)"); n and the 95% interval for rates only; targets; small samples named;
    number formats and a frozen month column (Google Sheets and .xlsx). Cells hold values, never formatted text."""
    known = known or {}  # series already computed (by the warehouse: bot.pushed_series.monthly_results)
    results = [
        {name: known[name][i] if name in known else evaluate(METRICS[name], t, p, o) for name in SUMMARY}
        for i, p in enumerate(months)
    ]
    first = results[0] if results else {}
    heads = {
        name: _heading(_(first[name].label), first[name].unit, currency) if name in first else name for name in SUMMARY
    }
    rates = [name for name in SUMMARY if METRICS[name].kind in RATE_KINDS]
    header: list[str] = [_("Month")]
    formats: dict[int, str] = {}
    for name in SUMMARY:
        unit = first[name].unit if name in first else "count"
        formats[len(header)] = number_pattern(unit, currency)
        header.append(heads[name])
        if name in rates:
            formats[len(header)] = number_pattern("count", currency)
            formats[len(header) + 1] = formats[len(header) + 2] = number_pattern(unit, currency)
            header += [_("{heading} n", heading=heads[name]), _("{heading} low", heading=heads[name])]
            header.append(_("{heading} high", heading=heads[name]))
    targeted = [m for m in SUMMARY if m in o.targets]
    for name in targeted:
        formats[len(header)] = formats[header.index(heads[name])]
        header += [_("{heading} target", heading=heads[name]), _("{heading} status", heading=heads[name])]
    header += [_("Small samples"), _("Definitions")]
    rows: list[list[Cell]] = []
    for p, by_name in zip(months, results, strict=True):
        row: list[Cell] = [p.label]
        for name in SUMMARY:
            r = by_name[name]
            row.append(_num(r.value))
            if name in rates:
                row += [
                    r.n,
                    _num(r.interval.low if r.interval else None),
                    _num(r.interval.high if r.interval else None),
                ]
        for name in targeted:
            v, goal = by_name[name].value, o.targets[name]
            met = None if v is None else (v <= goal if METRICS[name].lower_is_better else v >= goal)
            row += [goal, "" if met is None else ("met" if met else "missed")]
        small = [
            f"{heads[n]} (n = {by_name[n].n})"
            for n in rates
            if any(x.startswith("small sample") for x in by_name[n].notes)
        ]
        row += ["; ".join(small), DEFINITIONS_VERSION]
        rows.append(row)
    return OwnedTab(SUMMARY_TAB, header, rows, formats=formats, frozen_cols=1)


def _heading(label: str, unit: str, currency: str) -> str:
    """A column heading with its unit: "Customer churn %", "Revenue (USD)", "Net Promoter Score"."""
    if unit == "percent":
        return f"{label} %"
    if unit == "money":
        return f"{label} ({currency})"
    return label


def number_pattern(unit: str, currency: str = "USD") -> str:
    """The Sheets number format of a unit, matching `bot.render.format.number` (percent values are 0–100)."""
    if unit == "percent":
        return '0.0"%"'
    if unit == "money":
        symbol = CURRENCY_SYMBOLS.get(currency.upper())
        return f'"{symbol}"#,##0.00' if symbol else f'#,##0.00" {currency}"'
    if unit in ("count", "nps"):
        return "#,##0"
    if unit == "ratio":
        return '0.0":1"'
    return "#,##0.00"


def cohorts_tab(t: Tables, months: list[Period], o: MetricOptions) -> OwnedTab:
    """`Pulse Cohorts`: the monthly signup-cohort retention triangle (share with an order k months later)."""
    if not months:
        return OwnedTab(COHORTS_TAB, [_("Cohort"), _("Customers")], [])
    return cohorts_of(cohort_table(t, months[0].start, months[-1].start, o))


def cohorts_of(table: CohortTable) -> OwnedTab:
    """`Pulse Cohorts` from a cohort table (the snapshot's, or the warehouse's counts finished alike)."""
    header = [_("Cohort"), _("Customers")] + [_("M{k}", k=k) for k in range(table.shares.shape[1])]
    rows: list[list[Cell]] = []
    for label, size, shares in zip(table.cohorts, table.sizes, table.shares, strict=True):
        rows.append([str(label), int(size), *(_num(v) for v in shares)])
    return OwnedTab(COHORTS_TAB, header, rows)


def _num(v) -> Cell:
    if v is None:
        return None
    v = float(v)
    return None if not np.isfinite(v) else round(v, 6)


def customers_tab(t: Tables, today: date, o: MetricOptions, limit: int = CUSTOMERS_TAB_LIMIT) -> OwnedTab | None:
    """`Pulse Customers`: per customer RFM segment, P(alive), expected purchases, predicted CLV and risk rank, from
    the fitted model; None when there are no orders to fit.

    As `/pulse risk`: a customer already churned today (by the churn rule in force) shows its churn date
    and no value at stake or risk rank — it is a loss, not a risk; the ranks count the others from 1."""
    if t.orders.empty:
        return None
    o = resolve_options(t, o)
    return customers_of(customer_model_of(t, today, o), churn_dates(t, today, o), limit)


def customers_of(model: ClvModel, gone: pd.Series, limit: int = CUSTOMERS_TAB_LIMIT) -> OwnedTab:
    """`Pulse Customers` from a fitted model and the churn date of each customer already churned (`churn_dates`),
    whether both came from the snapshot or from the warehouse's per-customer summary.

    A sheet cannot hold millions of customers (an .xlsx stops at 1,048,576 rows, a Google Sheet at 10 M cells), so
    past `limit` the tab keeps the customers ranked by risk first (rank 1 first), then the others by predicted CLV
    (highest first, ties by id), and its first row says how many were left out."""
    ranks = risk_list(model.customers, gone.index).customers.set_index("customer_id")["risk_rank"]
    customers, left_out = _kept(model.customers, ranks, limit)
    rows: list[list[Cell]] = []
    for rec in customers.itertuples(index=False):
        cid = str(rec.customer_id)
        churned = gone.get(cid)
        rows.append(
            [
                cid,
                str(rec.segment),
                _round(getattr(rec, "p_alive", None), 4),
                _round(getattr(rec, "expected_purchases", None), 3),
                _round(getattr(rec, "predicted_clv", None), 2),
                None if churned is not None else _round(getattr(rec, "value_at_stake", None), 2),
                None if _missing(ranks.get(cid)) else int(ranks[cid]),
                None if churned is None else pd.Timestamp(churned).date().isoformat(),
            ]
        )
    if left_out:
        text = _(
            "{n} more customers not listed: a tab holds at most {limit} — those ranked by risk first, then by "
            "predicted CLV",
            n=f"{left_out:,}",
            limit=f"{limit:,}",
        )
        rows.insert(0, [_("(note)"), text] + [None] * (len(CUSTOMERS_HEADER) - 2))
    if not model.converged and model.note:
        # the note in the language; the segment names stay as metrics writes them (values filters and formulas read)
        rows.insert(0, [_("(note)"), note(model.note)] + [None] * (len(CUSTOMERS_HEADER) - 2))
    return OwnedTab(CUSTOMERS_TAB, [_(h) for h in CUSTOMERS_HEADER], rows)


def _kept(customers: pd.DataFrame, ranks: pd.Series, limit: int) -> tuple[pd.DataFrame, int]:
    """The model's customers as listed (all of them, in the model's order, up to `limit`; past it the ranked ones by
    rank, then the others by predicted CLV) and how many were left out."""
    if len(customers) <= limit:
        return customers, 0
    ids = customers["customer_id"].astype(str)
    clv = customers["predicted_clv"] if "predicted_clv" in customers else pd.Series(np.nan, index=customers.index)
    order = pd.DataFrame(
        {
            "rank": pd.to_numeric(ids.map(ranks), errors="coerce").to_numpy(dtype=float),
            "clv": pd.to_numeric(clv, errors="coerce").to_numpy(dtype=float),
            "id": ids.to_numpy(),
        }
    )
    picked = order.sort_values(
        ["rank", "clv", "id"], ascending=[True, False, True], na_position="last", kind="mergesort"
    )
    return customers.iloc[picked.index[:limit]], len(customers) - limit


def _missing(v) -> bool:
    return v is None or bool(pd.isna(v))


def _round(v, digits: int) -> Cell:
    return None if _missing(v) else round(float(v), digits)


def survival_tab(t: Tables, today: date, o: MetricOptions) -> OwnedTab | None:
    """`Pulse Survival`: the overall curve and one per first dimension, sampled every 30 days."""
    by = t.dimensions[0] if t.dimensions else None
    try:
        return survival_of(kaplan_meier(t, today, resolve_options(t, o), by=by))
    except ValueError:
        return None


def survival_of(r: SurvivalResult) -> OwnedTab:
    """`Pulse Survival` from the curves (the snapshot's, or the warehouse's survival input finished alike)."""
    rows: list[list[Cell]] = []
    for c in [r.overall, *r.segments]:
        s = pd.DataFrame({"s": c.survival, "lo": c.low, "hi": c.high}, index=c.days)
        horizon = int(max(c.days)) if c.days else 0
        for day in range(0, horizon + 1, SURVIVAL_STEP_DAYS):
            at = s[s.index <= day].iloc[-1] if (s.index <= day).any() else None
            if at is not None:
                rows.append([c.segment, day, round(float(at.s), 4), round(float(at.lo), 4), round(float(at.hi), 4)])
    header = [pgettext("survival curve of", "Segment"), *(_(h) for h in SURVIVAL_HEADER)]
    return OwnedTab(SURVIVAL_TAB, header, rows)


def with_rules(tab: OwnedTab, rules: list[Any] | None) -> OwnedTab:
    """`Pulse Data Issues` with the validation rules run in the database (a SQL source) first, one row per rule."""
    return tab if not rules else replace(tab, rows=[*rule_rows(rules), *tab.rows])


def build_tabs(ctx: Context, *, fresh: bool = False) -> tuple[dict[str, OwnedTab], int, int]:
    """All owned tabs for the current data, plus the month and issue counts; headers and notes in the configured
    language (the workbook is the team's, whoever asked for the refresh). `fresh` reads the source now (a refresh)
    rather than answering from the cached snapshot, if the rows are needed at all."""
    with use(ctx.settings.language):
        return _build_tabs(TabSource(ctx, fresh))


def _build_tabs(source: TabSource) -> tuple[dict[str, OwnedTab], int, int]:
    months = source.months()
    counted: list[int] = []

    def issues() -> OwnedTab:
        tab, n = source.issues()
        counted.append(n)
        return tab

    builders: list[tuple[str, Callable[[], OwnedTab | None]]] = [
        (SUMMARY_TAB, lambda: source.summary(months)),
        (COHORTS_TAB, lambda: source.cohorts(months)),
        (ISSUES_TAB, issues),
        (CUSTOMERS_TAB, source.customers),
        (SURVIVAL_TAB, source.survival),
    ]
    tabs: dict[str, OwnedTab] = {}
    for done, (name, build) in enumerate(builders):
        progress.report(N_("building {name}"), done, PARTS, name=name)
        tab = build()
        if tab is not None:
            tabs[tab.name] = tab
    return tabs, len(months), counted[0]


class TabSource:
    """What the owned tabs are built from: the warehouse's aggregates when the source is pushed down (`[source]
    pushdown = true` and its Customers and Orders can be aggregated as they are), so no row enters Python; else the
    snapshot, read once and only when a tab needs its rows."""

    def __init__(self, ctx: Context, fresh: bool = False) -> None:
        self.ctx, self.fresh = ctx, fresh
        self.o = ctx.options()
        self._cached: CachedSnapshot | None = None

    def cached(self) -> CachedSnapshot:
        """The snapshot, read now for a refresh (a failed read raises, never summarising the last one as new)."""
        if self._cached is None:
            self._cached = read_now(self.ctx) if self.fresh else self.ctx.snapshot()
        return self._cached

    def tables(self) -> Tables:
        return self.ctx.tables(self.cached().snapshot)

    def months(self) -> list[Period]:
        """The summary months: from the warehouse's first order date, else the snapshot's."""
        from bot import pushed_series

        with pushed_series.pushed(self.ctx) as p:
            if p is not None:
                first = p.wh.first_day("orders", "order_date")
                return months_since(first.date() if first is not None else None, self.ctx.today())
        return summary_months(self.tables(), self.ctx.today())

    def summary(self, months: list[Period]) -> OwnedTab:
        """`Pulse Summary`: the warehouse's monthly series; any metric it does not cover comes from the snapshot."""
        known = pushed_months(self.ctx, months, self.o)
        needs_rows = months and any(name not in known for name in SUMMARY)
        t = self.tables() if needs_rows else Tables.from_frames({})
        return summary_tab(t, months, self.o, self.ctx.settings.currency, known)

    def cohorts(self, months: list[Period]) -> OwnedTab:
        """`Pulse Cohorts`: from the warehouse's cohort counts when pushed down."""
        from bot import pushed_series

        if months:
            with pushed_series.pushed(self.ctx) as p:
                if p is not None:
                    ((_, table),) = pushed_series.cohort_tables(p, months[0].start, months[-1].start)
                    return cohorts_of(table)
        return cohorts_tab(self.tables() if months else Tables.from_frames({}), months, self.o)

    def customers(self) -> OwnedTab | None:
        """`Pulse Customers`: from the warehouse's per-customer summary and churn days when pushed down (as the
        pushed `/pulse risk`)."""
        from bot import pushed_series
        from metrics.clv.risk import churn_dates_of

        today = self.ctx.today()
        with pushed_series.pushed(self.ctx) as p:
            if p is not None:
                o = pushed_series.resolved(p, self.o)
                model = pushed_series.customer_model(p, today, o)
                if model.n_customers == 0:
                    return None
                events, _segments = pushed_series.churn_events(p, today, o)
                return customers_of(model, churn_dates_of(events))
        return customers_tab(self.tables(), today, self.o)

    def survival(self) -> OwnedTab | None:
        """`Pulse Survival`: from the warehouse's per-customer days when pushed down (as the pushed `/pulse
        survival`), by the first dimension."""
        from bot import pushed_series

        today = self.ctx.today()
        with pushed_series.pushed(self.ctx) as p:
            if p is not None:
                by = p.facts.dimensions[0] if p.facts.dimensions else None
                o = pushed_series.resolved(p, self.o)
                events, segments = pushed_series.churn_events(p, today, o, None, by)
                try:
                    return survival_of(kaplan_meier_of(durations(events, today), today, by, segments if by else None))
                except ValueError:
                    return None
        return survival_tab(self.tables(), today, self.o)

    def issues(self) -> tuple[OwnedTab, int]:
        """`Pulse Data Issues` (the database's validation rules first, for a SQL source) and how many issues the
        data has: without the rows when the rules and types show there is nothing more to find (as `/pulse
        issues`: `bot.pushdown.issues_without_rows`)."""
        issues = issues_without_rows(self.ctx)
        if issues is None:
            issues = self.cached().snapshot.issues
        tab = data_issues_tab(Snapshot(frames={}, issues=issues))
        return issues_tab_in_language(with_rules(tab, shown_rules(self.ctx))), len(issues)


def pushed_months(ctx: Context, months: list[Period], o: MetricOptions) -> dict[str, list[MetricResult]]:
    """The summary series the warehouse computes (`[source] pushdown = true`), one query per metric family."""
    from bot.pushdown import pushed_down

    if not pushed_down(ctx):
        return {}
    from bot.pushed_series import monthly_results

    return monthly_results(ctx, months, o)


def read_now(ctx: Context) -> CachedSnapshot:
    """Read the sheet now. If it cannot be read, raise why (never summarise the last snapshot as if it were new)."""
    try:
        return ctx.read_now()
    except WorkbookError as err:
        raise err.with_note(TABS_KEPT) from None


def refresh(ctx: Context, *, reason: str = "manual") -> RefreshReport:
    """Re-read the data, rebuild and write the owned tabs; at most one refresh runs at a time."""
    slot = source_id(ctx.workbook)
    since = _begin(slot, ctx.now())
    if since is not None:
        return RefreshReport(skipped=True, running_since=since)
    try:
        tabs, months, issues = build_tabs(ctx, fresh=True)
        detail = f"{reason}: {months} months, {issues} data issues"
        pending = deferred()  # notes queued where no workbook was at hand (a damaged snapshot cache moved aside)
        tabs[LOG_TAB] = log_tab(ctx.workbook, [*pending, (ctx.now(), "refresh", detail, "ok")])
        progress.report(N_("writing {n} tabs"), PARTS - 1, PARTS, n=len(tabs))
        written: WriteReport = ctx.workbook.write_owned(tabs)
        progress.report(N_("written"), PARTS, PARTS)
        if LOG_TAB in written.written:
            forget_deferred(len(pending))
        return RefreshReport(written=written.written, refused=written.refused, months=months, issues=issues)
    finally:
        _end(slot)


def _begin(slot: str, now: datetime) -> datetime | None:
    """Claim the source's refresh slot; returns None when claimed, else when its running refresh started."""
    with _running_lock:
        if slot in _running:
            return _running[slot]
        _running[slot] = now
        return None


def _end(slot: str) -> None:
    with _running_lock:
        _running.pop(slot, None)


def running_since(ctx: Context) -> datetime | None:
    """When the refresh of this context's source in progress started, or None when none is running."""
    with _running_lock:
        return _running.get(source_id(ctx.workbook))


def already_running(since: datetime | None) -> str:
    """ "A refresh is already running, started at 14:02:11 UTC; …" — what a second caller is told."""
    when = _(", started at {time} UTC", time=f"{since.astimezone(UTC):%H:%M:%S}") if since is not None else ""
    return _(
        "A refresh is already running{when}; its results land when it finishes — try again in a minute.", when=when
    )
