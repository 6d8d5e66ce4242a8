"""One scheduler across instances that share a PostgreSQL state (`[state] url`): leader election through a
session-level advisory lock held on a dedicated connection.

Every instance runs a `Leadership` thread. A standby tries the lock every `[state] leader_poll_seconds`; the leader
checks its session at the same pace. PostgreSQL frees the lock when the leader's session ends — at once when the
process dies (even by kill -9), within about 30 s when its host vanishes (TCP keepalives, set on the session) — so
another instance takes over within a minute. A leader whose session is cut (a database restart, a network fault)
stops its scheduler at once and competes again once the database answers.

Taking the lead starts the scheduler with its jobs in memory, then catches up: a digest missed while no instance led
is posted if still inside `digest.misfire_grace_minutes`, once — the ledger's claim (a unique row per channel and
week) decides, whichever instance runs it. The jobs need no shared store: they are rebuilt from the config, and
what a store would remember (a run missed while down) is what the catch-up finds in the ledger."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import psycopg
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.context import Context
from bot.pulse_log import flush_deferred
from bot.scheduler import catch_up, register_context, start_jobs
from bot.state_pg import _first_line, connect
from config.settings import StateUnavailable

log = logging.getLogger(__name__)

LEADER_LOCK = (0x6C64, 1)  # the two-key advisory lock of the scheduler leader ("ld"); claims use other keys
# The leader's session: the server drops a vanished client after ~10 + 3 × 5 s of silence (freeing the lock), and
# the client gives up on an unacknowledged send after 30 s (so a cut-off leader notices and stops its scheduler).
KEEPALIVE = 10
SESSION_OPTIONS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
    "options": f"-c tcp_keepalives_idle={KEEPALIVE} -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
}


class Leadership:
    """Runs the scheduler in this process while it holds the leader lock; `role` says which it is now."""

    def __init__(self, ctx: Context, url: str, *, context_id: str = "default", poll: float | None = None):
        self.ctx, self.url, self.context_id = ctx, url, context_id
        self.poll = poll if poll is not None else ctx.settings.state.leader_poll_seconds
        self.jobs: dict[str, str] = {}
        self._db: psycopg.Connection | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._term = 0
        self._unreachable = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulse-leader", daemon=True)

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    @property
    def role(self) -> str:
        return "leader" if self.leading else "standby"

    def start(self) -> Leadership:
        self._thread.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        """Stop competing; a leader stops its scheduler and frees the lock (closing its session)."""
        self._stop.set()
        if wait:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            try:
                self._tick()
                self._unreachable = False
            except (psycopg.Error, StateUnavailable, OSError) as err:
                self._step_down(f"{type(err).__name__}: {_first_line(err)}")
            except Exception:  # the election thread never dies; the next poll tries again
                log.exception("scheduler leadership: unexpected failure")
                self._step_down("unexpected failure")
            if self._stop.wait(self.poll):
                break
        self._step_down(None)

    def _tick(self) -> None:
        """Lead if the lock is free; while leading, check that the session (and so the lock) is still there."""
        if self._db is None:
            self._db = connect(self.url, **SESSION_OPTIONS)
        if self._scheduler is not None:
            self._db.execute("SELECT 1")
            return
        got: Any = self._db.execute("SELECT pg_try_advisory_lock(%s, %s) AS got", LEADER_LOCK).fetchone()
        if got and got["got"]:
            self._lead()

    def _lead(self) -> None:
        """Start the scheduler (jobs in memory, from the config), then catch up on digests missed meanwhile."""
        register_context(self.ctx, self.context_id)
        self._scheduler, self.jobs = start_jobs(self.ctx, self.context_id, MemoryJobStore())
        self._term += 1
        done = ", ".join(f"{k} {v}" for k, v in self.jobs.items())
        log.info("scheduler leader: this instance runs the jobs (%s)", done)
        try:
            flush_deferred(self.ctx.workbook)
        except Exception as err:  # noqa: BLE001 - the log tab never stops the scheduler
            log.warning("could not write the queued Pulse Log entries: %s", err)
        if self.ctx.settings.digest.enabled:
            threading.Thread(target=self._catch_up, args=(self._term,), name="pulse-catch-up", daemon=True).start()

    def _catch_up(self, term: int) -> None:
        """The start-up catch-up of this term; it stops between destinations once this term's lead is lost."""
        try:
            catch_up(self.ctx, active=lambda: self._term == term and self.leading)
        except Exception:  # the next leader's catch-up (or the next scheduled run) still happens
            log.exception("digest catch-up failed")

    def _step_down(self, reason: str | None) -> None:
        """Stop the scheduler (running jobs finish; a digest whose claim was cut stops before Slack) and the session."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            if reason:
                log.warning("scheduler leader: lost the lead (%s); this instance stands by", reason)
        elif reason and not self._unreachable:
            log.warning("scheduler leader election: the PostgreSQL state is unreachable (%s); retrying", reason)
        self._unreachable = reason is not None
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(psycopg.Error):
                db.close()  # frees the lock, if the session still exists
