"""Everything a query needs at run time: settings, the (cached) data source and the clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.pulse_log import defer_log
from bot.render.format import WORKBOOK, left_out
from config import Settings
from metrics.arrays import export_arrays, restore_arrays
from metrics.customers import customer_state
from metrics.options import MetricOptions, Scale
from metrics.periods import Period, parse_period
from metrics.purchasing import order_book
from metrics.registry import METRICS
from metrics.tables import Tables
from sheets.cache import CachedSnapshot, SnapshotCache, cache_key, default_cache_path
from sheets.open import open_workbook
from sheets.snapshot import Snapshot, load_snapshot, what_to_add
from sheets.workbook import Workbook, WorkbookError

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _pinned_clock(day: date) -> Callable[[], datetime]:
    """A clock stopped at noon UTC of `day`, so runs with a pinned `today` are reproducible."""
    pinned = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return lambda: pinned


@dataclass
class Context:
    """One deployment's settings, workbook, snapshot cache and clock (tests inject `clock`).

    `one_shot` is for commands that answer and exit (`pulse ask`, `check`, `refresh`, `digest`, `alerts`): a stale
    snapshot is read again before answering, because a background refresh would die with the process."""

    settings: Settings
    workbook: Workbook
    clock: Callable[[], datetime] = utc_now
    cache: SnapshotCache | None = None
    one_shot: bool = False
    _tables: dict[int, tuple[Snapshot, Tables]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # The last failed read's own exception (shared by copies made with dataclasses.replace): the snapshot cache
    # keeps only its text, surfaces need its kind (title, HTTP status) or, for a bug, its traceback.
    _failures: dict[str, Exception] = field(default_factory=dict, repr=False)
    # How many times something asked for the rows (snapshot() or read_now()): a source pushed down to its warehouse
    # should answer without them, and the tests check it by this count.
    snapshot_uses: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.cache is None:
            self.cache = SnapshotCache(
                loader=self._load,
                cache_seconds=self.settings.source.cache_seconds,
                state_path=snapshot_path(self.workbook, self.settings),
                background=not self.one_shot,
                marker=getattr(self.workbook, "change_marker", None),
                key=cache_key(source_id(self.workbook), self.settings),
                on_damaged=_note_in_pulse_log,
            )

    def _load(self) -> Snapshot:
        """Read the workbook, then build the typed tables and the per-snapshot arrays every metric shares,
        so the first question after a (background) refresh does not pay for them."""
        try:
            snap = load_snapshot(self.workbook, self.settings, now=self.clock())
        except Exception as err:
            self._failures["read"] = err
            raise
        tables = self.tables(snap)
        warm(tables)
        if not self.one_shot:
            warm_segments(tables)
        snap.arrays = export_arrays(tables)  # saved with the disk snapshot: the next process restores them
        return snap

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today's date in the configured timezone."""
        return self.clock().astimezone(ZoneInfo(self.settings.timezone)).date()

    def snapshot(self) -> CachedSnapshot:
        """The cached snapshot; when there is none and the sheet cannot be read, the read's own error."""
        self.snapshot_uses += 1
        try:
            return self.cache.get()
        except WorkbookError as err:
            failure = self.read_failure(err)
            raise failure from failure.__cause__

    def read_now(self) -> CachedSnapshot:
        """Read the source now (`pulse refresh`, `pulse check`): a failed read raises its own error instead of
        quietly answering from the last snapshot."""
        self.snapshot_uses += 1
        try:
            cached = self.cache.refresh(force=True)
        except WorkbookError as err:
            failure = self.read_failure(err)
            raise failure from failure.__cause__
        if cached.error is not None:
            failure = self.read_failure(cached.error)
            raise failure from failure.__cause__
        return cached

    def read_failure(self, error: WorkbookError | str) -> Exception:
        """The error behind a failed read that the snapshot cache reports only as text (`error`).

        A WorkbookError keeps its kind (title, HTTP status) for Slack and the add-on; any other exception was
        not phrased for users (a bug, not a sheet problem) and comes back as an unexpected RuntimeError.
        """
        last = self._failures.get("read")
        text = str(error)
        if isinstance(last, WorkbookError) and str(last) == text:
            return last.with_note(None)
        if last is not None and f"{type(last).__name__}: {last}" == text:
            failure = RuntimeError(f"reading the workbook failed unexpectedly: {text}")
            failure.__cause__ = last
            return failure
        return error if isinstance(error, WorkbookError) else WorkbookError(text)

    def tables(self, snap: Snapshot) -> Tables:
        """Typed tables for a snapshot, built once per snapshot."""
        with self._lock:
            if id(snap) not in self._tables:
                tables = Tables.from_frames(
                    snap.frames,
                    dimensions=snap.dimensions,
                    missing=[*snap.missing_tabs, *snap.missing_columns],
                    excluded=snap.excluded,
                    fixes=what_to_add(snap, self.settings),
                )
                if snap.arrays:  # a disk snapshot's arrays: restored instead of rebuilt when built by this code
                    restore_arrays(tables, snap.arrays)
                self._tables[id(snap)] = (snap, tables)
            # Keep the served snapshot's tables and this one's (a background refresh builds the new one while
            # questions are still answered from the old one); any older snapshot is released with its arrays.
            served = self.cache.current() if self.cache is not None else None
            keep = {id(snap), id(served)}
            self._tables = {k: v for k, v in self._tables.items() if k in keep}
            return self._tables[id(snap)][1]

    def options(self) -> MetricOptions:
        return metric_options(self.settings)


def resolve_period(ctx: Context, text: str | None, metric: str | None) -> Period:
    """The period named by `text`, else the configured default for this kind of metric."""
    if not text:
        spec = METRICS.get(metric or "")
        kind = spec.default_period if spec else "rates"
        text = ctx.settings.default_periods.surveys if kind == "surveys" else ctx.settings.default_periods.rates
    return parse_period(text, ctx.today(), ctx.settings.fiscal_year_start_month)


def data_notes(ctx: Context | None, cached: CachedSnapshot, *, workbook_count: bool = True) -> list[str]:
    """Notes every answer carries about its data: a stale snapshot, and the invalid rows of the whole workbook
    left out — unless the answer states its own metric's count instead (one count per answer)."""
    notes = []
    if cached.note:
        notes.append(cached.note)
    rejected = sum(cached.snapshot.excluded.values())
    if rejected and workbook_count:
        notes.append(left_out(rejected, WORKBOOK))
    return notes


def read_if_stale(ctx: Context) -> None:
    """Read the source now when the cached snapshot is stale, so a digest about to be posted (scheduled, caught up,
    or on demand from Slack or the add-on) reports the sheet as it is; the server otherwise refreshes in the
    background, after answering from the old snapshot. A failed read leaves the last snapshot, whose "data as of"
    note the digest then carries."""
    try:
        ctx.cache.refresh(force=False)
    except Exception as err:  # noqa: BLE001 — no snapshot at all: the digest reports the failure itself
        log.warning("could not read the source before the digest: %s", err)


def _note_in_pulse_log(message: str) -> None:
    """A damaged snapshot cache was moved aside: say so in `Pulse Log` with the next entry written."""
    defer_log("state", message, "moved aside, rebuilt")


def warm(t: Tables) -> None:
    """Build the per-snapshot customer state and order book (cached on the Tables object)."""
    customer_state(t)
    order_book(t)


# A dimension with more values than this is not prepared ahead (its breakdown builds segments when asked).
WARM_SEGMENTS_UP_TO = 20


def warm_segments(t: Tables) -> None:
    """For a server: every segment `by`/`where` can name (dimensions of up to WARM_SEGMENTS_UP_TO values) with its
    arrays (customer state, order book, survey answers), built with the snapshot and kept with it, so no breakdown
    waits for them (issue 16 item 2)."""
    from metrics.engine import dimension_values, segment_tables
    from metrics.surveys import all_answers

    for dimension in t.dimensions:
        values = dimension_values(t, dimension).unique()
        if len(values) <= WARM_SEGMENTS_UP_TO:
            for value in values:
                segment = segment_tables(t, dimension, str(value))
                warm(segment)
                all_answers(segment)  # NPS/CSAT by segment (small: three arrays of the segment's answers)


def source_id(workbook: Workbook) -> str:
    """What names the source in the cache key: a Google Sheet's key, else its description (the file path)."""
    return getattr(workbook, "key", None) or workbook.describe()


def snapshot_path(workbook: Workbook, settings: Settings | None = None) -> Path | None:
    """Where the last good snapshot of this workbook is kept; None for a warehouse (it is not copied into the state
    dir). A local .xlsx is kept too (issue 16: a 1M-row file takes seconds to parse), keyed by its mtime and size,
    so a process answers an unchanged file from disk and reads an edited one afresh."""
    from sheets.warehouse.source import SqlWorkbook

    if isinstance(workbook, SqlWorkbook):
        return None
    return default_cache_path(source_id(workbook), settings)


def metric_options(s: Settings) -> MetricOptions:
    """The metric-definition options from config."""
    return MetricOptions(
        churn_mode=s.churn.mode,
        churn_after_days=s.churn.after_days,
        scales={k: Scale(v.min, v.max, v.satisfied_from) for k, v in s.surveys.scales.items()},
        min_n=s.surveys.min_n,
        complaints_denominator=s.complaints.denominator,
        resolved_statuses=tuple(x.lower() for x in s.complaints.resolved_statuses),
        clv_lifetime_years=s.clv.lifetime_years,
        clv_max_lifetime_years=s.clv.max_lifetime_years,
        gross_margin=s.clv.gross_margin,
        horizon_months=s.clv.horizon_months,
        discount_rate=s.clv.discount_rate,
        risk_p_alive_below=s.risk.p_alive_below,
        renewal_grace_days=s.renewal.grace_days,
        targets=dict(s.targets),
        fiscal_year_start_month=s.fiscal_year_start_month,
    )


def build_context(
    settings: Settings,
    *,
    workbook: str | None = None,
    sheet: str | None = None,
    today: date | None = None,
    one_shot: bool = False,
) -> Context:
    """A context for the CLI and the server; `today` pins the clock (noon UTC of that day) for reproducible runs;
    `one_shot` for commands that answer and exit (see Context)."""
    clock = utc_now if today is None else _pinned_clock(today)
    return Context(
        settings=settings,
        workbook=open_workbook(settings, workbook=workbook, sheet=sheet),
        clock=clock,
        one_shot=one_shot,
    )
