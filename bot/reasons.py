"""`Pulse Data Issues` reasons in the configured language.

sheets/ stays below bot/ and keeps writing each reason in English (its snapshot cache holds plain strings); here each
English form is a catalogue message with `{placeholders}`, matched back into its parameters and rendered with `_`.
A reason no form matches stays English, and tests/bot/test_i18n_issue_reasons.py fails when sheets/ writes a new one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.i18n import N_, _, is_english
from sheets.workbook import Cell, OwnedTab

if TYPE_CHECKING:
    from sheets.warehouse.pushdown import RuleCount

# The header of `Pulse Data Issues` (sheets.snapshot.ISSUES_HEADER), marked for extraction.
ISSUE_HEADINGS = (N_("Tab"), N_("Row"), N_("Column"), N_("Value"), N_("Problem"), N_("Severity"))
REASON_COLUMN = 4
# Forms wrapping another reason (`{reason}` is translated in turn), then whole reasons.
WRAPPERS = (
    N_("{reason}; left empty"),
    N_("{reason} (the {survey} scale is whole numbers {low}–{high})"),
    N_("{reason} — rule run in the database: 1 row"),
    N_("{reason} — rule run in the database: {n} rows"),
)
# A validation rule run in the database (sheets/warehouse/pushdown.py `rule_counts`): its reason and count.
RULE_ROW = WRAPPERS[2:]
REASONS = (
    N_("required value is missing"),
    N_("not a number"),
    N_("not a whole number"),
    N_("not a date"),
    N_("not a recognised date; use YYYY-MM-DD (e.g. 2026-03-05)"),
    N_("not a valid calendar date (month 1-12, day within the month)"),
    N_("a number that is not a date (expected a date or a serial date number)"),
    N_("duplicate {column} (first seen in row {row}); only the first is used"),
    N_("unknown survey; configured surveys: {surveys} (add others under [surveys.scales])"),
    N_("outside the {survey} scale {low}–{high}"),
    N_("end_date {end} is before date {start}; an end_date is the last day the spend covers"),
    N_("the tab is empty; add a header row with the columns {columns}"),
    N_("tab '{name}' not found: add a tab named '{name}' with columns {columns}; needed for {needed}"),
    N_("… and {n} more issues (see `pulse check`)"),
    # The reasons of the validation rules run in the database (sheets/warehouse/pushdown.py).
    N_("duplicate {column}; only the first is used"),
    N_("unknown survey; configured surveys: {surveys}"),
    N_("outside the survey's scale"),
    N_("refund (negative amount): counted in revenue, not orders"),
)


@functools.cache
def _pattern(form: str) -> re.Pattern[str]:
    """The regular expression of an English form: each `{name}` captures text, a repeated one must repeat it."""
    parts, seen = [], set()
    for i, piece in enumerate(re.split(r"\{(\w+)\}", form)):
        if i % 2 == 0:
            parts.append(re.escape(piece))
        else:
            parts.append(f"(?P={piece})" if piece in seen else f"(?P<{piece}>.+?)")
            seen.add(piece)
    return re.compile("".join(parts), re.S)


def reason_text(reason: str) -> str:
    """`reason` (as sheets/ wrote it, in English) in the current language; unmatched text is returned as it is."""
    if is_english() or not reason:
        return reason
    for form in WRAPPERS:
        m = _pattern(form).fullmatch(reason)
        if m and reason_text(m["reason"]) != m["reason"]:
            return _(form, **{**m.groupdict(), "reason": reason_text(m["reason"])})
    for form in REASONS:
        m = _pattern(form).fullmatch(reason)
        if m:
            return _(form, **m.groupdict())
    return reason


def issues_tab_in_language(tab: OwnedTab) -> OwnedTab:
    """`Pulse Data Issues` with its header and reasons in the current language; values (tab, row, column, value,
    severity) untouched, so the tab still filters and pivots the same in either language."""
    if is_english():
        return tab
    return replace(tab, header=[_(h) for h in tab.header], rows=reasons_in_language(tab.rows))


def rule_rows(rules: Sequence[RuleCount]) -> list[list[Cell]]:
    """The validation rules run in the database as rows of `Pulse Data Issues` and `/pulse issues` (in English, worded
    later like every reason): tab, no row (a rule counts rows), column, its sample keys, the rule with its count,
    severity."""
    rows: list[list[Cell]] = []
    for r in rules:
        reason = (RULE_ROW[0] if r.rows == 1 else RULE_ROW[1]).format(reason=r.rule, n=f"{r.rows:,}")
        rows.append([r.tab, None, r.column, ", ".join(r.samples), reason, r.severity])
    return rows


def reasons_in_language(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Issue rows (tab, row, column, value, reason, severity) with the reason in the current language."""
    if is_english():
        return rows
    return [[*r[:REASON_COLUMN], reason_text(str(r[REASON_COLUMN] or "")), *r[REASON_COLUMN + 1 :]] for r in rows]
