"""The scheduler: weekly digests and the summary-tab refresh as persistent APScheduler 3.x jobs, one scheduler per
deployment (a file lock under the state directory), with a start-up catch-up for digests missed while down.

Jobs are stored in SQLite (`scheduler.sqlite` in the state directory) and hold only ids: the job functions are
module-level and look the Context up in a per-process registry. Jobs are added only when missing and their
trigger is updated only when the config changed, so a restart keeps each job's pending run time (a run missed
while the process was down is then run once if within the grace window)."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.run import after_refresh
from bot.context import Context
from bot.digest.ledger import Ledger, open_ledger
from bot.digest.post import PostResult, post_digest, read_before_posting, record
from bot.digest.schedule import Destination, destinations, last_fire, report_week, trigger_for, week_label
from bot.pulse_log import append_log, flush_deferred
from bot.state_files import SQLITE_SIDE_FILES, heal_sqlite, private_file, quarantine
from bot.tabs import refresh
from config import state_dir
from sheets.workbook import WorkbookError

if TYPE_CHECKING:
    from bot.leader import Leadership

log = logging.getLogger(__name__)

JOBSTORE_FILE = "scheduler.sqlite"
LOCK_FILE = "scheduler.lock"
DIGEST_PREFIX = "digest:"
REFRESH_JOB = "refresh"

# context id → Context, for this process: stored jobs carry the id, never the object.
_CONTEXTS: dict[str, Context] = {}
_registry_lock = threading.Lock()


def register_context(ctx: Context, context_id: str = "default") -> str:
    with _registry_lock:
        _CONTEXTS[context_id] = ctx
    return context_id


def context_for(context_id: str) -> Context:
    with _registry_lock:
        ctx = _CONTEXTS.get(context_id)
    if ctx is None:
        raise LookupError(f"no context registered as '{context_id}' in this process")
    return ctx


# ---- job functions (module-level, picklable arguments) ----


def digest_job(context_id: str, key: str) -> PostResult | None:
    """Post the digest of the destination `key` for the week its latest scheduled time reports."""
    ctx = context_for(context_id)
    dest = _destination(ctx, key)
    if dest is None:
        log.warning("digest job for %s: no longer configured", key)
        return None
    now = ctx.now()
    fire = last_fire(trigger_for(dest), now)
    if fire is None:
        return None
    read_before_posting(ctx)
    result = post_digest(ctx, dest, week_start=report_week(fire, dest.timezone), now=now)
    log.info("digest job: %s", result.describe())
    return result


def refresh_job(context_id: str) -> None:
    """Rewrite the summary tabs (the refresh writes its own Pulse Log entry), then evaluate the alerts."""
    ctx = context_for(context_id)
    try:
        if getattr(ctx.workbook, "output", True) is None:  # a SQL source without an [output] workbook: alerts only
            log.info("scheduled refresh: summary tabs not written: no [output] workbook or sheet for the SQL source")
            after_refresh(ctx)
            return
        report = refresh(ctx, reason="scheduled")
        log.info("scheduled refresh: wrote %s", ", ".join(report.written) or "nothing")
        after_refresh(ctx)
    except Exception as err:  # a failed refresh is logged and retried at the next interval
        if isinstance(err, WorkbookError):  # the sheet's fault, phrased for people: one line, no trace
            log.warning("scheduled refresh failed: %s", err.headline())
        else:
            log.exception("scheduled refresh failed")
        try:
            append_log(ctx.workbook, ctx.now(), "refresh", "scheduled", f"failed: {type(err).__name__}: {err}"[:300])
        except Exception:  # noqa: BLE001
            log.warning("could not record the failed refresh in Pulse Log")


def catch_up_job(context_id: str) -> list[CatchUp]:
    try:
        return catch_up(context_for(context_id))
    except Exception:  # runs in its own thread at start-up; the next scheduled run still happens
        log.exception("digest catch-up failed")
        return []


# ---- start-up catch-up ----


@dataclass(frozen=True)
class CatchUp:
    """What start-up found for one destination: posted, duplicate, failed (a PostResult), or skipped/none."""

    destination: str
    week: str | None
    outcome: str
    detail: str = ""


def catch_up(
    ctx: Context,
    *,
    now: datetime | None = None,
    ledger: Ledger | None = None,
    active: Callable[[], bool] | None = None,
    **post_kwargs,
) -> list[CatchUp]:
    """For each destination, the latest scheduled digest at or before `now` that the ledger lacks: posted once if
    `now` is within the grace window of its scheduled time, else recorded as skipped (ledger and Pulse Log).
    Fire times before the destination's schedule was first installed were never due, so they are ignored.
    `active` (a scheduler leader's) is asked before each destination: once False, the next leader does the rest."""
    now = now or ctx.now()
    ledger = ledger or open_ledger(ctx.settings)
    grace = timedelta(minutes=ctx.settings.digest.misfire_grace_minutes)
    out = []
    for dest in destinations(ctx.settings):
        if active is not None and not active():
            break
        fire = last_fire(trigger_for(dest), now)
        if fire is None or fire < ledger.installed_at(dest.key, now):
            out.append(CatchUp(dest.key, None, "none"))
            continue
        monday = report_week(fire, dest.timezone)
        week = week_label(monday)
        entry = ledger.get(dest.key, week)
        if entry is not None and entry.status in ("posted", "skipped"):
            out.append(CatchUp(dest.key, week, "none", entry.status))
            continue
        if now - fire <= grace:
            read_before_posting(ctx)
            result = post_digest(ctx, dest, week_start=monday, now=now, ledger=ledger, **post_kwargs)
            out.append(CatchUp(dest.key, week, result.outcome, result.describe()))
            continue
        late = now - fire
        reason = f"missed: scheduled {fire.isoformat()}, {_hours(late)} late, beyond the {_hours(grace)} grace window"
        if ledger.mark_skipped(dest.key, week, now, reason):
            record(ctx, dest.key, week, "skipped", detail=f"{dest.key} {week}: {reason}")
        out.append(CatchUp(dest.key, week, "skipped", reason))
    return out


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def _destination(ctx: Context, key: str) -> Destination | None:
    return next((d for d in destinations(ctx.settings) if d.key == key), None)


# ---- the scheduler itself ----


@dataclass
class Scheduler:
    """A running BackgroundScheduler that holds the deployment lock until `shutdown()`."""

    scheduler: BackgroundScheduler
    lock: IO | None
    context_id: str
    jobs: dict[str, str] = field(default_factory=dict)
    catch_up: threading.Thread | None = None

    def shutdown(self, wait: bool = True) -> None:
        if self.catch_up is not None and wait:
            self.catch_up.join()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if self.lock is not None:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            self.lock.close()
            self.lock = None


def acquire_lock(path: Path | None = None) -> IO | None:
    """An exclusive, non-blocking lock on `scheduler.lock`; None when another process already runs a scheduler."""
    path = path or state_dir() / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)  # also a lock file left world-readable by an older version
    handle = os.fdopen(fd, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def build_scheduler(
    ctx: Context, jobstore_url: str | None = None, jobstore: BaseJobStore | None = None
) -> BackgroundScheduler:
    """A BackgroundScheduler with the persistent SQLite job store (0600; moved aside and rebuilt when damaged), or
    with `jobstore` (a scheduler leader's jobs in memory, see `bot.leader`)."""
    if jobstore is None:
        if jobstore_url is None:
            path = state_dir() / JOBSTORE_FILE
            heal_sqlite(path, "job store")
            private_file(path)
        jobstore = SQLAlchemyJobStore(url=jobstore_url or f"sqlite:///{state_dir() / JOBSTORE_FILE}")
    return BackgroundScheduler(
        jobstores={"default": jobstore},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=ZoneInfo(ctx.settings.timezone),
    )


def ensure_jobs(
    scheduler: BackgroundScheduler, ctx: Context, context_id: str, now: datetime | None = None
) -> dict[str, str]:
    """Make the stored jobs match the config: add missing ones, update a changed trigger or grace explicitly,
    remove digests no longer configured, leave unchanged jobs alone (so their pending run survives a restart).
    Returns job id → what was done (added, updated, kept, removed)."""
    now = now or ctx.now()
    ledger = open_ledger(ctx.settings)
    grace = ctx.settings.digest.misfire_grace_minutes * 60
    wanted: dict[str, tuple[Callable, object, list]] = {}
    if ctx.settings.digest.enabled:
        for dest in destinations(ctx.settings):
            ledger.installed_at(dest.key, now)
            wanted[DIGEST_PREFIX + dest.key] = (digest_job, trigger_for(dest), [context_id, dest.key])
        ledger.schedules_recorded()
    interval = ctx.settings.refresh.every_minutes
    wanted[REFRESH_JOB] = (
        refresh_job,
        IntervalTrigger(minutes=interval, timezone=ZoneInfo(ctx.settings.timezone)),
        [context_id],
    )
    done: dict[str, str] = {}
    for job in scheduler.get_jobs(jobstore="default"):
        if job.id not in wanted:
            scheduler.remove_job(job.id, jobstore="default")
            done[job.id] = "removed"
    for job_id, (func, trigger, args) in wanted.items():
        job = scheduler.get_job(job_id, jobstore="default")
        if job is None:
            scheduler.add_job(
                func,
                trigger,
                args=args,
                id=job_id,
                name=job_id,
                jobstore="default",
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
                replace_existing=False,
            )
            done[job_id] = "added"
            continue
        changed = False
        if job.misfire_grace_time != grace or not job.coalesce or list(job.args) != args:
            job.modify(misfire_grace_time=grace, coalesce=True, args=args)
            changed = True
        if _trigger_key(job.trigger) != _trigger_key(trigger):
            job.reschedule(trigger)
            changed = True
        done[job_id] = "updated" if changed else "kept"
    return done


def _trigger_key(trigger) -> str:
    """What identifies a trigger's schedule; the interval trigger's start date is ignored (it is 'now' at creation)."""
    if isinstance(trigger, IntervalTrigger):
        return f"interval {trigger.interval} {trigger.timezone}"
    return repr(trigger)


def start_scheduler(
    ctx: Context, *, context_id: str = "default", jobstore_url: str | None = None, catch_up_now: bool = True
) -> Scheduler | Leadership | None:
    """Start the scheduler in the background; None when another process holds the deployment lock.
    Jobs are reconciled while paused; then a background thread posts (or logs as skipped) digests missed while down.
    With `[state] url` (PostgreSQL) it is a `Leadership` instead: the scheduler runs while this instance leads."""
    from config.settings import state_url

    url = state_url(ctx.settings)
    if url is not None and jobstore_url is None:
        from bot.leader import Leadership

        return Leadership(ctx, url, context_id=context_id).start()
    lock = acquire_lock()
    if lock is None:
        log.warning(
            "another crm-pulse scheduler holds %s; this process runs no scheduled jobs", state_dir() / LOCK_FILE
        )
        return None
    try:
        register_context(ctx, context_id)
        try:
            scheduler, jobs = start_jobs(
                ctx, context_id, SQLAlchemyJobStore(url=jobstore_url) if jobstore_url else None
            )
        except (SQLAlchemyError, sqlite3.DatabaseError) as err:
            if jobstore_url is not None:
                raise
            # Readable by SQLite but not a job store APScheduler can use (e.g. a foreign table of the same name).
            quarantine(state_dir() / JOBSTORE_FILE, "job store", f"{type(err).__name__}: {err}", SQLITE_SIDE_FILES)
            scheduler, jobs = start_jobs(ctx, context_id)
    except BaseException:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        raise
    log.info("scheduler started: %s", ", ".join(f"{k} {v}" for k, v in jobs.items()))
    try:
        flush_deferred(ctx.workbook)  # e.g. "the job store was damaged; moved aside and rebuilt"
    except Exception as err:  # noqa: BLE001 - the log tab never stops the scheduler
        log.warning("could not write the queued Pulse Log entries: %s", err)
    running = Scheduler(scheduler, lock, context_id, jobs)
    if catch_up_now and ctx.settings.digest.enabled:
        running.catch_up = threading.Thread(target=catch_up_job, args=(context_id,), name="pulse-catch-up", daemon=True)
        running.catch_up.start()
    return running


start = start_scheduler


def start_jobs(
    ctx: Context, context_id: str, jobstore: BaseJobStore | None = None
) -> tuple[BackgroundScheduler, dict[str, str]]:
    """Start the scheduler paused, reconcile the stored jobs with the config, then resume it."""
    scheduler = build_scheduler(ctx, jobstore=jobstore)
    scheduler.start(paused=True)
    try:
        jobs = ensure_jobs(scheduler, ctx, context_id)
    except BaseException:
        scheduler.shutdown(wait=False)
        raise
    scheduler.resume()
    return scheduler, jobs


def run_scheduler_forever(ctx: Context, stop: threading.Event | None = None) -> int:
    """`pulse scheduler`: run the jobs in this process until interrupted (or `stop` is set)."""
    from bot.leader import Leadership

    running = start_scheduler(ctx)
    if isinstance(running, Leadership):
        print("scheduler: leader election over the PostgreSQL state; the jobs run here while this process leads")
        return _wait(running, stop)
    if running is None:
        print(
            f"error: another scheduler is already running for this deployment (lock {state_dir() / LOCK_FILE}); "
            "this one exits",
            file=sys.stderr,
        )
        return 1
    for job in running.scheduler.get_jobs(jobstore="default"):
        print(f"{job.id}: next run {job.next_run_time:%Y-%m-%d %H:%M %Z}" if job.next_run_time else f"{job.id}: paused")
    return _wait(running, stop)


def _wait(running: Scheduler | Leadership, stop: threading.Event | None) -> int:
    """Keep the scheduler running until `stop` is set or the process is interrupted, then shut it down."""
    stop = stop or threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        running.shutdown()
    return 0
