"""What spreadsheets.get tells us about the tabs: ids, titles, grid sizes and the crm-pulse ownership mark."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sheets.workbook import OWNER_MARKER_KEY

# Marks a hidden tab a write is filling before it swaps it in; its value is the creation time (Unix seconds).
STAGING_KEY = "crm-pulse-staging"

FIELDS = (
    "properties.title,sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount,frozenRowCount)),"
    "developerMetadata(metadataId,metadataKey,metadataValue,visibility,location))"
)


@dataclass(frozen=True)
class TabInfo:
    """One tab: its id, title, grid size, frozen rows, whether crm-pulse marked it as its own, and — for a
    staging tab of an unfinished write — when it was created (Unix seconds)."""

    sheet_id: int
    title: str
    index: int
    rows: int
    cols: int
    frozen_rows: int
    owned: bool
    staged_at: float | None = None


@dataclass(frozen=True)
class SheetMeta:
    """The spreadsheet title and its tabs in order."""

    title: str
    tabs: tuple[TabInfo, ...]

    def find(self, name: str) -> TabInfo | None:
        """The tab titled `name`: exact match first, then ignoring case and surrounding spaces (as Sheets does)."""
        exact = next((t for t in self.tabs if t.title == name), None)
        if exact is not None:
            return exact
        folded = name.strip().casefold()
        return next((t for t in self.tabs if t.title.strip().casefold() == folded), None)

    def ids(self) -> set[int]:
        return {t.sheet_id for t in self.tabs}


def parse_metadata(response: Mapping[str, Any]) -> SheetMeta:
    """Read a spreadsheets.get response (fields=FIELDS)."""
    tabs = []
    for sheet in response.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        marks = {m.get("metadataKey"): m.get("metadataValue") for m in sheet.get("developerMetadata", [])}
        tabs.append(
            TabInfo(
                sheet_id=int(props.get("sheetId", 0)),
                title=str(props.get("title", "")),
                index=int(props.get("index", 0)),
                rows=int(grid.get("rowCount", 0)),
                cols=int(grid.get("columnCount", 0)),
                frozen_rows=int(grid.get("frozenRowCount", 0)),
                owned=OWNER_MARKER_KEY in marks,
                staged_at=_seconds(marks[STAGING_KEY]) if STAGING_KEY in marks else None,
            )
        )
    tabs.sort(key=lambda t: t.index)
    return SheetMeta(title=str(response.get("properties", {}).get("title", "")), tabs=tuple(tabs))


def _seconds(value: Any) -> float:
    """A staging mark's creation time; an unreadable one counts as long ago (so the tab is cleaned up)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def quote_title(title: str) -> str:
    """A tab title as an A1 range prefix: always single-quoted, inner quotes doubled."""
    return "'" + title.replace("'", "''") + "'"
