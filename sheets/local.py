"""A local .xlsx workbook: fast reads with python-calamine, owned-tab writes with openpyxl, saved atomically."""

from __future__ import annotations

import math
import os
import tempfile
import warnings
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Mapping, Sequence

from sheets.workbook import OWNED_TABS, OWNER_MARKER_KEY, Cell, OwnedTab, RawTab, WorkbookError, WriteReport

# The marker: a hidden, sheet-scoped defined name `crm_pulse_owned` whose value is the text "crm-pulse-owned".
MARKER_NAME = "crm_pulse_owned"
MARKER_VALUE = f'"{OWNER_MARKER_KEY}"'
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


class LocalWorkbook:
    """A workbook file on disk (the embedded demo or the user's own export)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return str(self.path)

    def read_tabs(self, names: Sequence[str]) -> dict[str, RawTab | None]:
        """Cells of the named tabs; numbers always arrive as float, dates as date/datetime, blanks as ""."""
        from python_calamine import CalamineWorkbook

        self._require_file()
        try:
            book = CalamineWorkbook.from_path(str(self.path))
            out: dict[str, RawTab | None] = {}
            for name in names:
                title = _find_title(book.sheet_names, name)
                out[name] = None if title is None else RawTab(title, _sheet_rows(book.get_sheet_by_name(title)))
            return out
        except WorkbookError:
            raise
        except Exception as err:
            raise WorkbookError(f"could not read {self.path}: {err}. Is it an .xlsx workbook?") from None

    def owned_titles(self) -> list[str]:
        """Titles of the tabs that carry the crm-pulse marker."""
        self._require_file()
        try:
            with zipfile.ZipFile(self.path) as z:
                root = ET.fromstring(z.read("xl/workbook.xml"))
        except (zipfile.BadZipFile, KeyError, ET.ParseError) as err:
            raise WorkbookError(f"could not read {self.path}: {err}. Is it an .xlsx workbook?") from None
        sheets = [s.get("name") for s in root.findall("m:sheets/m:sheet", _NS)]
        owned = []
        for dn in root.findall("m:definedNames/m:definedName", _NS):
            local = dn.get("localSheetId")
            if dn.get("name") == MARKER_NAME and local is not None and (dn.text or "").strip() == MARKER_VALUE:
                if local.isdigit() and int(local) < len(sheets):
                    owned.append(sheets[int(local)])
        return owned

    def read_owned(self, name: str) -> list[list[Cell]] | None:
        """An owned tab's cells (header first), or None when it is missing or not marked as ours."""
        if name not in OWNED_TABS or name not in self.owned_titles():
            return None
        return self.read_tabs([name])[name].rows

    def write_owned(self, tabs: Mapping[str, OwnedTab]) -> WriteReport:
        """Replace the given owned tabs in one save; the file is swapped in atomically or not at all."""
        import openpyxl

        self._require_file()
        report = WriteReport()
        wanted = {}
        for name, tab in tabs.items():
            if name not in OWNED_TABS or tab.name != name:
                report.refused[name] = f"'{name}' is not a tab crm-pulse owns ({', '.join(OWNED_TABS)})"
            else:
                wanted[name] = tab
        if not wanted:
            return report
        owned = set(self.owned_titles())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                book = openpyxl.load_workbook(self.path)
            except Exception as err:
                raise WorkbookError(f"could not open {self.path} for writing: {err}") from None
        for name, tab in wanted.items():
            existing = next((t for t in book.sheetnames if t.casefold() == name.casefold()), None)
            if existing is not None and existing not in owned:
                report.refused[name] = (
                    f"a tab named '{existing}' already exists and was not created by crm-pulse; "
                    f"rename or delete it so crm-pulse can write '{name}' (it never overwrites a tab it does not own)"
                )
                continue
            if existing is None:
                sheet = book.create_sheet(name)
                report.created.append(name)
            else:
                position = book.sheetnames.index(existing)
                book.remove(book[existing])
                sheet = book.create_sheet(name, position)
            _fill(sheet, tab)
            report.written.append(name)
        if report.written:
            self._save(book)
        return report

    def _save(self, book) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".xlsx.tmp", dir=self.path.parent)
        os.close(fd)
        try:
            book.save(tmp)
            os.chmod(tmp, self.path.stat().st_mode & 0o777)
            os.replace(tmp, self.path)
        except Exception as err:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise WorkbookError(f"could not save {self.path}: {err}; the workbook was left unchanged") from None

    def _require_file(self) -> None:
        if not self.path.is_file():
            raise WorkbookError(
                f"workbook not found: {self.path}. Run `pulse demo` to create a sample workbook, "
                f"or set [source] workbook = \"path/to/your.xlsx\" (or --workbook PATH)."
            )


def _find_title(titles: Sequence[str], name: str) -> str | None:
    if name in titles:
        return name
    key = name.strip().casefold()
    return next((t for t in titles if t.strip().casefold() == key), None)


def _sheet_rows(sheet) -> list[list[Cell]]:
    rows = sheet.to_python()
    if not rows or sheet.start is None:
        return rows
    top, left = sheet.start
    if left:
        rows = [[""] * left + r for r in rows]
    return [[] for _ in range(top)] + rows


def _fill(sheet, tab: OwnedTab) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName

    sheet.defined_names[MARKER_NAME] = DefinedName(MARKER_NAME, attr_text=MARKER_VALUE, hidden=True)
    bold = Font(bold=True)
    for r, values in enumerate([tab.header, *tab.rows], start=1):
        for c, value in enumerate(values, start=1):
            plain = _plain(value)
            if plain is None:
                continue
            cell = sheet.cell(row=r, column=c, value=plain)
            if isinstance(plain, str):
                cell.data_type = "s"
            if r == 1:
                cell.font = bold
    sheet.freeze_panes = "A2"
    for c, header in enumerate(tab.header, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = max(10, min(40, len(str(header)) + 4))


def _plain(value: object) -> Cell:
    """A value openpyxl stores as-is: text stays text (control characters dropped), NaN/NaT/NA become empty."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
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
