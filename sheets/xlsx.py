"""A small, fast .xlsx writer for whole new workbooks (openpyxl takes ~10 s for the demo's 25k rows here).

Text is written as inline strings (never formulas), numbers as numbers, dates as date-formatted serials;
row 1 is bold and frozen; a sheet's `SheetLayout` adds number formats to its data columns and frozen columns.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.sax.saxutils import escape

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EPOCH = datetime(1899, 12, 30)
MAX_CELL_TEXT = 32767  # Excel's limit per cell
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""  # noqa: E501 - the XML is written byte for byte


def write_xlsx(path: str, tabs: Mapping[str, Sequence[Sequence[object]]]) -> None:
    """Write a new workbook with one sheet per tab (rows[0] is the header row)."""
    names = list(tabs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _content_types(len(names)))
        z.writestr("_rels/.rels", _root_rels())
        z.writestr("xl/workbook.xml", _workbook(names))
        z.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
        z.writestr("xl/styles.xml", _STYLES)
        for i, name in enumerate(names, start=1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(tabs[name]))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class SheetLayout:
    """How a written sheet reads for people: number-format codes of its data rows by column index, frozen columns."""

    formats: Mapping[int, str] = field(default_factory=dict)
    frozen_cols: int = 0


def _sheet(
    rows: Sequence[Sequence[object]],
    styles: tuple[int, int, int] = (1, 2, 3),
    column_styles: Mapping[int, int] | None = None,
    frozen_cols: int = 0,
) -> str:
    width = max((len(r) for r in rows), default=1)
    letters = [column_letter(i) for i in range(max(width, 1))]
    numbers = column_styles or {}
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_NS}" xmlns:r="{_REL}">',
        f'<sheetViews><sheetView workbookViewId="0">{_pane(frozen_cols)}</sheetView></sheetViews>',
        f'<cols><col min="1" max="{width}" width="16" customWidth="1"/></cols><sheetData>',
    ]
    for r, row in enumerate(rows, start=1):
        bold = r == 1
        cells = [
            _cell(f"{letters[c]}{r}", v, bold, styles, None if bold else numbers.get(c)) for c, v in enumerate(row)
        ]
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def _pane(frozen_cols: int) -> str:
    """The frozen pane: the header row, and the first `frozen_cols` columns when there are any."""
    if frozen_cols <= 0:
        return '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    corner = f"{column_letter(frozen_cols)}2"
    return f'<pane xSplit="{frozen_cols}" ySplit="1" topLeftCell="{corner}" activePane="bottomRight" state="frozen"/>'


def _cell(
    ref: str, value: object, bold: bool, styles: tuple[int, int, int] = (1, 2, 3), number_style: int | None = None
) -> str:
    style = f' s="{styles[0]}"' if bold else ""
    if value is None or (isinstance(value, str) and value == ""):
        # A blank in a formatted column keeps the column's format (as a Sheets range format does), so a value typed
        # or written there later reads the same.
        return "" if number_style is None else f'<c r="{ref}" s="{number_style}"/>'
    if isinstance(value, str):
        text = escape(_ILLEGAL.sub("", value)[:MAX_CELL_TEXT])
        return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{styles[2]}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{styles[1]}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        if number_style is not None:
            style = f' s="{number_style}"'
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    return _cell(ref, str(value), bold, styles)


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}</Types>"
    )


def _root_rels() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    )


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{escape(n, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_NS}" xmlns:r="{_REL}">'
        f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(n: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    styles = (
        f'<Relationship Id="rId{n + 1}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}{styles}</Relationships>'
    )


# ---- Replacing or adding whole sheets in an existing workbook, leaving every other part byte-for-byte alone ----

_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_WS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_STYLES_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_WS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_AFTER_DEFINED_NAMES = (
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)
_BOLD_FONT = '<font><b/><sz val="11"/><name val="Calibri"/></font>'


@dataclass
class SheetRef:
    """A sheet of a workbook package: its title, the part holding its cells, and whether it carries `marker`."""

    name: str
    part: str
    marked: bool


def read_sheet_refs(z: zipfile.ZipFile, marker_name: str, marker_value: str) -> list[SheetRef]:
    """The sheets of an open .xlsx package in tab order, with the ownership marker of each."""
    root = ET.fromstring(z.read("xl/workbook.xml"))
    rels = _relationships(z, "xl/_rels/workbook.xml.rels")
    marked: set[int] = set()
    for dn in root.iter(f"{{{_NS}}}definedName"):
        local = dn.get("localSheetId")
        if dn.get("name") == marker_name and (dn.text or "").strip() == marker_value and local and local.isdigit():
            marked.add(int(local))
    refs = []
    for i, sheet in enumerate(root.iter(f"{{{_NS}}}sheet")):
        target = rels.get(sheet.get(f"{{{_REL}}}id") or "", "")
        refs.append(SheetRef(sheet.get("name") or "", _resolve("xl/", target), i in marked))
    return refs


def patch_workbook(
    src: str,
    dst: str,
    tabs: Mapping[str, Sequence[Sequence[object]]],
    marker_name: str,
    marker_value: str,
    layouts: Mapping[str, SheetLayout] | None = None,
) -> list[str]:
    """Copy `src` to `dst`, replacing the sheets named in `tabs` (or adding them, marked) laid out as `layouts` says;
    returns the added names."""
    layouts = layouts or {}
    with zipfile.ZipFile(src) as z:
        parts = {info.filename: z.read(info.filename) for info in z.infolist()}
        refs = read_sheet_refs(z, marker_name, marker_value)
    by_name = {r.name: r for r in refs}
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    styles_part = _styles_part(parts)
    if styles_part is None:
        styles_part = "xl/styles.xml"
        parts[styles_part] = _STYLES.encode("utf-8")
        rels = _insert_before_close(rels, "Relationships", _relationship(_new_rid(rels), _STYLES_TYPE, "styles.xml"))
        types = _insert_before_close(
            types,
            "Types",
            '<Override PartName="/xl/styles.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>',
        )
    codes = sorted({code for layout in layouts.values() for code in layout.formats.values()})
    styles, style_ids, number_styles = _ensure_styles(parts[styles_part].decode("utf-8"), codes)
    parts[styles_part] = styles.encode("utf-8")

    added = []
    prefix = _prefix(workbook, "workbook")
    sheet_ids = [int(x) for x in re.findall(r'\bsheetId="(\d+)"', workbook)] or [0]
    index = len(refs)
    for name, rows in tabs.items():
        layout = layouts.get(name, SheetLayout())
        columns = {col: number_styles[code] for col, code in layout.formats.items()}
        xml = _sheet(rows, style_ids, columns, layout.frozen_cols).encode("utf-8")
        if name in by_name:
            part = by_name[name].part
            parts[part] = xml
            parts.pop(_rels_of(part), None)
            continue
        part = _free_part(parts)
        parts[part] = xml
        rid = _new_rid(rels)
        rels = _insert_before_close(rels, "Relationships", _relationship(rid, _WS_TYPE, part.removeprefix("xl/")))
        types = _insert_before_close(types, "Types", f'<Override PartName="/{part}" ContentType="{_WS_CT}"/>')
        sheet_ids.append(max(sheet_ids) + 1)
        workbook = _insert_before_close(
            workbook,
            "sheets",
            f'<{prefix}sheet name="{_attr(name)}" sheetId="{sheet_ids[-1]}" r:id="{rid}" xmlns:r="{_REL}"/>',
        )
        workbook = _add_defined_name(
            workbook,
            prefix,
            f'<{prefix}definedName name="{marker_name}" localSheetId="{index}" hidden="1">'
            f"{escape(marker_value)}</{prefix}definedName>",
        )
        index += 1
        added.append(name)
    parts["xl/workbook.xml"] = workbook.encode("utf-8")
    parts["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
    parts["[Content_Types].xml"] = types.encode("utf-8")
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return added


def _relationships(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    root = ET.fromstring(z.read(part))
    return {r.get("Id") or "": r.get("Target") or "" for r in root.iter(f"{{{_PKG_REL}}}Relationship")}


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = base.rstrip("/").split("/")
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _rels_of(part: str) -> str:
    folder, _, file = part.rpartition("/")
    return f"{folder}/_rels/{file}.rels"


def _styles_part(parts: dict[str, bytes]) -> str | None:
    root = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    for r in root.iter(f"{{{_PKG_REL}}}Relationship"):
        if r.get("Type") == _STYLES_TYPE:
            part = _resolve("xl/", r.get("Target") or "")
            return part if part in parts else None
    return None


def _ensure_styles(styles: str, codes: Sequence[str] = ()) -> tuple[str, tuple[int, int, int], dict[str, int]]:
    """The styles part with a bold header, a date and a date-time cell format, and one cell format per number-format
    code in `codes` (each added once, then reused); returns the part, those three style ids and code → style id."""
    root = ET.fromstring(styles)
    prefix = _prefix(styles, "styleSheet")
    styles, fmt_ids = _ensure_number_formats(styles, root, prefix, codes)
    fonts = root.find(f"{{{_NS}}}fonts")
    font_list = list(fonts) if fonts is not None else []
    bold = next((i for i, f in enumerate(font_list) if _is_plain_bold(f)), None)
    if bold is None:
        bold = len(font_list)
        font = _BOLD_FONT.replace("<", f"<{prefix}").replace(f"<{prefix}/", f"</{prefix}")
        if fonts is None:
            styles = _insert_after_open(styles, "styleSheet", f'<{prefix}fonts count="1">{font}</{prefix}fonts>')
        else:
            styles = _set_count(_insert_before_close(styles, "fonts", font), "fonts", bold + 1)
    xfs_el = root.find(f"{{{_NS}}}cellXfs")
    xfs = [dict(x.attrib) for x in xfs_el] if xfs_el is not None else []
    wanted = [
        {"numFmtId": "0", "fontId": str(bold), "fillId": "0", "borderId": "0", "xfId": "0", "applyFont": "1"},
        {"numFmtId": "14", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0", "applyNumberFormat": "1"},
        {"numFmtId": "22", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0", "applyNumberFormat": "1"},
    ] + [
        {
            "numFmtId": str(fmt_ids[code]),
            "fontId": "0",
            "fillId": "0",
            "borderId": "0",
            "xfId": "0",
            "applyNumberFormat": "1",
        }
        for code in codes
    ]
    ids = []
    for want in wanted:
        found = next((i for i, x in enumerate(xfs) if x == want), None)
        if found is None:
            found = len(xfs)
            xfs.append(want)
            attrs = " ".join(f'{k}="{v}"' for k, v in want.items())
            styles = _set_count(_insert_before_close(styles, "cellXfs", f"<{prefix}xf {attrs}/>"), "cellXfs", len(xfs))
        ids.append(found)
    return styles, (ids[0], ids[1], ids[2]), dict(zip(codes, ids[3:], strict=True))


def _ensure_number_formats(
    styles: str, root: ET.Element, prefix: str, codes: Sequence[str]
) -> tuple[str, dict[str, int]]:
    """The styles part with a custom number format for each code it lacks (ids from 164 up); returns code → id."""
    numfmts = root.find(f"{{{_NS}}}numFmts")
    known = {
        el.get("formatCode") or "": int(el.get("numFmtId") or 0) for el in (numfmts if numfmts is not None else [])
    }
    next_id = max([163, *known.values()]) + 1
    added = []
    for code in codes:
        if code not in known:
            known[code], next_id = next_id, next_id + 1
            added.append(f'<{prefix}numFmt numFmtId="{known[code]}" formatCode="{_attr(code)}"/>')
    if added and numfmts is None:
        styles = _insert_after_open(
            styles, "styleSheet", f'<{prefix}numFmts count="{len(added)}">{"".join(added)}</{prefix}numFmts>'
        )
    elif added:
        styles = _set_count(_insert_before_close(styles, "numFmts", "".join(added)), "numFmts", len(known))
    return styles, {code: known[code] for code in codes}


def _is_plain_bold(font: ET.Element) -> bool:
    children = {c.tag.split("}")[-1]: c.attrib for c in font}
    return (
        set(children) == {"b", "sz", "name"}
        and children["sz"].get("val") == "11"
        and children["name"].get("val") == "Calibri"
    )


def _prefix(xml: str, tag: str) -> str:
    m = re.search(rf"<(\w+:)?{tag}\b", xml)
    return (m.group(1) or "") if m else ""


def _insert_before_close(xml: str, tag: str, fragment: str) -> str:
    closes = list(re.finditer(rf"</(\w+:)?{tag}\s*>", xml))
    m = closes[-1] if closes else None
    if m is None:
        selfclosing = re.search(rf"<((?:\w+:)?{tag})(\s[^>]*)?/>", xml)
        if selfclosing is None:
            raise ValueError(f"no <{tag}> element")
        name = selfclosing.group(1)
        opened = f"<{name}{selfclosing.group(2) or ''}>"
        return f"{xml[: selfclosing.start()]}{opened}{fragment}</{name}>{xml[selfclosing.end() :]}"
    return xml[: m.start()] + fragment + xml[m.start() :]


def _opening(xml: str, tag: str) -> re.Match[str]:
    """The first opening tag `tag` (any namespace prefix); ValueError when the part has none."""
    m = re.search(rf"<(\w+:)?{tag}\b[^>]*>", xml)
    if m is None:
        raise ValueError(f"no <{tag}> element")
    return m


def _insert_after_open(xml: str, tag: str, fragment: str) -> str:
    m = _opening(xml, tag)
    return xml[: m.end()] + fragment + xml[m.end() :]


def _set_count(xml: str, tag: str, count: int) -> str:
    m = _opening(xml, tag)
    opening = m.group(0)
    if re.search(r'\bcount="\d+"', opening):
        new = re.sub(r'\bcount="\d+"', f'count="{count}"', opening)
    else:
        new = opening[:-1] + f' count="{count}">'
    return xml[: m.start()] + new + xml[m.end() :]


def _add_defined_name(workbook: str, prefix: str, element: str) -> str:
    if re.search(rf"<{prefix}definedNames\b", workbook):
        return _insert_before_close(workbook, "definedNames", element)
    block = f"<{prefix}definedNames>{element}</{prefix}definedNames>"
    for tag in _AFTER_DEFINED_NAMES:
        m = re.search(rf"<{prefix}{tag}\b", workbook)
        if m:
            return workbook[: m.start()] + block + workbook[m.start() :]
    return _insert_before_close(workbook, "workbook", block)


def _new_rid(rels: str) -> str:
    used = set(re.findall(r'\bId="([^"]+)"', rels))
    n = len(used) + 1
    while f"rId{n}" in used:
        n += 1
    return f"rId{n}"


def _relationship(rid: str, kind: str, target: str) -> str:
    return f'<Relationship Id="{rid}" Type="{kind}" Target="{_attr(target)}"/>'


def _free_part(parts: Mapping[str, bytes]) -> str:
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in parts:
        n += 1
    return f"xl/worksheets/sheet{n}.xml"


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})
