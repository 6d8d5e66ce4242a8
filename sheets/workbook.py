"""The workbook interface every backend implements: read all source tabs in one call, write owned tabs in one call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from metrics.errors import SourceUnavailable

# A cell as read or written. Time-of-day and duration cells come only from a local .xlsx (never valid source values).
Cell = str | int | float | bool | datetime | date | time | timedelta | None

# Tabs crm-pulse creates and owns, named here once. Nothing else is ever written.
SUMMARY_TAB = "Pulse Summary"
COHORTS_TAB = "Pulse Cohorts"
CUSTOMERS_TAB = "Pulse Customers"
ISSUES_TAB = "Pulse Data Issues"
LOG_TAB = "Pulse Log"
SURVIVAL_TAB = "Pulse Survival"
OWNED_TABS = (SUMMARY_TAB, COHORTS_TAB, CUSTOMERS_TAB, ISSUES_TAB, LOG_TAB, SURVIVAL_TAB)
OWNER_MARKER_KEY = "crm-pulse-owned"
# Said after a failed read or write — only when it is true (nothing of the write landed).
TABS_KEPT = "the summary tabs keep their previous contents"


@dataclass(frozen=True)
class RawTab:
    """A tab's cells as the backend read them: rows[0] is the header row, rows[i] is sheet row i + 1.

    Numbers arrive as int/float (dates may arrive as Sheets serial numbers, day 0 = 1899-12-30),
    text as str, empty cells as None or "". Trailing empty cells may be missing from a row.
    """

    name: str
    rows: list[list[Cell]]


@dataclass(frozen=True)
class OwnedTab:
    """A tab crm-pulse writes whole: a header row and data rows of plain values."""

    name: str
    header: list[str]
    rows: list[list[Cell]]
    # For people (Google Sheets and local .xlsx): column index → number-format pattern of its data rows, and columns
    # kept frozen (besides the header row).
    formats: dict[int, str] = field(default_factory=dict)
    frozen_cols: int = 0


@dataclass
class WriteReport:
    """What a write did: tabs written, tabs created, and tabs refused (name → reason)."""

    written: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


class WorkbookError(SourceUnavailable):
    """A problem reaching or reading the workbook, phrased for the user (what happened, what to do).

    `title` is the one-line headline (Slack shows "title: message"; the add-on sends it as the problem title)
    and `status` the HTTP status an API answers with: the workbook is upstream of us, so 502 by default,
    503 while Google rate-limits (`retry_after` seconds), 504 when Google did not answer in time.
    """

    status: int = 502
    title: str = "crm-pulse cannot use the workbook"
    retry_after: int | None = None

    def __init__(
        self, message: str, *, status: int | None = None, title: str | None = None, retry_after: int | None = None
    ):
        super().__init__(message)
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        if retry_after is not None:
            self.retry_after = retry_after

    def headline(self) -> str:
        """ "title: message" — the sentence chat surfaces show."""
        return f"{self.title}: {self}"

    def with_note(self, note: str | None) -> WorkbookError:
        """A copy of this failure (kind, status, title), with `note` appended to its message when given."""
        message = f"{self} — {note}" if note else str(self)
        return WorkbookError(message, status=self.status, title=self.title, retry_after=self.retry_after)


class Workbook(Protocol):
    """A place the source tabs are read from and the owned tabs are written to."""

    def describe(self) -> str:
        """Short human name, e.g. the file path or the spreadsheet title."""
        ...

    def read_tabs(self, names: Sequence[str]) -> dict[str, RawTab | None]:
        """Read the named tabs in one call; a missing tab maps to None."""
        ...

    def read_owned(self, name: str) -> list[list[Cell]] | None:
        """The current cells of an owned tab (header first), or None when it does not exist or is not ours."""
        ...

    def write_owned(self, tabs: Mapping[str, OwnedTab]) -> WriteReport:
        """Replace the contents of the given owned tabs in one batched write.

        A same-named tab without the marker is left untouched and listed in `refused`; a source tab
        is never written. A failed write leaves every tab as it was.
        """
        ...
