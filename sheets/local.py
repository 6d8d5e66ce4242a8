"""A local .xlsx workbook: fast reads with python-calamine; owned tabs written by patching the package, atomically.

Ownership marker: a hidden, sheet-scoped defined name `crm_pulse_owned` whose value is the text "crm-pulse-owned".
Writes replace only the owned sheets' parts (plus workbook.xml, its rels, [Content_Types].xml and a few styles:
bold, date and each owned tab's number formats); every other part of the file, including all source tabs, is copied
unchanged.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sheets import progress
from sheets.columnar import ColumnarTab, read_columns
from sheets.workbook import OWNED_TABS, OWNER_MARKER_KEY, Cell, OwnedTab, RawTab, WorkbookError, WriteReport
from sheets.xlsx import SheetLayout, SheetRef, patch_workbook, read_sheet_refs

if TYPE_CHECKING:
    from python_calamine import CalamineSheet

MARKER_NAME = "crm_pulse_owned"
MARKER_VALUE = f'"{OWNER_MARKER_KEY}"'


class LocalWorkbook:
    """A workbook file on disk (the embedded demo or the user's own export)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return str(self.path)

    def change_marker(self) -> str | None:
        """The file's modification time and size: a cached snapshot read at another marker is stale."""
        return file_marker(self.path)

    def read_tabs(self, names: Sequence[str]) -> dict[str, RawTab | None]:
        """Cells of the named tabs; numbers always arrive as float, dates as date/datetime, blanks as ""."""
        from python_calamine import CalamineWorkbook

        self._require_file()
        try:
            book = CalamineWorkbook.from_path(str(self.path))
            out: dict[str, RawTab | None] = {}
            for done, name in enumerate(names):
                progress.report(progress.READING, done, len(names), name=name)
                title = _find_title(book.sheet_names, name)
                out[name] = None if title is None else RawTab(title, _sheet_rows(book.get_sheet_by_name(title)))
            return out
        except WorkbookError:
            raise
        except Exception as err:  # noqa: BLE001 - any reader failure (zip, XML, calamine) is one error for the user
            raise WorkbookError(f"could not read {self.path}: {err}. Is it an .xlsx workbook?") from None

    def read_columns(self, names: Sequence[str]) -> dict[str, RawTab | ColumnarTab | None]:
        """Like `read_tabs`, column by column where that is exact (`sheets.columnar`); other tabs cell by cell."""
        parts = {r.name: r.part for r in self._sheet_refs()}
        out: dict[str, RawTab | ColumnarTab | None] = {}
        for done, name in enumerate(names):
            progress.report(progress.READING, done, len(names), name=name)
            title = _find_title(list(parts), name)
            tab = None if title is None else read_columns(str(self.path), title, parts[title])
            out[name] = tab
        rest = [name for name, tab in out.items() if tab is None]
        if rest:
            out.update(self.read_tabs(rest))
        return out

    def owned_titles(self) -> list[str]:
        """Titles of the tabs that carry the crm-pulse marker."""
        return [r.name for r in self._sheet_refs() if r.marked]

    def read_owned(self, name: str) -> list[list[Cell]] | None:
        """An owned tab's cells (header first), or None when it is missing or not marked as ours."""
        if name not in OWNED_TABS or name not in self.owned_titles():
            return None
        tab = self.read_tabs([name])[name]
        return None if tab is None else tab.rows

    def write_owned(self, tabs: Mapping[str, OwnedTab]) -> WriteReport:
        """Replace the given owned tabs in one save; the file is swapped in atomically or not at all."""
        report = WriteReport()
        refs = {r.name.casefold(): r for r in self._sheet_refs()}
        wanted: dict[str, list[list[Cell]]] = {}
        layouts = {name: SheetLayout(tab.formats, tab.frozen_cols) for name, tab in tabs.items()}
        for name, tab in tabs.items():
            existing = refs.get(name.casefold())
            if name not in OWNED_TABS or tab.name != name:
                report.refused[name] = f"'{name}' is not a tab crm-pulse owns ({', '.join(OWNED_TABS)})"
            elif existing is not None and (not existing.marked or existing.name != name):
                report.refused[name] = (
                    f"a tab named '{existing.name}' already exists and was not created by crm-pulse; "
                    f"rename or delete it so crm-pulse can write '{name}' (it never overwrites a tab it does not own)"
                )
            else:
                header: list[Cell] = list(tab.header)
                wanted[name] = [[_plain(v) for v in row] for row in [header, *tab.rows]]
                report.written.append(name)
        if wanted:
            report.created = self._save(wanted, layouts)
        return report

    def _sheet_refs(self) -> list[SheetRef]:
        self._require_file()
        try:
            with zipfile.ZipFile(self.path) as z:
                return read_sheet_refs(z, MARKER_NAME, MARKER_VALUE)
        except (zipfile.BadZipFile, KeyError, ET.ParseError) as err:
            raise WorkbookError(f"could not read {self.path}: {err}. Is it an .xlsx workbook?") from None

    def _save(self, tabs: dict[str, list[list[Cell]]], layouts: Mapping[str, SheetLayout]) -> list[str]:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".xlsx.tmp", dir=self.path.parent)
        os.close(fd)
        try:
            created = patch_workbook(str(self.path), tmp, tabs, MARKER_NAME, MARKER_VALUE, layouts)
            os.chmod(tmp, self.path.stat().st_mode & 0o777)
            _fsync(tmp)  # the new bytes are on disk before their name replaces the old file (no empty file on a crash)
            os.replace(tmp, self.path)
            return created
        except Exception as err:  # noqa: BLE001 - any failure: remove the temporary file, keep the workbook
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise WorkbookError(f"could not save {self.path}: {err}; the workbook was left unchanged") from None

    def _require_file(self) -> None:
        if not self.path.is_file():
            raise WorkbookError(
                f"workbook not found: {self.path}. Run `pulse demo` to create a sample workbook, "
                f'or set [source] workbook = "path/to/your.xlsx" (or --workbook PATH).'
            )


def create_empty_workbook(path: Path) -> None:
    """A new .xlsx with one empty sheet, for summary tabs written beside a SQL source (`[output] workbook`)."""
    from sheets.xlsx import write_xlsx

    if not path.parent.is_dir():
        raise WorkbookError(f"cannot create {path}: {path.parent} is not a directory; fix [output] workbook")
    try:
        write_xlsx(str(path), {"Sheet1": []})
    except OSError as err:
        raise WorkbookError(f"cannot create {path}: {err.strerror}; fix [output] workbook") from None


def file_marker(path: Path) -> str | None:
    """A file's modification time and size (None when it cannot be read): it changes whenever the file is replaced."""
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_mtime_ns}:{st.st_size}"


def _fsync(path: str) -> None:
    """Flush a file's contents to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _find_title(titles: Sequence[str], name: str) -> str | None:
    if name in titles:
        return name
    key = name.strip().casefold()
    return next((t for t in titles if t.strip().casefold() == key), None)


def _sheet_rows(sheet: CalamineSheet) -> list[list[Cell]]:
    """The sheet's cells from A1: calamine starts at the first cell with data, so pad what lies before it."""
    # calamine's cell types are all Cells; only list invariance keeps mypy from seeing it (no copy needed)
    rows = cast(list[list[Cell]], sheet.to_python())
    if not rows or sheet.start is None:
        return rows
    top, left = sheet.start
    if left:
        pad: list[Cell] = [""] * left
        rows = [pad + r for r in rows]
    above: list[list[Cell]] = [[] for _ in range(top)]
    return above + rows


def _plain(value: object) -> Cell:
    """A plain cell value: numpy/pandas scalars unwrapped, NaN/NaT/NA/inf become empty, unknown types become text."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, str):
        return value
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)
