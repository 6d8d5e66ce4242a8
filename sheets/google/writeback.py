"""Plan the write of owned tabs: structural requests first, then one padded values rectangle per tab.

Structural changes (create, mark, grow, freeze, bold) never touch existing values, and the values write
covers the tab's whole grid (blanks as ""), so no separate clear can half-succeed: if the values write
fails, every tab keeps its previous contents. Grids only shrink after a successful write.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping

from sheets.google.metadata import SheetMeta, quote_title
from sheets.workbook import OWNED_TABS, OWNER_MARKER_KEY, OwnedTab

BOLD_FIELDS = "userEnteredFormat.textFormat.bold"


@dataclass(frozen=True)
class TabPlan:
    """Where one owned tab goes: its sheet id and title, its grid size once structure is applied, its needed size."""

    name: str
    sheet_id: int
    title: str
    grid_rows: int
    grid_cols: int
    need_rows: int
    need_cols: int
    created: bool


@dataclass(frozen=True)
class WritePlan:
    requests: list[dict[str, Any]]
    tabs: list[TabPlan]
    refused: dict[str, str]


def needed_size(tab: OwnedTab) -> tuple[int, int]:
    """Rows and columns the tab needs: header + rows, at least 2 rows so the frozen header leaves one free."""
    cols = max([len(tab.header), *(len(r) for r in tab.rows), 1])
    return max(1 + len(tab.rows), 2), cols


def plan_write(meta: SheetMeta, tabs: Mapping[str, OwnedTab], protected: set[str],
               new_id: Callable[[set[int]], int] | None = None) -> WritePlan:
    """Decide, per owned tab, to refuse it, create it, or reuse (and grow) the marked tab already there."""
    new_id = new_id or _random_id
    used = set(meta.ids())
    requests: list[dict[str, Any]] = []
    plans: list[TabPlan] = []
    refused: dict[str, str] = {}
    protected_folded = {p.strip().casefold() for p in protected}
    for name, tab in tabs.items():
        if name not in OWNED_TABS:
            refused[name] = f"'{name}' is not a crm-pulse tab; only {', '.join(OWNED_TABS)} are ever written"
            continue
        if name.strip().casefold() in protected_folded:
            refused[name] = f"'{name}' is configured as a source tab; source tabs are never written"
            continue
        rows, cols = needed_size(tab)
        existing = meta.find(name)
        if existing is None:
            sheet_id = new_id(used)
            used.add(sheet_id)
            requests += _create(sheet_id, name, rows, cols)
            plans.append(TabPlan(name, sheet_id, name, rows, cols, rows, cols, created=True))
            continue
        if not existing.owned:
            refused[name] = (f"a tab named '{existing.title}' already exists and was not created by crm-pulse "
                             f"(it has no {OWNER_MARKER_KEY} mark), so it was left untouched — rename or delete it "
                             f"to let crm-pulse write '{name}'")
            continue
        grid_rows, grid_cols = max(existing.rows, rows), max(existing.cols, cols)
        fields = []
        if grid_rows != existing.rows:
            fields.append("rowCount")
        if grid_cols != existing.cols:
            fields.append("columnCount")
        if existing.frozen_rows != 1:
            fields.append("frozenRowCount")
        if fields:
            requests.append(_grid_update(existing.sheet_id, grid_rows, grid_cols, fields))
        if "columnCount" in fields or "frozenRowCount" in fields:
            requests.append(_bold_header(existing.sheet_id))
        plans.append(TabPlan(name, existing.sheet_id, existing.title, grid_rows, grid_cols, rows, cols, created=False))
    return WritePlan(requests, plans, refused)


def value_data(plans: list[TabPlan], tabs: Mapping[str, OwnedTab]) -> list[dict[str, Any]]:
    """One ValueRange per tab covering its whole grid: new values, then "" up to the old extent."""
    data = []
    for plan in plans:
        tab = tabs[plan.name]
        body = [list(tab.header), *(list(r) for r in tab.rows)]
        rect = [[json_cell(row[c]) if c < len(row) else "" for c in range(plan.grid_cols)] for row in body]
        rect += [[""] * plan.grid_cols for _ in range(plan.grid_rows - len(rect))]
        data.append({"range": f"{quote_title(plan.title)}!A1", "majorDimension": "ROWS", "values": rect})
    return data


def trim_requests(plans: list[TabPlan]) -> list[dict[str, Any]]:
    """Shrink grids that are larger than their new contents (run only after the values write succeeded)."""
    out = []
    for plan in plans:
        if plan.grid_rows > plan.need_rows or plan.grid_cols > plan.need_cols:
            out.append(_grid_update(plan.sheet_id, plan.need_rows, plan.need_cols, ["rowCount", "columnCount"]))
    return out


def json_cell(value: Any) -> Any:
    """A cell as JSON for a RAW write: text stays text (even "=…"), blanks are "", dates are ISO text."""
    if value is None or _is_missing(value):
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_missing(value: Any) -> bool:
    """pandas/numpy missing markers (NaT, NA, NaN) — written as blanks."""
    if isinstance(value, (str, bytes, bool, int)):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _create(sheet_id: int, title: str, rows: int, cols: int) -> list[dict[str, Any]]:
    return [
        {"addSheet": {"properties": {"sheetId": sheet_id, "title": title,
                                     "gridProperties": {"rowCount": rows, "columnCount": cols, "frozenRowCount": 1}}}},
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataKey": OWNER_MARKER_KEY, "metadataValue": title,
            "location": {"sheetId": sheet_id}, "visibility": "DOCUMENT"}}},
        _bold_header(sheet_id),
    ]


def _grid_update(sheet_id: int, rows: int, cols: int, fields: list[str]) -> dict[str, Any]:
    grid = {"rowCount": rows, "columnCount": cols, "frozenRowCount": 1}
    return {"updateSheetProperties": {
        "properties": {"sheetId": sheet_id, "gridProperties": {f: grid[f] for f in fields}},
        "fields": "gridProperties(" + ",".join(fields) + ")"}}


def _bold_header(sheet_id: int) -> dict[str, Any]:
    return {"repeatCell": {"range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                           "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}}, "fields": BOLD_FIELDS}}


def _random_id(used: set[int]) -> int:
    while True:
        candidate = random.randrange(1, 2**31 - 1)
        if candidate not in used:
            return candidate
