"""Shared state in PostgreSQL (`[state] url` / `PULSE_STATE_URL`): the digest ledger and the replay/nonce store,
so several instances agree on what was posted and what was seen. The file-based default lives elsewhere
(`bot.digest.ledger.Ledger`, `bot.replay.MemorySeen`); these classes implement the same interfaces.

The schema is created by numbered migrations (`pulse migrate`, idempotent, serialised by an advisory lock).
A digest claim is a row with the primary key (channel, week), so a second claim fails in the database, plus a
session-level advisory lock held on a dedicated connection while the post runs: PostgreSQL releases it when the
claiming process dies (even by kill -9), so a `posting` row whose lock is free was abandoned and is taken over,
as the file ledger does with its flock."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bot.digest.ledger import Entry, Ledger
from config.settings import StateUnavailable

log = logging.getLogger(__name__)

# (version, what, SQL): append only; a deployed migration is never edited.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "digest ledger and seen keys",
        """
CREATE TABLE pulse_digests (
    channel TEXT NOT NULL,
    week TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('posting', 'posted', 'failed', 'skipped')),
    ts TEXT,
    file_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    claimed_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    PRIMARY KEY (channel, week)
);
CREATE TABLE pulse_digest_schedules (
    channel TEXT PRIMARY KEY,
    installed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE pulse_seen (
    key TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX pulse_seen_expiry ON pulse_seen (expires_at);
""",
    ),
    (
        2,
        "alert state",
        """
CREATE TABLE pulse_alerts (
    rule TEXT PRIMARY KEY,
    active BOOLEAN NOT NULL,
    entry JSONB NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
""",
    ),
    (
        3,
        "rate-limit counters",
        """
CREATE TABLE pulse_rate_events (
    key TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX pulse_rate_events_key_at ON pulse_rate_events (key, at);
""",
    ),
    (
        4,
        "Pulse Log queue",
        """
CREATE TABLE pulse_log_queue (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    outcome TEXT NOT NULL,
    taken_by TEXT,
    taken_at TIMESTAMPTZ
);
""",
    ),
]
LOG_TAKE_SECONDS = 300  # a queued Pulse Log entry taken by a writer that never confirmed is offered again after this
MIGRATION_LOCK = 0x70756C7365  # "pulse": one migrator at a time
CLAIM_LOCK_SPACE = 0x6469  # first key of the two-key advisory lock of a digest claim ("di")
ALERT_LOCK_SPACE = 0x616C  # … of an alert rule's change ("al")
RATE_LOCK_SPACE = 0x7261  # … of a rate-limit key ("ra")
SEEN_SWEEP_SECONDS = 60.0


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """An autocommit connection with dict rows; failing: StateUnavailable, without the URL (it may hold a password)."""
    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as err:
        raise StateUnavailable(f"cannot connect to the PostgreSQL state ({_first_line(err)})") from None


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def migrate(url: str) -> list[int]:
    """Apply the migrations this database lacks, each in its own transaction; returns the versions applied."""
    applied: list[int] = []
    with connect(url) as db:
        db.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS pulse_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {row["version"] for row in db.execute("SELECT version FROM pulse_schema_migrations")}
            for version, name, sql in MIGRATIONS:
                if version in done:
                    continue
                with db.transaction():
                    db.execute(sql)
                    db.execute("INSERT INTO pulse_schema_migrations (version, name) VALUES (%s, %s)", (version, name))
                applied.append(version)
                log.info("state migration %d applied: %s", version, name)
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied


def check_migrated(url: str) -> None:
    """Raise StateUnavailable naming `pulse migrate` when the schema is missing or older than this code."""
    with connect(url) as db:
        exists = db.execute("SELECT to_regclass('pulse_schema_migrations') AS t").fetchone()["t"]
        latest = db.execute("SELECT max(version) AS v FROM pulse_schema_migrations").fetchone()["v"] if exists else None
    if latest is None or latest < MIGRATIONS[-1][0]:
        raise StateUnavailable(
            f"the PostgreSQL state schema is at version {latest or 0}, this code needs "
            f"{MIGRATIONS[-1][0]}: run `pulse migrate`"
        )


def _claim_key(channel: str, week: str) -> int:
    """The second advisory-lock key of a (channel, week) claim."""
    return _lock_key(channel, week)


def _lock_key(*parts: str) -> int:
    """The second key of a two-key advisory lock named by `parts`: 31 bits of their SHA-256."""
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:4], "big") >> 1


@dataclass
class _Claim:
    """A claim this process holds: the connection whose session holds its advisory lock, and the claiming thread."""

    db: psycopg.Connection
    thread: int = field(default_factory=threading.get_ident)

    def alive(self) -> bool:
        """Whether the session (and so the lock) still exists: False once the database cut it (a restart)."""
        try:
            self.db.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def close(self) -> None:
        self.db.close()


# (url, channel, week) → the claim this process holds there.
_HELD: dict[tuple[str, str, str], _Claim] = {}
_held_guard = threading.Lock()
_ENTRY_FIELDS = [f.name for f in fields(Entry)]


class PgLedger(Ledger):
    """The digest ledger of `bot.digest.ledger.Ledger` in PostgreSQL; a connection per call, thread- and host-safe."""

    def __init__(self, url: str):
        self.url = url
        check_migrated(url)

    def rebuilt_at(self) -> datetime | None:
        """Never: a database is not healed by moving it aside (its backups are the operator's)."""
        return None

    def _one(self, sql: str, args: tuple = ()) -> dict | None:
        with connect(self.url) as db:
            return db.execute(sql, args).fetchone()

    def _exec(self, sql: str, args: tuple = ()) -> int:
        with connect(self.url) as db:
            return db.execute(sql, args).rowcount

    def get(self, channel: str, week: str) -> Entry | None:
        return _entry(self._one("SELECT * FROM pulse_digests WHERE channel = %s AND week = %s", (channel, week)))

    def _claim_row(self, channel: str, week: str, now: datetime) -> Entry | None:
        with connect(self.url) as db, db.transaction():
            inserted = db.execute(
                "INSERT INTO pulse_digests (channel, week, status, claimed_at) VALUES (%s, %s, 'posting', %s)"
                " ON CONFLICT (channel, week) DO NOTHING RETURNING *",
                (channel, week, now),
            ).fetchone()
            if inserted is not None:
                return _entry(inserted)
            current = db.execute(
                "SELECT * FROM pulse_digests WHERE channel = %s AND week = %s FOR UPDATE", (channel, week)
            ).fetchone()
            if current["status"] in ("posted", "skipped"):
                return None
            if current["status"] == "posting":
                log.warning("digest %s %s: taking over the claim of a process that died mid-post", channel, week)
            return _entry(
                db.execute(
                    "UPDATE pulse_digests SET status = 'posting', claimed_at = %s WHERE channel = %s"
                    " AND week = %s RETURNING *",
                    (now, channel, week),
                ).fetchone()
            )

    def _take_lock(self, channel: str, week: str) -> bool:
        """Take the claim's advisory lock on a connection kept open until release; False while anyone holds it."""
        held = (self.url, channel, week)
        with _held_guard:
            mine = _HELD.get(held)
            if mine is not None:
                if mine.alive():
                    return False
                del _HELD[held]  # its session was cut (a database restart): the lock is free for a new claim
                mine.close()
            db = connect(self.url)
            try:
                got = db.execute(
                    "SELECT pg_try_advisory_lock(%s, %s) AS got", (CLAIM_LOCK_SPACE, _claim_key(channel, week))
                ).fetchone()["got"]
            except BaseException:
                db.close()
                raise
            if not got:
                db.close()
                return False
            _HELD[held] = _Claim(db)
            return True

    def holds(self, channel: str, week: str) -> bool:
        """Whether this thread's claim of (channel, week) still holds its lock: False after the database cut its
        session (a restart: another instance may have taken the week over) or when a newer claim replaced it."""
        with _held_guard:
            mine = _HELD.get((self.url, channel, week))
        return mine is not None and mine.thread == threading.get_ident() and mine.alive()

    def release(self, channel: str, week: str) -> None:
        """Give up this thread's claim of (channel, week), if held: closing its connection frees the lock."""
        with _held_guard:
            mine = _HELD.get((self.url, channel, week))
            if mine is None or mine.thread != threading.get_ident():
                return  # a newer claim (after this one's session was cut) is not this thread's to release
            del _HELD[(self.url, channel, week)]
        mine.close()

    # mark_sent, record_file, record_message, count_attempt, mark_posted and mark_failed are Ledger's: they write
    # through `_update` (below) and release through `release` (above).

    def mark_skipped(self, channel: str, week: str, now: datetime, reason: str) -> bool:
        """Record a digest that will not be posted (missed beyond the grace window); False if a row exists."""
        return (
            self._exec(
                "INSERT INTO pulse_digests (channel, week, status, error, finished_at) "
                "VALUES (%s, %s, 'skipped', %s, %s)"
                " ON CONFLICT (channel, week) DO NOTHING",
                (channel, week, reason[:500], now),
            )
            == 1
        )

    def last_posted(self, channel: str, before_week: str | None = None) -> Entry | None:
        sql, args = "SELECT * FROM pulse_digests WHERE channel = %s AND status = 'posted'", (channel,)
        if before_week:
            sql, args = sql + " AND week < %s", (channel, before_week)
        return _entry(self._one(sql + " ORDER BY week DESC LIMIT 1", args))

    def entries(self, channel: str | None = None) -> list[Entry]:
        with connect(self.url) as db:
            if channel is None:
                rows = db.execute("SELECT * FROM pulse_digests ORDER BY channel, week").fetchall()
            else:
                rows = db.execute("SELECT * FROM pulse_digests WHERE channel = %s ORDER BY week", (channel,)).fetchall()
        return [e for e in map(_entry, rows) if e is not None]

    def installed_at(self, channel: str, now: datetime) -> datetime:
        """When the schedule of `channel` was first installed (recorded as `now` the first time any instance asks)."""
        with connect(self.url) as db:
            db.execute(
                "INSERT INTO pulse_digest_schedules (channel, installed_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (channel, now),
            )
            row = db.execute(
                "SELECT installed_at FROM pulse_digest_schedules WHERE channel = %s", (channel,)
            ).fetchone()
        return _utc(row["installed_at"])

    def schedules_recorded(self) -> None:
        """Nothing to do: a database is never rebuilt with unknown schedules (see `Ledger.schedules_recorded`)."""

    def _update(self, channel: str, week: str, assignments: str, args: tuple) -> None:
        """Ledger's updates with their `?` placeholders as psycopg's (ISO time strings are valid timestamptz input)."""
        self._exec(
            f"UPDATE pulse_digests SET {assignments.replace('?', '%s')} WHERE channel = %s AND week = %s",
            (*args, channel, week),
        )

    def _connect(self):
        raise NotImplementedError("PgLedger has no SQLite file: every method of Ledger that reads it is overridden")


def _entry(row: dict | None) -> Entry | None:
    if row is None:
        return None
    return Entry(**{name: _utc(row[name]) for name in _ENTRY_FIELDS})


def _utc(value: Any) -> Any:
    """A timestamptz as an aware UTC datetime (PostgreSQL answers in the session's zone); other values unchanged."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


class PgSeen:
    """`bot.replay.SeenStore` in PostgreSQL: a key is accepted once by all instances until it expires."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        self.url, self._clock = url, clock
        self._swept = float("-inf")
        check_migrated(url)

    def first_time(self, key: str, expires_at: float) -> bool:
        """True the first time `key` is offered (by any instance) while no unexpired row holds it."""
        now = self._clock()
        with connect(self.url) as db:
            if now - self._swept >= SEEN_SWEEP_SECONDS:  # forget expired keys now and then, not on every request
                db.execute("DELETE FROM pulse_seen WHERE expires_at < %s", (now,))
                self._swept = now
            row = db.execute(
                "INSERT INTO pulse_seen (key, expires_at) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
                " SET expires_at = EXCLUDED.expires_at WHERE pulse_seen.expires_at < %s RETURNING key",
                (key, expires_at, now),
            ).fetchone()
        return row is not None


class PgAlertState:
    """Alert state in PostgreSQL (rule → its last posted state), shared by instances: a rule's change is posted by
    the one instance that commits it, so an alert fires once and recovers once whichever instances evaluate it."""

    def __init__(self, url: str):
        self.url = url
        check_migrated(url)

    def read(self) -> dict[str, dict]:
        """rule name → {"active": bool, "since": iso time, "value": last value}, as `bot.alerts.state` keeps it."""
        with connect(self.url) as db:
            return {row["rule"]: row["entry"] for row in db.execute("SELECT rule, entry FROM pulse_alerts")}

    def change(self, rule: str, entry: dict, post: Callable[[], object]) -> bool:
        """Post and record `rule` becoming `entry["active"]`; False (nothing posted) when another instance already
        did. The rule's transaction lock serialises instances; a failed post raises and records nothing."""
        with connect(self.url) as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (ALERT_LOCK_SPACE, _lock_key(rule)))
            row = db.execute("SELECT active FROM pulse_alerts WHERE rule = %s", (rule,)).fetchone()
            if bool(row and row["active"]) == bool(entry["active"]):
                return False
            post()
            db.execute(
                "INSERT INTO pulse_alerts (rule, active, entry) VALUES (%s, %s, %s) ON CONFLICT (rule) DO UPDATE"
                " SET active = EXCLUDED.active, entry = EXCLUDED.entry, changed_at = now()",
                (rule, bool(entry["active"]), Jsonb(entry)),
            )
        return True


class PgRateLimiter:
    """`bot.ratelimit.RateLimiter`'s sliding 60-second window in PostgreSQL: a user's (or a spreadsheet's) requests
    count on every instance. Times are wall-clock seconds, the same on every host."""

    def __init__(self, url: str, per_minute: int, scope: str, clock: Callable[[], float] = time.time):
        self.url, self.per_minute, self.scope, self._clock = url, per_minute, scope, clock
        check_migrated(url)

    def allow(self, key: str) -> float | None:
        """Record a request; None when allowed, else the seconds until `key` may ask again."""
        now, name = self._clock(), f"{self.scope}:{key}"
        with connect(self.url) as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (RATE_LOCK_SPACE, _lock_key(name)))
            db.execute("DELETE FROM pulse_rate_events WHERE key = %s AND at <= %s", (name, now - 60.0))
            seen = db.execute(
                "SELECT count(*) AS n, min(at) AS first FROM pulse_rate_events WHERE key = %s", (name,)
            ).fetchone()
            if seen["n"] >= self.per_minute:
                return max(0.0, 60.0 - (now - seen["first"]))
            db.execute("INSERT INTO pulse_rate_events (key, at) VALUES (%s, %s)", (name, now))
        return None


class PgLogQueue:
    """Pulse Log entries noted where no workbook is at hand, queued in PostgreSQL: whichever instance writes
    `Pulse Log` next (the leader's refresh, a digest, an alert) writes them — a standby that never refreshes still
    has its notes written. An entry is taken by one writer at a time and deleted once that writer confirms it."""

    def __init__(self, url: str, writer: str):
        self.url, self.writer = url, writer

    def put(self, at: datetime, event: str, detail: str, outcome: str) -> None:
        with connect(self.url) as db:
            db.execute(
                "INSERT INTO pulse_log_queue (at, event, detail, outcome) VALUES (%s, %s, %s, %s)",
                (at, event, detail, outcome),
            )

    def take(self) -> list[tuple[int, tuple[datetime, str, str, str]]]:
        """The entries free for this writer (never taken, taken by it, or taken too long ago), oldest first, now
        taken by it: (id, (time, event, detail, outcome))."""
        with connect(self.url) as db:
            rows = db.execute(
                "UPDATE pulse_log_queue SET taken_by = %s, taken_at = now() WHERE id IN (SELECT id FROM"
                " pulse_log_queue WHERE taken_by IS NULL OR taken_by = %s OR taken_at < now() - make_interval(secs"
                " => %s) FOR UPDATE SKIP LOCKED) RETURNING *",
                (self.writer, self.writer, LOG_TAKE_SECONDS),
            ).fetchall()
        rows.sort(key=lambda r: r["id"])
        return [(r["id"], (_utc(r["at"]), r["event"], r["detail"], r["outcome"])) for r in rows]

    def done(self, ids: list[int]) -> None:
        """Forget entries now in `Pulse Log`."""
        if ids:
            with connect(self.url) as db:
                db.execute("DELETE FROM pulse_log_queue WHERE id = ANY(%s)", (ids,))


__all__ = [
    "MIGRATIONS",
    "PgAlertState",
    "PgLedger",
    "PgRateLimiter",
    "PgSeen",
    "StateUnavailable",
    "check_migrated",
    "migrate",
]
