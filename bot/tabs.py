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

from bot.context import Context
from bot.i18n import N_, _, pgettext, use
from bot.pulse_log import deferred, forget_deferred, log_tab
from bot.pushdown import shown_rules
from bot.reasons import issues_tab_in_language, rule_rows
from bot.render.format import CURRENCY_SYMBOLS, note
from bot.replies import TextReply
from metrics.clv import churn_dates, customer_model_of, risk_list
from metrics.cohorts import cohort_table
from metrics.engine import evaluate, resolve_options
from metrics.options import MetricOptions
from metrics.periods import Period, month_periods
from metrics.registry import DEFINITIONS_VERSION, METRICS, SUMMARY
from metrics.result import MetricResult
from metrics.survival import kaplan_meier
from metrics.tables import Tables
from sheets import progress
from sheets.snapshot import data_issues_tab
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
_running_lock = threading.Lock()
_running_since: datetime | None = None


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
    last = date(today.year, today.month, 1)
    dates = t.orders["order_date"].dropna()
    first = dates.min().date() if len(dates) else last
    months = [m for m in month_periods(first, last) if m.end <= last]
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
    table = cohort_table(t, months[0].start, months[-1].start, o)
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


def customers_tab(t: Tables, today: date, o: MetricOptions) -> OwnedTab | None:
    """`Pulse Customers`: per customer RFM segment, P(alive), expected purchases, predicted CLV and risk rank, from
    the fitted model; None when there are no orders to fit.

    As `/pulse risk`: a customer already churned today (by the churn rule in force) shows its churn date
    and no value at stake or risk rank — it is a loss, not a risk; the ranks count the others from 1."""
    if t.orders.empty:
        return None
    o = resolve_options(t, o)
    model = customer_model_of(t, today, o)
    gone = churn_dates(t, today, o)
    ranks = risk_list(model.customers, gone.index).customers.set_index("customer_id")["risk_rank"]
    rows: list[list[Cell]] = []
    for rec in model.customers.itertuples(index=False):
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
    if not model.converged and model.note:
        # the note in the language; the segment names stay as metrics writes them (values filters and formulas read)
        rows.insert(0, [_("(note)"), note(model.note)] + [None] * (len(CUSTOMERS_HEADER) - 2))
    return OwnedTab(CUSTOMERS_TAB, [_(h) for h in CUSTOMERS_HEADER], rows)


def _missing(v) -> bool:
    return v is None or bool(pd.isna(v))


def _round(v, digits: int) -> Cell:
    return None if _missing(v) else round(float(v), digits)


def survival_tab(t: Tables, today: date, o: MetricOptions) -> OwnedTab | None:
    """`Pulse Survival`: the overall curve and one per first dimension, sampled every 30 days."""
    by = t.dimensions[0] if t.dimensions else None
    try:
        r = kaplan_meier(t, today, resolve_options(t, o), by=by)
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
    header = [pgettext("survival curve of", "Segment"), *(_(h) for h in SURVIVAL_HEADER)]
    return OwnedTab(SURVIVAL_TAB, header, rows)


def with_rules(tab: OwnedTab, rules: list[Any] | None) -> OwnedTab:
    """`Pulse Data Issues` with the validation rules run in the database (a SQL source) first, one row per rule."""
    return tab if not rules else replace(tab, rows=[*rule_rows(rules), *tab.rows])


def build_tabs(ctx: Context) -> tuple[dict[str, OwnedTab], int, int]:
    """All owned tabs for the current snapshot, plus the month and issue counts; headers and notes in the configured
    language (the workbook is the team's, whoever asked for the refresh)."""
    with use(ctx.settings.language):
        return _build_tabs(ctx)


def _build_tabs(ctx: Context) -> tuple[dict[str, OwnedTab], int, int]:
    cached = ctx.snapshot()
    t = ctx.tables(cached.snapshot)
    o = ctx.options()
    months = summary_months(t, ctx.today())
    builders: list[tuple[str, Callable[[], OwnedTab | None]]] = [
        (SUMMARY_TAB, lambda: summary_tab(t, months, o, ctx.settings.currency, pushed_months(ctx, months, o))),
        (COHORTS_TAB, lambda: cohorts_tab(t, months, o)),
        (ISSUES_TAB, lambda: issues_tab_in_language(with_rules(data_issues_tab(cached.snapshot), shown_rules(ctx)))),
        (CUSTOMERS_TAB, lambda: customers_tab(t, ctx.today(), o)),
        (SURVIVAL_TAB, lambda: survival_tab(t, ctx.today(), o)),
    ]
    tabs: dict[str, OwnedTab] = {}
    for done, (name, build) in enumerate(builders):
        progress.report(N_("building {name}"), done, PARTS, name=name)
        tab = build()
        if tab is not None:
            tabs[tab.name] = tab
    return tabs, len(months), len(cached.snapshot.issues)


def pushed_months(ctx: Context, months: list[Period], o: MetricOptions) -> dict[str, list[MetricResult]]:
    """The summary series the warehouse computes (`[source] pushdown = true`), one query per metric family."""
    from bot.pushdown import pushed_down

    if not pushed_down(ctx):
        return {}
    from bot.pushed_series import monthly_results

    return monthly_results(ctx, months, o)


def read_now(ctx: Context) -> None:
    """Read the sheet now. If it cannot be read, raise why (never summarise the last snapshot as if it were new)."""
    try:
        ctx.read_now()
    except WorkbookError as err:
        raise err.with_note(TABS_KEPT) from None


def refresh(ctx: Context, *, reason: str = "manual") -> RefreshReport:
    """Re-read the data, rebuild and write the owned tabs; at most one refresh runs at a time."""
    since = _begin(ctx.now())
    if since is not None:
        return RefreshReport(skipped=True, running_since=since)
    try:
        read_now(ctx)
        tabs, months, issues = build_tabs(ctx)
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
        _end()


def _begin(now: datetime) -> datetime | None:
    """Claim the single refresh slot; returns None when claimed, else when the running refresh started."""
    global _running_since
    with _running_lock:
        if _running_since is not None:
            return _running_since
        _running_since = now
        return None


def _end() -> None:
    global _running_since
    with _running_lock:
        _running_since = None


def running_since() -> datetime | None:
    """When the refresh in progress started, or None when none is running."""
    with _running_lock:
        return _running_since


def already_running(since: datetime | None) -> str:
    """ "A refresh is already running, started at 14:02:11 UTC; …" — what a second caller is told."""
    when = _(", started at {time} UTC", time=f"{since.astimezone(UTC):%H:%M:%S}") if since is not None else ""
    return _(
        "A refresh is already running{when}; its results land when it finishes — try again in a minute.", when=when
    )
