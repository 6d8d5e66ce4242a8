"""A Google Sheet behind the Workbook interface, through the real gspread client.

Reads cost one values.batchGet per refresh (tab list from cached spreadsheet metadata); writes stage the new
contents in hidden tabs and swap them in (see sheets/google/writeback.py): the tab list, one batchUpdate, one RAW
values.batchUpdate and one batchUpdate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import gspread
from gspread.exceptions import APIError

from sheets.google.errors import explain
from sheets.google.metadata import FIELDS, SheetMeta, parse_metadata, quote_title
from sheets.google.retry import RetryPolicy, call_with_retry, status_of
from sheets.google.writeback import (
    WritePlan,
    discard_requests,
    format_requests,
    plan_write,
    stage_requests,
    swap_requests,
    swapped,
    value_data,
)
from sheets.workbook import TABS_KEPT, Cell, OwnedTab, RawTab, WorkbookError, WriteReport

log = logging.getLogger(__name__)
T = TypeVar("T")
READ_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}


class GoogleWorkbook:
    """A spreadsheet by key: source tabs read in one batched request, owned tabs written in one batched write.

    The tab list is cached; our own structural writes change only owned tabs, so they mark just the
    owned-tab view stale and the next source read still costs a single request.
    """

    def __init__(
        self,
        client: gspread.Client,
        key: str,
        *,
        account: str | None = None,
        retry: RetryPolicy | None = None,
        source_tabs: Iterable[str] = (),
        metadata_max_age: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ):
        self.client = client
        self.key = key
        self.account = account
        self.retry = retry or RetryPolicy()
        self.source_tabs = set(source_tabs)
        self._max_age = metadata_max_age
        self._clock = clock
        self._wall = wall
        self._meta: SheetMeta | None = None
        self._meta_at = 0.0
        self._owned_stale = False
        self._lock = threading.RLock()

    @property
    def http(self) -> Any:
        return self.client.http_client

    def describe(self) -> str:
        title = self._meta.title if self._meta else None
        return f"Google Sheet '{title}' ({self.key})" if title else f"Google Sheet {self.key}"

    # ---- reads -------------------------------------------------------------------------------
    def metadata(self, refresh: bool = False) -> SheetMeta:
        """The tab list, cached; refetched when asked, when older than metadata_max_age, or after a range failed."""
        with self._lock:
            stale = self._meta is None or self._clock() - self._meta_at >= self._max_age
            if refresh or stale:
                response = self._call(
                    lambda: self.http.fetch_sheet_metadata(
                        self.key, params={"includeGridData": "false", "fields": FIELDS}
                    ),
                    "read the sheet's tab list",
                )
                self._meta, self._meta_at = parse_metadata(response), self._clock()
            assert self._meta is not None
            return self._meta

    def read_tabs(self, names: Sequence[str]) -> dict[str, RawTab | None]:
        """All named tabs in one values.batchGet (unformatted values, dates as serial numbers); missing → None."""
        for attempt in (1, 2):
            meta = self.metadata(refresh=attempt == 2)
            found = {name: meta.find(name) for name in names}
            present = [(name, tab) for name, tab in found.items() if tab is not None]
            if not present:
                return {name: None for name in names}
            ranges = [quote_title(tab.title) for _, tab in present]
            try:
                response = self._call(
                    self._batch_get(ranges),
                    "read the source tabs",
                    keep_raw=True,
                )
            except APIError as err:
                if attempt == 1 and status_of(err) == 400 and "range" in str(err.error.get("message", "")).lower():
                    log.info("a tab disappeared since the tab list was read; reading the tab list again")
                    continue
                raise self._explain(err, "read the source tabs") from None
            out: dict[str, RawTab | None] = {name: None for name in names}
            for (name, tab), value_range in zip(present, response.get("valueRanges", []), strict=False):
                out[name] = RawTab(name=tab.title, rows=[list(r) for r in value_range.get("values", [])])
            return out
        raise AssertionError("unreachable")

    def read_owned(self, name: str) -> list[list[Cell]] | None:
        """An owned tab's cells (header first), or None when it is missing or not marked as crm-pulse's."""
        tab = self.metadata(refresh=self._owned_stale).find(name)
        self._owned_stale = False
        if tab is None or not tab.owned:
            return None
        response = self._call(
            lambda: self.http.values_get(self.key, quote_title(tab.title), params=dict(READ_PARAMS)),
            f"read '{tab.title}'",
        )
        return [list(r) for r in response.get("values", [])]

    def owned_titles(self) -> list[str]:
        """Titles of the tabs that carry the crm-pulse mark."""
        meta = self.metadata(refresh=self._owned_stale)
        self._owned_stale = False
        return [t.title for t in meta.tabs if t.owned]

    # ---- writes ------------------------------------------------------------------------------
    def write_owned(self, tabs: Mapping[str, OwnedTab]) -> WriteReport:
        """Stage the owned tabs in hidden tabs, fill them in one RAW values.batchUpdate, then swap them in with one
        atomic batchUpdate; any failure before the swap landed leaves the previous tabs exactly as they were."""
        with self._lock:
            meta = self.metadata(refresh=True)
            now = self._wall()
            plan = plan_write(meta, tabs, self.source_tabs, now=now)
            report = WriteReport(refused=dict(plan.refused))
            if plan.tabs:
                self._stage_and_swap(plan, tabs, now)
                report.written = [p.name for p in plan.tabs]
                report.created = [p.name for p in plan.tabs if p.created]
            if plan.stale:
                self._discard(plan.stale, "remove staging tabs an interrupted write left behind")
            return report

    def _stage_and_swap(self, plan: WritePlan, tabs: Mapping[str, OwnedTab], now: float) -> None:
        """Stage, fill, swap; a failure deletes the staging tabs and says the previous tabs were kept (only if so)."""
        self._owned_stale = True
        staged = [p.stage_id for p in plan.tabs]
        try:
            self._call(
                lambda: self.http.batch_update(self.key, {"requests": stage_requests(plan.tabs, now)}),
                "prepare the summary tabs",
                writing=True,
            )
        except WorkbookError as err:
            self._discard_if_there(staged)
            raise err.with_note(TABS_KEPT) from None
        body = {"valueInputOption": "RAW", "data": value_data(plan.tabs, tabs)}
        try:
            self._call(lambda: self.http.values_batch_update(self.key, body), "write the summary tabs", writing=True)
        except WorkbookError as err:
            self._discard(staged, "remove the staging tabs of the failed write")
            raise err.with_note(TABS_KEPT) from None
        try:
            self._call(
                lambda: self.http.batch_update(
                    self.key, {"requests": swap_requests(plan.tabs) + format_requests(plan.tabs, tabs)}
                ),
                "swap in the new summary tabs",
                writing=True,
            )
        except WorkbookError as err:
            self._after_failed_swap(plan, err)

    def _after_failed_swap(self, plan: WritePlan, err: WorkbookError) -> None:
        """The swap answered with an error, but it may have landed (a lost answer, then a retry that was refused):
        look before saying anything about the tabs."""
        try:
            landed = swapped(self.metadata(refresh=True), plan.tabs)
        except WorkbookError:
            raise err.with_note(
                "crm-pulse could not check whether the summary tabs were replaced; run the refresh again"
            ) from None
        if landed:
            log.info("the summary-tab swap landed although its answer was an error: %s", err)
            return
        self._discard([p.stage_id for p in plan.tabs], "remove the staging tabs of the failed write")
        raise err.with_note(TABS_KEPT) from None

    def _discard_if_there(self, sheet_ids: list[int]) -> None:
        """After a failed staging request (whose answer may have been lost after it applied): delete whatever of
        it landed. Best effort, like _discard."""
        try:
            present = self.metadata(refresh=True).ids() & set(sheet_ids)
        except WorkbookError as err:
            log.warning("could not check for staging tabs of the failed write (a later write removes them): %s", err)
            return
        if present:
            self._discard(sorted(present), "remove the staging tabs of the failed write")

    def _discard(self, sheet_ids: list[int], doing: str) -> None:
        """Delete staging tabs, best effort: one left behind is hidden and removed by a later write."""
        try:
            self._call(
                lambda: self.http.batch_update(self.key, {"requests": discard_requests(sheet_ids)}), doing, writing=True
            )
        except WorkbookError as err:
            log.warning("could not %s (a later write removes them): %s", doing, err)
        finally:
            self._owned_stale = True

    # ---- plumbing ----------------------------------------------------------------------------
    def _batch_get(self, ranges: list[str]) -> Callable[[], Any]:
        """One values.batchGet of `ranges` as a call `_call` can retry (fresh parameters on each attempt)."""
        return lambda: self.http.values_batch_get(self.key, ranges, params=dict(READ_PARAMS))

    def _call(self, fn: Callable[[], T], doing: str, keep_raw: bool = False, writing: bool = False) -> T:
        """Run one API call under the retry policy; errors become WorkbookErrors (400s stay raw when asked)."""
        try:
            return call_with_retry(fn, self.retry)
        except APIError as err:
            if keep_raw and status_of(err) == 400:
                raise
            raise self._explain(err, doing, writing) from None
        except Exception as err:  # noqa: BLE001 — transport and auth failures are phrased for the user
            raise self._explain(err, doing, writing) from None

    def _explain(self, err: BaseException, doing: str, writing: bool = False) -> WorkbookError:
        """The user-facing error for `err` (one mapping for every surface), quoting this client's timeout."""
        return explain(
            err,
            key=self.key,
            account=self.account,
            doing=doing,
            writing=writing,
            timeout=getattr(self.http, "timeout", None),
        )
