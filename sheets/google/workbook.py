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
from gspread.urls import DRIVE_FILES_API_V3_URL, SPREADSHEET_VALUES_BATCH_URL

from sheets.columnar import ColumnarTab
from sheets.google.columns import columnar_tab, decode, rows_of
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
    "prettyPrint": "false",  # Google indents its JSON answers unless asked not to: about half the bytes
}
COLUMN_PARAMS = {**READ_PARAMS, "majorDimension": "COLUMNS"}
# Drive files.get of the spreadsheet: when and how often it last changed (needs a Drive metadata scope).
MARKER_PARAMS = {"fields": "modifiedTime,version", "supportsAllDrives": "true", "prettyPrint": "false"}
# (connect, read) seconds: the marker is asked on the way to an answer, so a slow Drive soon means "unknown" (the
# cache age decides) instead of holding the answer up for the values read's timeout.
MARKER_TIMEOUT = (3.05, 5.0)


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
        marker_max_age: float = 10.0,
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
        self._marker_max_age = marker_max_age
        self._marker: tuple[float, str] | None = None  # (when asked, Drive's answer)
        self._marker_refused = False

    @property
    def http(self) -> Any:
        return self.client.http_client

    def describe(self) -> str:
        title = self._meta.title if self._meta else None
        return f"Google Sheet '{title}' ({self.key})" if title else f"Google Sheet {self.key}"

    # ---- reads -------------------------------------------------------------------------------
    def change_marker(self) -> str | None:
        """Drive's modifiedTime and version of the spreadsheet (files.get): a snapshot read at another marker is
        stale, one read at this marker is never downloaded again. Asked at most once per `marker_max_age`
        seconds (a burst of questions costs one request). None when unknown: the snapshot cache then goes by
        its age. When the credentials may not read Drive metadata (403/404: scope missing, Drive API not enabled),
        one line is logged and Drive is not asked again by this workbook."""
        with self._lock:
            if self._marker_refused:
                return None
            if self._marker is not None and self._clock() - self._marker[0] < self._marker_max_age:
                return self._marker[1]
            asked = self._clock()
        try:
            response = self.http.session.request(
                "get", f"{DRIVE_FILES_API_V3_URL}/{self.key}", params=MARKER_PARAMS, timeout=MARKER_TIMEOUT
            )
            if not response.ok:
                raise APIError(response)
            answer = decode(response.content)
        except APIError as err:
            if _drive_refused(err):
                with self._lock:
                    self._marker_refused = True
                log.warning(
                    "Drive cannot say whether the sheet changed (%s: %s), so an unchanged sheet is recognised by the "
                    "cache age ([source] cache_seconds) instead; give the credentials the drive.metadata.readonly "
                    "scope to download it only after a change",
                    status_of(err),
                    str(err.error.get("message", ""))[:200],
                )
            else:
                log.info("Drive's modifiedTime is not available now (%s); going by the cache age", err)
            return None
        except Exception as err:  # noqa: BLE001 - a marker we cannot read never blocks an answer: the age decides
            log.info("Drive's modifiedTime is not available now (%s); going by the cache age", type(err).__name__)
            return None
        modified, version = answer.get("modifiedTime"), answer.get("version")
        if not modified and not version:
            return None
        marker = f"{modified} v{version}"
        with self._lock:
            self._marker = (asked, marker)
        return marker

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
        """All named tabs in one values.batchGet (unformatted values, dates as serial numbers); missing → None.
        The per-cell reference path (`load_snapshot(columnar=False)`)."""
        read = self._read_values(names, READ_PARAMS)
        return {name: None if got is None else RawTab(got[0], [list(r) for r in got[1]]) for name, got in read.items()}

    def read_columns(self, names: Sequence[str]) -> dict[str, RawTab | ColumnarTab | None]:
        """Like `read_tabs`, read by columns (majorDimension=COLUMNS) and typed as whole columns
        (`sheets.google.columns`): the same frames and rejected rows, without a Python list per row."""
        out: dict[str, RawTab | ColumnarTab | None] = {}
        for name, got in self._read_values(names, COLUMN_PARAMS).items():
            if got is None:
                out[name] = None
                continue
            title, columns = got
            out[name] = columnar_tab(title, columns) or RawTab(title, rows_of(columns))
        return out

    def _read_values(self, names: Sequence[str], params: Mapping[str, str]) -> dict[str, tuple[str, Any] | None]:
        """Each named tab's title and values in one values.batchGet with `params`; a missing tab → None."""
        for attempt in (1, 2):
            meta = self.metadata(refresh=attempt == 2)
            found = {name: meta.find(name) for name in names}
            present = [(name, tab) for name, tab in found.items() if tab is not None]
            if not present:
                return {name: None for name in names}
            ranges = [quote_title(tab.title) for _, tab in present]
            try:
                response = self._call(
                    self._batch_get(ranges, params),
                    "read the source tabs",
                    keep_raw=True,
                )
            except APIError as err:
                if attempt == 1 and status_of(err) == 400 and "range" in str(err.error.get("message", "")).lower():
                    log.info("a tab disappeared since the tab list was read; reading the tab list again")
                    continue
                raise self._explain(err, "read the source tabs") from None
            out: dict[str, tuple[str, Any] | None] = {name: None for name in names}
            for (name, tab), value_range in zip(present, response.get("valueRanges", []), strict=False):
                out[name] = (tab.title, value_range.get("values", []))
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
    def _batch_get(self, ranges: list[str], params: Mapping[str, str]) -> Callable[[], Any]:
        """One values.batchGet of `ranges` as a call `_call` can retry (fresh parameters on each attempt); the
        answer decoded with the garbage collector paused (`sheets.google.columns.decode`)."""
        url = SPREADSHEET_VALUES_BATCH_URL % self.key
        return lambda: decode(self.http.request("get", url, params={**params, "ranges": ranges}).content)

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


def _drive_refused(err: APIError) -> bool:
    """True when Drive refuses metadata to these credentials for good: the token lacks a Drive scope
    (403 insufficientPermissions) or the Drive API is not enabled for the project (403 accessNotConfigured);
    not for a sheet that is merely not shared (the values read says so)."""
    if status_of(err) != 403:
        return False
    error = err.error if isinstance(err.error, dict) else {}
    reasons = {str(e.get("reason", "")) for e in error.get("errors", []) if isinstance(e, dict)}
    reasons |= {str(d.get("reason", "")) for d in error.get("details", []) if isinstance(d, dict)}
    message = str(error.get("message", "")).lower()
    return bool(
        reasons
        & {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "accessNotConfigured", "SERVICE_DISABLED"}
        or "insufficient authentication scopes" in message
        or "has not been used in project" in message
    )
