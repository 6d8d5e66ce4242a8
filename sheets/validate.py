"""Turn one raw tab into a typed, canonical DataFrame plus a report of every rejected row and doubtful cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

import numpy as np
import pandas as pd

from config.settings import Settings
from metrics.schema import COLUMNS, Column
from sheets.cells import Typed, display, to_date, to_id, to_number, to_score, to_text
from sheets.columnar import ColumnarTab
from sheets.headers import match_headers
from sheets.workbook import RawTab

Severity = Literal["rejected", "warning"]
ROW_COLUMN = "row"


@dataclass(frozen=True)
class DataIssue:
    """One data problem: the tab as named in the workbook, the sheet row (header = 1), the column header, raw value."""

    tab: str
    row: int | None
    column: str
    value: str
    reason: str
    severity: Severity
    tab_key: str = ""


@dataclass
class ParsedTab:
    """A parsed tab with its bookkeeping: rows read = kept + rejected + blank."""

    frame: pd.DataFrame
    issues: list[DataIssue] = field(default_factory=list)
    rows_read: int = 0
    blank_rows: int = 0
    rejected_rows: int = 0
    dimensions: list[str] = field(default_factory=list)
    usable: bool = True
    missing_columns: list[str] = field(default_factory=list)


def empty_canonical(tab_key: str, dimensions: list[str] | None = None) -> pd.DataFrame:
    """An empty frame with the tab's canonical columns, any dimensions, and the `row` column."""
    cols = {c.name: pd.Series(dtype=c.dtype) for c in COLUMNS[tab_key]}
    cols.update({d: pd.Series(dtype="string") for d in dimensions or []})
    cols[ROW_COLUMN] = pd.Series(dtype="int64")
    return pd.DataFrame(cols)


def parse_tab(tab_key: str, raw: RawTab | None, settings: Settings) -> tuple[pd.DataFrame, list[DataIssue]]:
    """The canonical frame of a tab and its data issues; None (a missing tab) gives an empty frame."""
    parsed = parse_tab_detail(tab_key, raw, settings)
    return parsed.frame, parsed.issues


def parse_tab_detail(tab_key: str, raw: RawTab | ColumnarTab | None, settings: Settings) -> ParsedTab:
    """Like `parse_tab`, with row counts and dimension names; a ColumnarTab gives the same result as its rows would."""
    if raw is None:
        return ParsedTab(empty_canonical(tab_key), usable=False)
    return _Parser(tab_key, raw, settings).run()


class _Parser:
    def __init__(self, tab_key: str, raw: RawTab | ColumnarTab, settings: Settings) -> None:
        self.key = tab_key
        self.name = raw.name
        self.columnar = raw if isinstance(raw, ColumnarTab) else None
        self.rows = raw.rows if isinstance(raw, RawTab) else []
        self.settings = settings
        self.issues: list[DataIssue] = []

    def issue(self, row: int | None, column: str, value: object, reason: str, severity: Severity) -> None:
        self.issues.append(DataIssue(self.name, row, column, display(value), reason, severity, self.key))

    def run(self) -> ParsedTab:
        if self.columnar:
            header_at: int | None = self.columnar.header_row - 1
        else:
            header_at = next((i for i, r in enumerate(self.rows) if any(display(c).strip() for c in r)), None)
        if header_at is None:
            needed = ", ".join(c.name for c in COLUMNS[self.key] if c.required)
            self.issue(1, needed, "", f"the tab is empty; add a header row with the columns {needed}", "rejected")
            return ParsedTab(empty_canonical(self.key), self.issues, usable=False)
        header = list(self.columnar.header) if self.columnar else [display(h).strip() for h in self.rows[header_at]]
        match = match_headers(self.key, header, self.settings.columns.get(self.key))
        for problem in match.mapping_problems:
            self.issue(header_at + 1, "", "", problem, "warning")
        data = self.rows[header_at + 1 :]
        n_data = self.columnar.n_rows if self.columnar else len(data)
        first_row = header_at + 2
        if match.missing:
            return self._unusable(match.missing, header, header_at + 1, data)

        used = {**match.columns, **match.dimensions}
        table = _column_frame(self.columnar, used) if self.columnar else _column_table(data, used)
        sheet_rows = pd.Series(np.arange(first_row, first_row + n_data, dtype="int64"), index=table.index)
        typed = {name: self._type(col, table[name]) for name, col in self._columns().items() if name in used}
        dims = {d: to_text(table[d]) for d in match.dimensions}
        blank_row = pd.Series(True, index=table.index)
        for t in [*typed.values(), *dims.values()]:
            blank_row &= t.blank
        if self.columnar:
            blank_row &= ~self.columnar.filled  # content only in unused columns: not a blank row
        for idx in blank_row[blank_row].index if not self.columnar else ():
            if any(_filled(c) for c in data[idx]):
                blank_row[idx] = False
        rejected = pd.Series(False, index=table.index)

        for name, col in self._columns().items():
            if name not in typed:
                continue
            t, header_text = typed[name], match.headers[name]
            self._ambiguity(t, header_text, table[name], sheet_rows)
            if col.required:
                bad = (t.blank | t.bad) & ~blank_row & ~rejected
                for idx in bad[bad].index:
                    reason = "required value is missing" if t.blank[idx] else t.errors[idx]
                    if name == "score":
                        reason += self._scale_note(typed["survey"].values[idx])
                    self.issue(int(sheet_rows[idx]), header_text, table[name][idx], reason, "rejected")
                rejected |= bad
            else:
                bad = t.bad & ~blank_row
                for idx in bad[bad].index:
                    self.issue(
                        int(sheet_rows[idx]), header_text, table[name][idx], f"{t.errors[idx]}; left empty", "warning"
                    )
                t.values = t.values.where(~bad)

        if self.key == "responses":
            rejected |= self._surveys(typed, match.headers, table, sheet_rows, ~blank_row & ~rejected)
        if self.key == "spend" and "end_date" in typed:
            rejected |= self._ends_before_start(typed, match.headers, table, sheet_rows, ~blank_row & ~rejected)
        dup_key = {"orders": "order_id", "customers": "customer_id"}.get(self.key)
        if dup_key in typed:
            rejected |= self._duplicates(
                dup_key, typed[dup_key], match.headers[dup_key], sheet_rows, ~blank_row & ~rejected
            )

        keep = ~blank_row & ~rejected
        frame = self._frame(typed, dims, sheet_rows, keep)
        self.issues.sort(key=lambda i: i.row or 0)
        return ParsedTab(
            frame,
            self.issues,
            rows_read=n_data,
            blank_rows=int(blank_row.sum()),
            rejected_rows=int(rejected.sum()),
            dimensions=list(dims),
        )

    def _columns(self) -> dict[str, Column]:
        return {c.name: c for c in COLUMNS[self.key]}

    def _type(self, col: Column, raw: pd.Series) -> Typed:
        if col.kind == "date":
            return to_date(raw, self.settings.date_order)
        return {"id": to_id, "text": to_text, "number": to_number, "score": to_score}[col.kind](raw)

    def _unusable(self, missing: list[str], header: list[str], header_row: int, data: list[list[Any]]) -> ParsedTab:
        seen = ", ".join(h for h in header if h) or "(none)"
        example = missing[0]
        names = ", ".join(missing)
        reason = (
            f"missing required column{'s' if len(missing) > 1 else ''} {names}; headers seen: {seen}. "
            f'Rename a header to {example} or map it in config: [columns.{self.key}] {example} = "Your header". '
            f"Nothing from this tab is used until then."
        )
        self.issue(header_row, names, "", reason, "rejected")
        if self.columnar:
            n_data, filled = self.columnar.n_rows, int(self.columnar.filled.sum())
        else:
            n_data, filled = len(data), sum(1 for r in data if any(display(c).strip() for c in r))
        return ParsedTab(
            empty_canonical(self.key),
            self.issues,
            rows_read=n_data,
            blank_rows=n_data - filled,
            rejected_rows=filled,
            usable=False,
            missing_columns=list(missing),
        )

    def _ambiguity(self, t: Typed, header_text: str, raw: pd.Series, sheet_rows: pd.Series) -> None:
        if not t.ambiguous:
            return
        order = self.settings.date_order
        reading = "month/day/year" if order == "MDY" else "day/month/year"
        other, other_order = ("day/month/year", "DMY") if order == "MDY" else ("month/day/year", "MDY")
        against = t.day_first_evidence if order == "MDY" else t.month_first_evidence
        idx = t.ambiguous_at
        note = f"; {against} other value(s) in this column only make sense as {other}" if against else ""
        self.issue(
            int(sheet_rows.iloc[idx]) if idx is not None else None,
            header_text,
            raw.iloc[idx] if idx is not None else "",
            f"{t.ambiguous} date(s) such as this one could be month-first or day-first; read as {reading} "
            f'(date_order = "{order}"){note}. If they are {other}, set date_order = "{other_order}" in config',
            "warning",
        )

    def _surveys(
        self,
        typed: dict[str, Typed],
        headers: dict[str, str],
        table: pd.DataFrame,
        sheet_rows: pd.Series,
        live: pd.Series,
    ) -> pd.Series:
        scales = self.settings.surveys.scales
        survey, score = typed["survey"], typed["score"]
        canon = survey.values.str.upper()
        known = canon.isin(list(scales))
        rejected = pd.Series(False, index=table.index)
        configured = ", ".join(scales)
        unknown = live & ~known.fillna(False).astype(bool)
        for idx in unknown[unknown].index:
            self.issue(
                int(sheet_rows[idx]),
                headers["survey"],
                table["survey"][idx],
                f"unknown survey; configured surveys: {configured} (add others under [surveys.scales])",
                "rejected",
            )
        rejected |= unknown
        survey.values = canon
        lo = canon.map(lambda s: scales[s].min if s in scales else np.nan).astype(float)
        hi = canon.map(lambda s: scales[s].max if s in scales else np.nan).astype(float)
        outside = live & ~rejected & ((score.values < lo) | (score.values > hi)).fillna(False).astype(bool)
        for idx in outside[outside].index:
            s = canon[idx]
            self.issue(
                int(sheet_rows[idx]),
                headers["score"],
                table["score"][idx],
                f"outside the {s} scale {scales[s].min}–{scales[s].max}",
                "rejected",
            )
        rejected |= outside
        return rejected

    def _ends_before_start(
        self,
        typed: dict[str, Typed],
        headers: dict[str, str],
        table: pd.DataFrame,
        sheet_rows: pd.Series,
        live: pd.Series,
    ) -> pd.Series:
        """Spend rows whose end_date is before their date: rejected, since the range they cover is unknown."""
        start, end = typed["date"].values, typed["end_date"].values
        bad = live & (end < start).fillna(False).astype(bool)
        for idx in bad[bad].index:
            self.issue(
                int(sheet_rows[idx]),
                headers["end_date"],
                table["end_date"][idx],
                f"end_date {end[idx]:%Y-%m-%d} is before date {start[idx]:%Y-%m-%d}; "
                "an end_date is the last day the spend covers",
                "rejected",
            )
        return bad.astype(bool)

    def _scale_note(self, survey: object) -> str:
        scale = self.settings.surveys.scales.get(str(survey).strip().upper()) if isinstance(survey, str) else None
        return f" (the {str(survey).strip().upper()} scale is whole numbers {scale.min}–{scale.max})" if scale else ""

    def _duplicates(self, name: str, t: Typed, header_text: str, sheet_rows: pd.Series, live: pd.Series) -> pd.Series:
        ids = t.values.where(live)
        dup = ids.notna() & ids.duplicated(keep="first")
        if not dup.any():
            return dup.astype(bool)
        first = ids[live & ids.notna()].drop_duplicates(keep="first")
        first_row = pd.Series(sheet_rows[first.index].to_numpy(), index=first.to_numpy())
        for idx in dup[dup].index:
            self.issue(
                int(sheet_rows[idx]),
                header_text,
                ids[idx],
                f"duplicate {name} (first seen in row {int(first_row[ids[idx]])}); only the first is used",
                "rejected",
            )
        return dup.astype(bool)

    def _frame(
        self, typed: dict[str, Typed], dims: dict[str, Typed], sheet_rows: pd.Series, keep: pd.Series
    ) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for col in COLUMNS[self.key]:
            if col.name in typed:
                values = typed[col.name].values[keep]
                out[col.name] = values.astype(pd.api.types.pandas_dtype(col.dtype))
            else:
                out[col.name] = pd.Series(
                    pd.NA if col.dtype == "string" else None, index=keep[keep].index, dtype=col.dtype
                )
        for d, t in dims.items():
            out[d] = t.values[keep].astype("string")
        out[ROW_COLUMN] = sheet_rows[keep].astype("int64")
        return pd.DataFrame(out).reset_index(drop=True)


def _filled(cell: object) -> bool:
    """True for a cell with content (a row with content only in unused columns is not blank)."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return False
    return bool(cell.strip()) if isinstance(cell, str) else True


def _column_frame(tab: ColumnarTab, used: dict[str, int]) -> pd.DataFrame:
    """The used columns of a columnar tab, like `_column_table` gives them from rows."""
    index = pd.RangeIndex(tab.n_rows)
    return pd.DataFrame({name: tab.columns[i].set_axis(index) for name, i in used.items()}, index=index)


def _column_table(data: list[list[Any]], used: dict[str, int]) -> pd.DataFrame:
    """The used columns of the data rows as object columns (short rows padded with None)."""
    n = len(data)
    shortest = min(map(len, data), default=0)
    columns = {}
    for name, i in used.items():
        cells = np.empty(n, dtype=object)
        cells[:] = list(map(itemgetter(i), data)) if i < shortest else [r[i] if i < len(r) else None for r in data]
        columns[name] = pd.Series(cells, index=pd.RangeIndex(n), dtype=object)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))
