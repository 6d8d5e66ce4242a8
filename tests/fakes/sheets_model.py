"""The in-memory spreadsheet behind the Sheets API fake: grids, A1 ranges, value input/render rules, batchUpdate requests.

Behaviour follows the public Sheets API v4 reference and gspread's recorded cassettes: whole-sheet and
open-ended A1 ranges, reads trimmed of trailing empty cells and rows, RAW vs USER_ENTERED input (null
skips a cell, "" clears it), grid limits enforced on writes, atomic batch requests.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

EPOCH = date(1899, 12, 30)
_CELL_RE = re.compile(r"^([A-Za-z]*)(\d*)$")


class ApiError(Exception):
    """An error the fake answers with, shaped like the real API's {"error": {code, message, status}}."""

    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

    def __init__(self, code: int, message: str, reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message,
                                 "status": self.STATUS.get(self.code, "UNKNOWN")}
        if self.reason:  # Google's older error list, still sent by Drive (e.g. insufficientPermissions)
            error["errors"] = [{"message": self.message, "domain": "global", "reason": self.reason}]
        return {"error": error}


@dataclass
class StoredCell:
    """One non-empty cell: its effective value, the formula that produced it, and its format."""

    value: Any = None
    formula: str | None = None
    is_date: bool = False


@dataclass
class Grid:
    """One tab (a GRID sheet)."""

    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    cells: dict[tuple[int, int], StoredCell] = field(default_factory=dict)
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    # A read-only bulk tab (benchmarks): rows of values exactly as an UNFORMATTED_VALUE + SERIAL_NUMBER read returns
    # them ("" for an empty cell, trailing empties trimmed), kept as given instead of one StoredCell per cell.
    frozen: list[list[Any]] | None = None
    edits: int = 0  # cell writes so far (also direct ones from tests): Drive's modifiedTime follows them

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        out = {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": "GRID",
               "gridProperties": grid}
        if self.hidden:
            out["hidden"] = True
        return out


@dataclass(frozen=True)
class Span:
    """A resolved A1 range: a tab and half-open row/column bounds (None = to the grid's end)."""

    grid: Grid
    r0: int
    r1: int | None
    c0: int
    c1: int | None
    anchor: bool = False

    def rows_end(self) -> int:
        return self.grid.rows if self.r1 is None else min(self.r1, self.grid.rows)

    def cols_end(self) -> int:
        return self.grid.cols if self.c1 is None else min(self.c1, self.grid.cols)


def col_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    """A tab title as the API writes it in ranges: quoted unless plain letters/digits/underscore."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def a1(grid: Grid, r0: int, r1: int, c0: int, c1: int) -> str:
    return f"{quote_title(grid.title)}!{col_letters(c0)}{r0 + 1}:{col_letters(c1 - 1)}{r1}"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


class Spreadsheet:
    """One spreadsheet: its title, tabs and developer metadata."""

    def __init__(self, key: str, title: str):
        self.key = key
        self.title = title
        self.grids: list[Grid] = []
        self.metadata: list[dict[str, Any]] = []
        self._next_id = 1000
        self.shared_with: set[str] | None = None
        self.viewers: set[str] = set()
        self.modified = datetime(2026, 1, 1, tzinfo=timezone.utc)  # Drive's modifiedTime
        self.version = 1  # Drive's version: moves on with every change
        self._seen_edits = 0

    def touch(self) -> None:
        """A change: modifiedTime becomes now (always later than before) and the version moves on."""
        self.version += 1
        self.modified = max(datetime.now(timezone.utc), self.modified + timedelta(milliseconds=1))

    def drive_state(self) -> tuple[datetime, int]:
        """(modifiedTime, version) as Drive reports them, counting cell edits made straight on the grids too."""
        edits = sum(g.edits for g in self.grids)
        if edits != self._seen_edits:
            self._seen_edits = edits
            self.touch()
        return self.modified, self.version

    # ---- structure -------------------------------------------------------------------------
    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_grid(self, title: str, rows: int = 1000, cols: int = 26, sheet_id: int | None = None) -> Grid:
        if any(g.title.lower() == title.lower() for g in self.grids):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        if sheet_id is None:
            sheet_id = 0 if not self.grids else self.new_id()
        if any(g.sheet_id == sheet_id for g in self.grids):
            raise ApiError(400, f"A sheet with id {sheet_id} already exists.")
        grid = Grid(sheet_id=sheet_id, title=title, index=len(self.grids), rows=rows, cols=cols)
        self.grids.append(grid)
        return grid

    def grid_by_title(self, title: str) -> Grid | None:
        return next((g for g in self.grids if g.title == title), None) or next(
            (g for g in self.grids if g.title.lower() == title.lower()), None)

    def grid_by_id(self, sheet_id: int) -> Grid:
        grid = next((g for g in self.grids if g.sheet_id == sheet_id), None)
        if grid is None:
            raise ApiError(400, f"No grid with id: {sheet_id}")
        return grid

    def resource(self) -> dict[str, Any]:
        """The Spreadsheet resource without grid data (what spreadsheets.get returns before `fields`)."""
        sheets = []
        for grid in sorted(self.grids, key=lambda g: g.index):
            entry: dict[str, Any] = {"properties": grid.properties()}
            meta = [m for m in self.metadata if m["location"].get("sheetId") == grid.sheet_id]
            if meta:
                entry["developerMetadata"] = copy.deepcopy(meta)
            sheets.append(entry)
        out: dict[str, Any] = {
            "spreadsheetId": self.key,
            "properties": {"title": self.title, "locale": "en_US", "autoRecalc": "ON_CHANGE", "timeZone": "Etc/GMT"},
            "sheets": sheets,
        }
        top = [m for m in self.metadata if m["location"].get("spreadsheet")]
        if top:
            out["developerMetadata"] = copy.deepcopy(top)
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{self.key}/edit"
        return out

    # ---- ranges ----------------------------------------------------------------------------
    def span(self, text: str) -> Span:
        """Resolve an A1 range ('Tab name'!A1:B2, Tab, A1:B2 on the first tab, A:B, 2:5, A2:C)."""
        fail = ApiError(400, f"Unable to parse range: {text}")
        title, sep, cells = _split_range(text)
        if not sep:
            grid = self.grid_by_title(title)
            if grid is not None:
                return Span(grid, 0, None, 0, None)
            if not self.grids:
                raise fail
            grid, cells = sorted(self.grids, key=lambda g: g.index)[0], title
        else:
            grid = self.grid_by_title(title)
            if grid is None:
                raise fail
        if not cells:
            return Span(grid, 0, None, 0, None)
        parts = cells.split(":")
        if len(parts) > 2:
            raise fail
        starts = [_CELL_RE.match(p) for p in parts]
        if any(m is None or (not m.group(1) and not m.group(2)) for m in starts):
            raise fail
        (l0, n0) = starts[0].groups()
        if len(parts) == 1:
            if not (l0 and n0):
                raise fail
            r, c = int(n0) - 1, col_index(l0)
            return Span(grid, r, r + 1, c, c + 1, anchor=True)
        (l1, n1) = starts[1].groups()
        c0 = col_index(l0) if l0 else 0
        r0 = int(n0) - 1 if n0 else 0
        c1 = col_index(l1) + 1 if l1 else None
        r1 = int(n1) if n1 else None
        if (l0 and not l1 and not n1) or (n0 and not n1 and not l1):
            raise fail
        return Span(grid, r0, r1, c0, c1)

    # ---- reads -----------------------------------------------------------------------------
    def read(self, span: Span, render: str, datetime_render: str, major: str) -> dict[str, Any]:
        """values.get semantics for one range: clipped to the grid, trailing empties trimmed."""
        grid = span.grid
        r_end, c_end = span.rows_end(), span.cols_end()
        if grid.frozen is not None:
            return self._read_frozen(span, render, major)
        inside = {(r - span.r0, c - span.c0): cell for (r, c), cell in grid.cells.items()
                  if span.r0 <= r < r_end and span.c0 <= c < c_end}
        height = max((r for r, _ in inside), default=-1) + 1
        width = max((c for _, c in inside), default=-1) + 1
        rows: list[list[Any]] = [[""] * width for _ in range(height)]
        for (r, c), cell in inside.items():
            rows[r][c] = self._render(cell, render, datetime_render)
        return _value_range(span, rows, major)

    def _read_frozen(self, span: Span, render: str, major: str) -> dict[str, Any]:
        """values.get of a bulk tab: its stored rows sliced to the range (unformatted values only)."""
        grid = span.grid
        assert grid.frozen is not None
        if render != "UNFORMATTED_VALUE":
            raise ApiError(400, "this fake's bulk tabs answer valueRenderOption=UNFORMATTED_VALUE only")
        r_end, c_end = span.rows_end(), span.cols_end()
        return _value_range(span, [row[span.c0 : c_end] for row in grid.frozen[span.r0 : r_end]], major)

    def _render(self, cell: StoredCell | None, render: str, datetime_render: str) -> Any:
        if cell is None:
            return ""
        if render == "FORMULA" and cell.formula is not None:
            return cell.formula
        value = cell.value
        if render == "FORMATTED_VALUE" or (cell.is_date and datetime_render == "FORMATTED_STRING"):
            return _formatted(cell)
        if isinstance(value, float):
            return _number(value)
        return value

    # ---- writes ----------------------------------------------------------------------------
    def plan_write(self, span: Span, values: list[list[Any]], major: str, requested: str) -> list[tuple[int, int, Any]]:
        """Validate one values write and return the cell assignments (null cells are skipped)."""
        if major == "COLUMNS":
            width = max((len(v) for v in values), default=0)
            values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
        height = len(values)
        width = max((len(row) for row in values), default=0)
        if span.anchor:
            span = Span(span.grid, span.r0, None, span.c0, None)
        if span.r1 is not None and span.r0 + height > span.r1:
            raise ApiError(400, f"Requested writing within range [{requested}], but tried writing to row [{span.r0 + height}]")
        if span.c1 is not None and span.c0 + width > span.c1:
            raise ApiError(400, f"Requested writing within range [{requested}], but tried writing to column [{col_letters(span.c0 + width - 1)}]")
        grid = span.grid
        if span.r0 + height > grid.rows or span.c0 + width > grid.cols:
            raise ApiError(400, f"Range ({a1(grid, span.r0, span.r0 + max(height, 1), span.c0, span.c0 + max(width, 1))}) "
                                f"exceeds grid limits. Max rows: {grid.rows}, max columns: {grid.cols}")
        return [(span.r0 + i, span.c0 + j, v) for i, row in enumerate(values) for j, v in enumerate(row) if v is not None]

    @staticmethod
    def apply_write(grid: Grid, cells: list[tuple[int, int, Any]], input_option: str) -> None:
        if grid.frozen is not None:
            raise ApiError(400, "this fake's bulk tabs are read-only")
        grid.edits += 1
        for r, c, v in cells:
            stored = _parse_input(v, input_option)
            if stored is None:
                grid.cells.pop((r, c), None)
            else:
                grid.cells[(r, c)] = stored

    def clear(self, span: Span) -> str:
        grid = span.grid
        r_end, c_end = span.rows_end(), span.cols_end()
        for key in [k for k in grid.cells if span.r0 <= k[0] < r_end and span.c0 <= k[1] < c_end]:
            del grid.cells[key]
        return a1(grid, span.r0, r_end, span.c0, c_end)

    # ---- spreadsheets.batchUpdate ----------------------------------------------------------
    def batch_update(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply requests in order; the caller snapshots/restores so a failure changes nothing."""
        replies = []
        for i, request in enumerate(requests):
            if len(request) != 1:
                raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request must be set.")
            (kind, body), = request.items()
            handler = getattr(self, f"_req_{kind}", None)
            if handler is None:
                raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': Cannot find field.")
            try:
                replies.append(handler(body))
            except ApiError as err:
                raise ApiError(err.code, f"Invalid requests[{i}].{kind}: {err.message}") from None
        return replies

    def _req_addSheet(self, body: dict[str, Any]) -> dict[str, Any]:
        props = body.get("properties", {})
        gp = props.get("gridProperties", {})
        title = props.get("title") or f"Sheet{len(self.grids) + 1}"
        grid = self.add_grid(title, gp.get("rowCount", 1000), gp.get("columnCount", 26), props.get("sheetId"))
        self._set_frozen(grid, gp.get("frozenRowCount", 0), gp.get("frozenColumnCount", 0))
        if "index" in props:
            self._move(grid, props["index"])
        self._set_hidden(grid, bool(props.get("hidden", False)))
        return {"addSheet": {"properties": grid.properties()}}

    def _req_deleteSheet(self, body: dict[str, Any]) -> dict[str, Any]:
        grid = self.grid_by_id(body.get("sheetId"))
        if len(self.grids) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        self.grids.remove(grid)
        for i, g in enumerate(sorted(self.grids, key=lambda g: g.index)):
            g.index = i
        self.metadata = [m for m in self.metadata if m["location"].get("sheetId") != grid.sheet_id]
        return {}

    def _req_updateSheetProperties(self, body: dict[str, Any]) -> dict[str, Any]:
        props = body.get("properties", {})
        fields = body.get("fields")
        if not fields:
            raise ApiError(400, "At least one field must be updated, but none were specified.")
        grid = self.grid_by_id(props.get("sheetId"))
        paths = _field_paths(fields, props)
        gp = props.get("gridProperties", {})
        rows, cols = grid.rows, grid.cols
        frozen_rows, frozen_cols = grid.frozen_rows, grid.frozen_cols
        for path in paths:
            if path == "title":
                title = props.get("title", "")
                if any(g is not grid and g.title.lower() == title.lower() for g in self.grids):
                    raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
                grid.title = title
            elif path == "index":
                self._move(grid, props.get("index", 0))
            elif path == "gridProperties.rowCount":
                rows = gp.get("rowCount", 0)
            elif path == "gridProperties.columnCount":
                cols = gp.get("columnCount", 0)
            elif path == "gridProperties.frozenRowCount":
                frozen_rows = gp.get("frozenRowCount", 0)
            elif path == "gridProperties.frozenColumnCount":
                frozen_cols = gp.get("frozenColumnCount", 0)
            elif path == "hidden":
                self._set_hidden(grid, bool(props.get("hidden", False)))
            elif path in ("tabColor", "rightToLeft", "gridProperties.hideGridlines", "tabColorStyle"):
                continue
            else:
                raise ApiError(400, f"Invalid field mask path: {path}")
        if rows < 1 or cols < 1:
            raise ApiError(400, "Invalid grid size: rows and columns must be at least 1.")
        grid.rows, grid.cols = rows, cols
        grid.cells = {k: v for k, v in grid.cells.items() if k[0] < rows and k[1] < cols}
        grid.formats = {k: v for k, v in grid.formats.items() if k[0] < rows and k[1] < cols}
        self._set_frozen(grid, frozen_rows, frozen_cols)
        return {}

    def _set_hidden(self, grid: Grid, hidden: bool) -> None:
        if hidden and all(g.hidden for g in self.grids if g is not grid):
            raise ApiError(400, "You can't hide all the sheets in a document.")
        grid.hidden = hidden

    def _set_frozen(self, grid: Grid, rows: int, cols: int) -> None:
        if rows and rows >= grid.rows:
            raise ApiError(400, "You can't freeze all visible rows on the sheet.")
        if cols and cols >= grid.cols:
            raise ApiError(400, "You can't freeze all visible columns on the sheet.")
        grid.frozen_rows, grid.frozen_cols = rows, cols

    def _move(self, grid: Grid, index: int) -> None:
        ordered = [g for g in sorted(self.grids, key=lambda g: g.index) if g is not grid]
        ordered.insert(max(0, min(index, len(ordered))), grid)
        for i, g in enumerate(ordered):
            g.index = i

    def _req_repeatCell(self, body: dict[str, Any]) -> dict[str, Any]:
        rng = body.get("range", {})
        grid = self.grid_by_id(rng.get("sheetId", 0))
        fields = body.get("fields")
        if not fields:
            raise ApiError(400, "At least one field must be updated, but none were specified.")
        fmt = body.get("cell", {}).get("userEnteredFormat", {})
        r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex", grid.rows)
        c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex", grid.cols)
        if r1 > grid.rows or c1 > grid.cols:
            raise ApiError(400, f"Range ({a1(grid, r0, r1, c0, c1)}) exceeds grid limits. Max rows: {grid.rows}, max columns: {grid.cols}")
        for r in range(r0, r1):
            for c in range(c0, c1):
                merged = copy.deepcopy(grid.formats.get((r, c), {}))
                _deep_merge(merged, copy.deepcopy(fmt))
                grid.formats[(r, c)] = merged
        return {}

    def _grid_range(self, rng: dict[str, Any]) -> tuple[Grid, int, int, int, int]:
        """A GridRange as (grid, r0, r1, c0, c1); missing bounds mean the grid's edges."""
        grid = self.grid_by_id(rng.get("sheetId", 0))
        r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex", grid.rows)
        c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex", grid.cols)
        if r1 > grid.rows or c1 > grid.cols or r0 < 0 or c0 < 0 or r0 > r1 or c0 > c1:
            raise ApiError(400, f"Range ({a1(grid, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))}) exceeds grid limits. "
                                f"Max rows: {grid.rows}, max columns: {grid.cols}")
        return grid, r0, r1, c0, c1

    def _req_copyPaste(self, body: dict[str, Any]) -> dict[str, Any]:
        """Copy a range: a destination that is a multiple of the source repeats it; a smaller one still receives
        the whole source. PASTE_VALUES copies values only (no formulas, no formats; blanks clear)."""
        kind = body.get("pasteType", "PASTE_NORMAL")
        if kind not in ("PASTE_NORMAL", "PASTE_VALUES", "PASTE_FORMAT"):
            raise ApiError(400, f"pasteType {kind} is not supported by this fake")
        if body.get("pasteOrientation", "NORMAL") != "NORMAL":
            raise ApiError(400, "pasteOrientation TRANSPOSE is not supported by this fake")
        src, r0, r1, c0, c1 = self._grid_range(body.get("source", {}))
        dst, d0, d1, e0, e1 = self._grid_range(body.get("destination", {}))
        height, width = r1 - r0, c1 - c0
        if not height or not width:
            return {}
        reps_r = (d1 - d0) // height if (d1 - d0) >= height and (d1 - d0) % height == 0 else 1
        reps_c = (e1 - e0) // width if (e1 - e0) >= width and (e1 - e0) % width == 0 else 1
        if d0 + height * reps_r > dst.rows or e0 + width * reps_c > dst.cols:
            raise ApiError(400, f"Range ({a1(dst, d0, d0 + height * reps_r, e0, e0 + width * reps_c)}) exceeds grid "
                                f"limits. Max rows: {dst.rows}, max columns: {dst.cols}")
        cells = {(r - r0, c - c0): copy.deepcopy(v) for (r, c), v in src.cells.items() if r0 <= r < r1 and c0 <= c < c1}
        formats = {(r - r0, c - c0): copy.deepcopy(v) for (r, c), v in src.formats.items()
                   if r0 <= r < r1 and c0 <= c < c1}
        for i in range(reps_r):
            for j in range(reps_c):
                for dr in range(height):
                    for dc in range(width):
                        at, cell = (d0 + i * height + dr, e0 + j * width + dc), cells.get((dr, dc))
                        if kind != "PASTE_FORMAT":
                            if cell is None:
                                dst.cells.pop(at, None)
                            else:
                                dst.cells[at] = cell if kind == "PASTE_NORMAL" else StoredCell(value=cell.value)
                        if kind != "PASTE_VALUES":
                            if (dr, dc) in formats:
                                dst.formats[at] = copy.deepcopy(formats[(dr, dc)])
                            else:
                                dst.formats.pop(at, None)
        return {}

    def _req_updateCells(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set (from `rows`) or clear (no data for a field in the mask) values and formats in a range."""
        fields = body.get("fields")
        if not fields:
            raise ApiError(400, "At least one field must be updated, but none were specified.")
        rows = body.get("rows", [])
        if "range" in body:
            grid, r0, r1, c0, c1 = self._grid_range(body["range"])
            targets = [(r, c) for r in range(r0, r1) for c in range(c0, c1)]
        else:
            start = body.get("start", {})
            grid = self.grid_by_id(start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            targets = [(r0 + i, c0 + j) for i, row in enumerate(rows) for j in range(len(row.get("values", [])))]
            if any(r >= grid.rows or c >= grid.cols for r, c in targets):
                raise ApiError(400, f"Range exceeds grid limits. Max rows: {grid.rows}, max columns: {grid.cols}")
        paths = set(_flatten(parse_fields(fields), "")) if fields.strip() != "*" else {"userEnteredValue", "userEnteredFormat"}
        if not paths <= {"userEnteredValue", "userEnteredFormat"}:
            raise ApiError(400, f"updateCells fields {fields} are not supported by this fake")
        for r, c in targets:
            values = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
            data = values[c - c0] if c - c0 < len(values) else None
            if "userEnteredValue" in paths:
                stored = _cell_data((data or {}).get("userEnteredValue"))
                if stored is None:
                    grid.cells.pop((r, c), None)
                else:
                    grid.cells[(r, c)] = stored
            if "userEnteredFormat" in paths:
                if data and data.get("userEnteredFormat"):
                    grid.formats[(r, c)] = copy.deepcopy(data["userEnteredFormat"])
                else:
                    grid.formats.pop((r, c), None)
        return {}

    def _req_createDeveloperMetadata(self, body: dict[str, Any]) -> dict[str, Any]:
        meta = copy.deepcopy(body.get("developerMetadata", {}))
        if meta.get("visibility") not in ("DOCUMENT", "PROJECT"):
            raise ApiError(400, "Developer metadata visibility must be specified (DOCUMENT or PROJECT).")
        if not meta.get("metadataKey"):
            raise ApiError(400, "Developer metadata key must be specified.")
        location = meta.get("location", {})
        if "sheetId" in location:
            self.grid_by_id(location["sheetId"])
            meta["location"] = {"locationType": "SHEET", "sheetId": location["sheetId"]}
        elif location.get("spreadsheet"):
            meta["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
        else:
            raise ApiError(400, "Developer metadata location must be a spreadsheet or a sheet in this fake.")
        meta["metadataId"] = meta.get("metadataId") or self.new_id()
        self.metadata.append(meta)
        return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(meta)}}

    def _req_deleteDeveloperMetadata(self, body: dict[str, Any]) -> dict[str, Any]:
        matched = self.search_metadata([body.get("dataFilter", {})])
        ids = {m["metadataId"] for m in matched}
        self.metadata = [m for m in self.metadata if m["metadataId"] not in ids]
        return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": copy.deepcopy(matched)}}

    def search_metadata(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for f in filters:
            lookup = f.get("developerMetadataLookup", {})
            for m in self.metadata:
                if "metadataId" in lookup and m["metadataId"] != lookup["metadataId"]:
                    continue
                if "metadataKey" in lookup and m["metadataKey"] != lookup["metadataKey"]:
                    continue
                if "metadataValue" in lookup and m.get("metadataValue") != lookup["metadataValue"]:
                    continue
                loc = lookup.get("metadataLocation", {})
                if "sheetId" in loc and m["location"].get("sheetId") != loc["sheetId"]:
                    continue
                if m not in found:
                    found.append(m)
        return copy.deepcopy(found)


def _split_range(text: str) -> tuple[str, bool, str]:
    """('Tab name', True, 'A1:B2') from "'Tab name'!A1:B2"; quotes doubled inside a quoted title."""
    if text.startswith("'"):
        i, title = 1, ""
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title += "'"
                    i += 2
                    continue
                break
            title += text[i]
            i += 1
        rest = text[i + 1:]
        if rest.startswith("!"):
            return title, True, rest[1:]
        if rest:
            raise ApiError(400, f"Unable to parse range: {text}")
        return title, False, ""
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, True, cells
    return text, False, ""


def _value_range(span: Span, rows: list[list[Any]], major: str) -> dict[str, Any]:
    """A ValueRange of `rows` read from `span`: by rows or columns, trailing empty cells and rows trimmed."""
    if major == "COLUMNS":
        width = max(map(len, rows), default=0)
        rows = [[row[c] if c < len(row) else "" for row in rows] for c in range(width)]
    rows = [_trim_row(row) for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    out: dict[str, Any] = {"range": a1(span.grid, span.r0, span.rows_end(), span.c0, span.cols_end()),
                           "majorDimension": major}
    if rows:
        out["values"] = rows
    return out


def _trim_row(row: list[Any]) -> list[Any]:
    end = len(row)
    while end and row[end - 1] == "":
        end -= 1
    return row[:end]


def _formatted(cell: StoredCell) -> str:
    value = cell.value
    if cell.is_date and isinstance(value, (int, float)):
        d = date.fromordinal(EPOCH.toordinal() + int(value))
        return f"{d.month}/{d.day}/{d.year}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(_number(value)) if float(value).is_integer() else f"{value:.10g}"
    return "" if value is None else str(value)


_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _parse_input(value: Any, input_option: str) -> StoredCell | None:
    """A written value as Sheets stores it: RAW keeps strings as text; USER_ENTERED parses like typing.

    Python date/datetime values (only from test seeding, never over HTTP) become date-formatted serials.
    """
    if isinstance(value, bool):
        return StoredCell(value=value)
    if isinstance(value, datetime):
        days = (value - datetime(1899, 12, 30, tzinfo=value.tzinfo)).total_seconds() / 86400
        return StoredCell(value=days, is_date=True)
    if isinstance(value, date):
        return StoredCell(value=float(value.toordinal() - EPOCH.toordinal()), is_date=True)
    if isinstance(value, (int, float)):
        return StoredCell(value=float(value))
    if isinstance(value, (list, dict)):
        raise ApiError(400, "Invalid values: a cell value must be a string, number or boolean.")
    text = str(value)
    if text == "":
        return None
    if input_option == "RAW":
        return StoredCell(value=text)
    if text.startswith("'"):
        return StoredCell(value=text[1:])
    if text.startswith("=") and len(text) > 1:
        return StoredCell(value="#N/A", formula=text)
    if _NUMBER_RE.match(text.strip()):
        return StoredCell(value=float(text.strip()))
    if text.strip().upper() in ("TRUE", "FALSE"):
        return StoredCell(value=text.strip().upper() == "TRUE")
    m = _DATE_RE.match(text.strip())
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return StoredCell(value=float(d.toordinal() - EPOCH.toordinal()), is_date=True)
        except ValueError:
            pass
    return StoredCell(value=text)


def _cell_data(value: dict[str, Any] | None) -> StoredCell | None:
    """An ExtendedValue (stringValue, numberValue, boolValue, formulaValue) as a stored cell; None clears."""
    if not value:
        return None
    if "stringValue" in value:
        return StoredCell(value=str(value["stringValue"])) if value["stringValue"] != "" else None
    if "numberValue" in value:
        return StoredCell(value=float(value["numberValue"]))
    if "boolValue" in value:
        return StoredCell(value=bool(value["boolValue"]))
    if "formulaValue" in value:
        return StoredCell(value="#N/A", formula=str(value["formulaValue"]))
    raise ApiError(400, f"Invalid ExtendedValue: {sorted(value)}")


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _deep_merge(into[k], v)
        else:
            into[k] = v


def _field_paths(fields: str, props: dict[str, Any]) -> list[str]:
    """Expand an update field mask ('title,gridProperties(rowCount,frozenRowCount)', '*') to dotted paths."""
    if fields.strip() == "*":
        out = []
        for k, v in props.items():
            if k == "sheetId":
                continue
            out.extend(f"{k}.{sub}" for sub in v) if k == "gridProperties" else out.append(k)
        return out
    return [p for p in _flatten(parse_fields(fields), "") if p != "sheetId"]


def _flatten(tree: dict[str, Any], prefix: str) -> list[str]:
    out = []
    for name, sub in tree.items():
        path = f"{prefix}{name}"
        out.extend(_flatten(sub, path + ".") if sub else [path])
    return out


def parse_fields(text: str) -> dict[str, Any]:
    """Parse a partial-response field mask ('a/b,c(d,e(f))', dots or slashes) into a nested dict."""
    pos = 0

    def parse_list(end: str | None) -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(text):
            if end and text[pos] == end:
                pos += 1
                return tree
            if text[pos] in ", ":
                pos += 1
                continue
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            names = [n for n in re.split(r"[./]", text[start:pos].strip()) if n]
            sub: dict[str, Any] = {}
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list(")")
            node = tree
            for name in names[:-1]:
                node = node.setdefault(name, {})
            if names:
                leaf = names[-1]
                if not sub:
                    node[leaf] = {}
                elif node.get(leaf) != {} or leaf not in node:
                    node.setdefault(leaf, {}).update(sub)
        if end:
            raise ApiError(400, f"Invalid field selection {text}")
        return tree

    return parse_list(None)


def apply_fields(resource: Any, tree: dict[str, Any]) -> Any:
    """Keep only the selected fields (lists are filtered element-wise); an empty subtree keeps the whole value."""
    if not tree or "*" in tree:
        return resource
    if isinstance(resource, list):
        return [apply_fields(item, tree) for item in resource]
    if not isinstance(resource, dict):
        return resource
    out = {}
    for name, sub in tree.items():
        if name in resource:
            out[name] = apply_fields(resource[name], sub)
    return out
