"""Plan the write of owned tabs so that a failure anywhere leaves the previous tabs exactly as they were.

1. One spreadsheets.batchUpdate adds a hidden *staging* tab per owned tab (sized to the new contents, marked
   with STAGING_KEY and its creation time, header frozen and bold). Nothing visible changes.
2. One RAW values.batchUpdate fills the staging tabs.
3. One spreadsheets.batchUpdate swaps them in — atomic, as every batchUpdate is: an existing tab keeps its
   sheet id (links, charts and formulas that point at it keep working) and takes the staged values
   (resize, clear values, copyPaste PASTE_VALUES, so its formatting stays), then the staging tab is deleted;
   a new tab is the staging tab renamed, shown and marked as crm-pulse's.
If step 2 or 3 fails the staging tabs are deleted again; a staging tab a crashed writer left behind is
deleted by a later write once it is older than STALE_STAGING_SECONDS.
"""

from __future__ import annotations

import contextlib
import math
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sheets.google.metadata import STAGING_KEY, SheetMeta, TabInfo, quote_title
from sheets.workbook import OWNED_TABS, OWNER_MARKER_KEY, Cell, OwnedTab

BOLD_FIELDS = "userEnteredFormat.textFormat.bold"
STALE_STAGING_SECONDS = 900


@dataclass(frozen=True)
class TabPlan:
    """One owned tab: its staging tab (id, title), its new size, and the marked tab it replaces (None: new tab)."""

    name: str
    stage_id: int
    stage_title: str
    rows: int
    cols: int
    existing_id: int | None

    @property
    def created(self) -> bool:
        return self.existing_id is None


@dataclass(frozen=True)
class WritePlan:
    """The tabs to write, the tabs refused (name → reason), and stale staging tabs to clean up afterwards."""

    tabs: list[TabPlan]
    refused: dict[str, str]
    stale: list[int]


def needed_size(tab: OwnedTab) -> tuple[int, int]:
    """Rows and columns the tab needs: header + rows, at least 2 rows so the frozen header leaves one free."""
    cols = max([len(tab.header), *(len(r) for r in tab.rows), 1])
    return max(1 + len(tab.rows), 2), cols


def plan_write(
    meta: SheetMeta,
    tabs: Mapping[str, OwnedTab],
    protected: set[str],
    *,
    now: float,
    new_id: Callable[[set[int]], int] | None = None,
    token: str | None = None,
) -> WritePlan:
    """Decide, per owned tab, to refuse it or stage it (to replace the marked tab already there, or to be new)."""
    new_id = new_id or _random_id
    token = token or secrets.token_hex(3)
    used = set(meta.ids())
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
        existing = meta.find(name)
        if existing is not None and not existing.owned:
            refused[name] = (
                f"a tab named '{existing.title}' already exists and was not created by crm-pulse "
                f"(it has no {OWNER_MARKER_KEY} mark), so it was left untouched — rename or delete it "
                f"to let crm-pulse write '{name}'"
            )
            continue
        rows, cols = needed_size(tab)
        stage_id = new_id(used)
        used.add(stage_id)
        plans.append(
            TabPlan(
                name,
                stage_id,
                f"{name} (crm-pulse update {token})",
                rows,
                cols,
                existing.sheet_id if existing is not None else None,
            )
        )
    stale = [t.sheet_id for t in meta.tabs if _is_stale(t, now)]
    return WritePlan(plans, refused, stale)


def stage_requests(plans: list[TabPlan], now: float) -> list[dict[str, Any]]:
    """Add the hidden staging tabs: sized, header frozen and bold, marked as staging with their creation time."""
    out: list[dict[str, Any]] = []
    for plan in plans:
        out += [
            {
                "addSheet": {
                    "properties": {
                        "sheetId": plan.stage_id,
                        "title": plan.stage_title,
                        "hidden": True,
                        "gridProperties": {"rowCount": plan.rows, "columnCount": plan.cols, "frozenRowCount": 1},
                    }
                }
            },
            _mark(plan.stage_id, STAGING_KEY, str(int(now))),
            _bold_header(plan.stage_id),
        ]
    return out


def value_data(plans: list[TabPlan], tabs: Mapping[str, OwnedTab]) -> list[dict[str, Any]]:
    """One ValueRange per staging tab covering its whole grid (blanks as "")."""
    data = []
    for plan in plans:
        tab = tabs[plan.name]
        header: list[Cell] = list(tab.header)
        body = [header, *(list(r) for r in tab.rows)]
        rect = [[json_cell(row[c]) if c < len(row) else "" for c in range(plan.cols)] for row in body]
        rect += [[""] * plan.cols for _ in range(plan.rows - len(rect))]
        data.append({"range": f"{quote_title(plan.stage_title)}!A1", "majorDimension": "ROWS", "values": rect})
    return data


def swap_requests(plans: list[TabPlan]) -> list[dict[str, Any]]:
    """The one atomic batchUpdate that puts the staged contents in place of the owned tabs."""
    out: list[dict[str, Any]] = []
    for plan in plans:
        if plan.existing_id is None:
            out += [
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": plan.stage_id, "title": plan.name, "hidden": False},
                        "fields": "title,hidden",
                    }
                },
                {
                    "deleteDeveloperMetadata": {
                        "dataFilter": {
                            "developerMetadataLookup": {
                                "metadataKey": STAGING_KEY,
                                "metadataLocation": {"sheetId": plan.stage_id},
                            }
                        }
                    }
                },
                _mark(plan.stage_id, OWNER_MARKER_KEY, plan.name),
            ]
            continue
        target, grid = plan.existing_id, {"sheetId": plan.existing_id}
        out += [
            {
                "updateSheetProperties": {
                    "properties": {
                        "sheetId": target,
                        "gridProperties": {"rowCount": plan.rows, "columnCount": plan.cols, "frozenRowCount": 1},
                    },
                    "fields": "gridProperties(rowCount,columnCount,frozenRowCount)",
                }
            },
            {"updateCells": {"range": grid, "fields": "userEnteredValue"}},
            {
                "copyPaste": {
                    "source": _whole(plan.stage_id, plan),
                    "destination": _whole(target, plan),
                    "pasteType": "PASTE_VALUES",
                    "pasteOrientation": "NORMAL",
                }
            },
            _bold_header(target),
            {"deleteSheet": {"sheetId": plan.stage_id}},
        ]
    return out


def format_requests(plans: list[TabPlan], tabs: Mapping[str, OwnedTab]) -> list[dict[str, Any]]:
    """Number formats and frozen columns of the tabs that ask for them, applied to the swapped-in tab (same batch):
    earlier formats of the data rows are cleared first, so a column that moved keeps no stale format."""
    out: list[dict[str, Any]] = []
    for plan in plans:
        tab = tabs.get(plan.name)
        if tab is None or not (tab.formats or tab.frozen_cols):
            continue
        sheet_id = plan.stage_id if plan.existing_id is None else plan.existing_id
        out.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": {"frozenColumnCount": tab.frozen_cols}},
                    "fields": "gridProperties.frozenColumnCount",
                }
            }
        )
        data = {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": plan.rows}
        out.append({"repeatCell": {"range": data, "cell": {}, "fields": "userEnteredFormat.numberFormat"}})
        for col, pattern in sorted(tab.formats.items()):
            if col < plan.cols:
                out.append(
                    {
                        "repeatCell": {
                            "range": {**data, "startColumnIndex": col, "endColumnIndex": col + 1},
                            "cell": {"userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": pattern}}},
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
    return out


def discard_requests(sheet_ids: list[int]) -> list[dict[str, Any]]:
    """Delete staging tabs (after a failed write, or left behind by a crashed one)."""
    return [{"deleteSheet": {"sheetId": sheet_id}} for sheet_id in sheet_ids]


def swapped(meta: SheetMeta, plans: list[TabPlan]) -> bool:
    """Whether the swap landed: every staging tab is gone or, for a new tab, renamed to its final title."""
    for plan in plans:
        tab = next((t for t in meta.tabs if t.sheet_id == plan.stage_id), None)
        if plan.created and (tab is None or tab.title != plan.name):
            return False
        if not plan.created and tab is not None:
            return False
    return True


def json_cell(value: Any) -> Any:
    """A cell as JSON for a RAW write: text stays text (even "=…"), blanks are "", dates are ISO text."""
    if value is None or _is_missing(value):
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
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


def _is_stale(tab: TabInfo, now: float) -> bool:
    """A staging tab some earlier write left behind (older than STALE_STAGING_SECONDS)."""
    return tab.staged_at is not None and now - tab.staged_at > STALE_STAGING_SECONDS


def _whole(sheet_id: int, plan: TabPlan) -> dict[str, Any]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": plan.rows,
        "startColumnIndex": 0,
        "endColumnIndex": plan.cols,
    }


def _mark(sheet_id: int, key: str, value: str) -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": key,
                "metadataValue": value,
                "location": {"sheetId": sheet_id},
                "visibility": "DOCUMENT",
            }
        }
    }


def _bold_header(sheet_id: int) -> dict[str, Any]:
    return {
        "repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
            "fields": BOLD_FIELDS,
        }
    }


def _random_id(used: set[int]) -> int:
    while True:
        candidate = random.randrange(1, 2**31 - 1)
        if candidate not in used:
            return candidate
