"""One consistent, typed read of every source tab (a Snapshot), and the `Pulse Data Issues` tab built from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from config.settings import Settings
from metrics.schema import COLUMNS, SOURCE_TABS
from sheets import progress
from sheets.validate import DataIssue, parse_tab_detail
from sheets.workbook import ISSUES_TAB, Cell, OwnedTab, Workbook

ISSUES_HEADER = ["Tab", "Row", "Column", "Value", "Problem", "Severity"]
ISSUES_TAB_LIMIT = 10_000

# What a missing tab switches off, in the words of the metrics that need it.
NEEDED_BY: dict[str, str] = {
    "customers": "signup dates, explicit churn (churned_on) and segments by region/plan/channel "
    "(without it, each customer's first order counts as the signup)",
    "orders": "revenue, orders, AOV, repeat and returning rates, retention, churn, NRR, lapsed share, "
    "cohorts, CLV, churn risk, refund and complaint rates",
    "responses": "NPS, CSAT and CSI",
    "complaints": "complaint rate and complaint resolution rate",
    "spend": "CAC and LTV:CAC",
    "subscriptions": "renewal rate",
}
OPTIONAL_TABS = ("subscriptions",)


@dataclass
class Snapshot:
    """Typed frames of all source tabs at one moment, with every data issue found while reading them."""

    frames: dict[str, pd.DataFrame]
    issues: list[DataIssue] = field(default_factory=list)
    missing_tabs: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str = ""
    # Arrays the metrics derived from these frames (metrics.arrays), kept with the disk snapshot so a later
    # process restores them instead of rebuilding; empty until the bot adds them. Not part of equality.
    arrays: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def rejected(self) -> list[DataIssue]:
        return [i for i in self.issues if i.severity == "rejected"]


def load_snapshot(
    workbook: Workbook, settings: Settings, now: datetime | None = None, *, columnar: bool = True
) -> Snapshot:
    """Read all configured source tabs in one call and type them; never raises for bad data, only for I/O.

    A backend with `read_columns` (a local .xlsx) is read column by column unless `columnar` is False, which
    reads cell by cell: the reference path, kept for tests and benchmarks (both give the same snapshot).
    """
    names = {key: getattr(settings.tabs, key) for key in SOURCE_TABS}
    read = getattr(workbook, "read_columns", None) if columnar else None
    progress.report(progress.READING, 0, len(names), name=workbook.describe())
    raw = (read or workbook.read_tabs)(list(names.values()))
    frames: dict[str, pd.DataFrame] = {}
    issues: list[DataIssue] = []
    missing: list[str] = []
    excluded: dict[str, int] = {}
    dimensions: list[str] = []
    missing_columns: dict[str, list[str]] = {}
    for done, (key, name) in enumerate(names.items(), 1):
        parsed = parse_tab_detail(key, raw.get(name), settings)
        frames[key] = parsed.frame
        progress.report(progress.CHECKING, done, len(names), sum(len(f) for f in frames.values()), name=name)
        excluded[key] = parsed.rejected_rows
        issues.extend(parsed.issues)
        if parsed.missing_columns:
            missing_columns[key] = parsed.missing_columns
        if key == "customers":
            dimensions = parsed.dimensions
        if raw.get(name) is None:
            missing.append(key)
            if key not in OPTIONAL_TABS:
                issues.append(_missing_tab_issue(key, name))
    with_recorded = getattr(workbook, "with_recorded", None)  # a `pulse export` file: the rows the sheet rejected
    if with_recorded is not None:
        issues, excluded = with_recorded(issues, excluded)
    read_at = now or datetime.now(UTC)
    read_at = read_at.astimezone(UTC) if read_at.tzinfo else read_at.replace(tzinfo=UTC)
    return Snapshot(
        frames=frames,
        issues=issues,
        missing_tabs=missing,
        dimensions=dimensions,
        excluded=excluded,
        missing_columns=missing_columns,
        read_at=read_at,
        source=workbook.describe(),
    )


def blocking_problems(snapshot: Snapshot, settings: Settings) -> list[str]:
    """What makes the source unusable as configured (`pulse check` exits 1): none of the source tabs exists,
    or a tab lacks a required column. Missing tabs alone are warnings: the metrics needing them say n/a."""
    problems = []
    if set(SOURCE_TABS) <= set(snapshot.missing_tabs):
        names = ", ".join(getattr(settings.tabs, key) for key in SOURCE_TABS)
        problems.append(
            f"the workbook has none of the source tabs {names}; add them, or name your tabs in the "
            f'config\'s [tabs] section (e.g. orders = "Sales")'
        )
    for key, columns in snapshot.missing_columns.items():
        name = getattr(settings.tabs, key)
        problems.append(
            f"tab '{name}' lacks the required column{'s' if len(columns) > 1 else ''} "
            f"{', '.join(columns)}; rename a header or map it in [columns.{key}] — nothing from "
            f"'{name}' is used until then"
        )
    return problems


def what_to_add(snapshot: Snapshot, settings: Settings) -> dict[str, str]:
    """Per source tab the metrics cannot use (absent, or lacking a required column), what to add, in one
    clause: "add an Orders tab with customer_id, order_date, amount" or "add the column amount to the Orders tab"."""
    return fixes_for(snapshot.missing_tabs, snapshot.missing_columns, settings)


def fixes_for(
    missing_tabs: Iterable[str], missing_columns: Mapping[str, list[str]], settings: Settings
) -> dict[str, str]:
    """`what_to_add` of the tabs a source lacks and the required columns its tabs lack (a warehouse knows them from
    its catalogue, without reading a row)."""
    fixes = {}
    for key in missing_tabs:
        name = getattr(settings.tabs, key)
        required = ", ".join(c.name for c in COLUMNS[key] if c.required)
        fixes[key] = f"add {'an' if name[:1].lower() in 'aeiou' else 'a'} {name} tab with {required}"
    for key, columns in missing_columns.items():
        name = getattr(settings.tabs, key)
        fixes[key] = f"add the column{'s' if len(columns) > 1 else ''} {', '.join(columns)} to the {name} tab"
    return fixes


def _missing_tab_issue(key: str, name: str) -> DataIssue:
    required = ", ".join(c.name for c in COLUMNS[key] if c.required)
    reason = f"tab '{name}' not found: add a tab named '{name}' with columns {required}; needed for {NEEDED_BY[key]}"
    return DataIssue(name, None, "", "", reason, "warning", key)


def data_issues_tab(snapshot: Snapshot, limit: int = ISSUES_TAB_LIMIT) -> OwnedTab:
    """The `Pulse Data Issues` tab: one row per issue in tab and row order, capped at `limit` rows."""
    ordered = snapshot.issues
    rows: list[list[Cell]] = [[i.tab, i.row, i.column, i.value, i.reason, i.severity] for i in ordered[:limit]]
    if len(ordered) > limit:
        rows.append(["", None, "", "", f"… and {len(ordered) - limit} more issues (see `pulse check`)", ""])
    return OwnedTab(ISSUES_TAB, list(ISSUES_HEADER), rows)
