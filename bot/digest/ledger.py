"""The digest ledger: one SQLite row per (channel, ISO week) so a digest is posted exactly once, across restarts.

A claim is held by an open, `flock`ed file per (channel, week) next to the ledger for as long as its post runs: the
kernel releases it when the process dies (even by kill -9), so a `posting` row whose lock is free was abandoned
and is taken over at once, while a live claim (another thread or process) is never taken over."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bot.state_files import heal_sqlite, private_file
from config import state_dir

if TYPE_CHECKING:
    from config import Settings

log = logging.getLogger(__name__)

LEDGER_FILE = "digest-ledger.sqlite"

# (lock file path) → the open lock file of a claim this process holds.
_HELD: dict[Path, IO] = {}
_held_guard = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL,
    week TEXT NOT NULL,
    status TEXT NOT NULL,
    ts TEXT,
    file_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    claimed_at TEXT,
    finished_at TEXT,
    sent_at TEXT,
    PRIMARY KEY (channel, week)
);
CREATE TABLE IF NOT EXISTS schedules (
    channel TEXT PRIMARY KEY,
    installed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
# What a rebuilt ledger records as the install time of the schedules it finds (they existed before the damage).
LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


class ClaimLost(Exception):
    """This process no longer holds its claim (its state database session was cut): another one may finish the post."""


@dataclass(frozen=True)
class Entry:
    """One ledger row. `status` is posting (claimed), posted, failed or skipped; `ts` is the message ts;
    `sent_at` is when a request that may have posted the message first left (then a retry checks the channel)."""

    channel: str
    week: str
    status: str
    ts: str | None = None
    file_id: str | None = None
    attempts: int = 0
    error: str | None = None
    claimed_at: datetime | None = None
    finished_at: datetime | None = None
    sent_at: datetime | None = None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Ledger:
    """SQLite-backed; every call opens its own connection, so it is safe from several threads and processes."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else state_dir() / LEDGER_FILE
        healed = heal_sqlite(self.path, "digest ledger")
        private_file(self.path)
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(digests)")}
            if "sent_at" not in columns:  # a ledger written before sent_at existed
                db.execute("ALTER TABLE digests ADD COLUMN sent_at TEXT")
            if healed:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('rebuilt_at', ?)", (_iso(datetime.now(UTC)),)
                )
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schedules_unknown', '1')")

    def rebuilt_at(self) -> datetime | None:
        """When this ledger was rebuilt after damage (what it knew before is gone), or None."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'rebuilt_at'").fetchone()
        return _parse(row["value"]) if row else None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def get(self, channel: str, week: str) -> Entry | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM digests WHERE channel = ? AND week = ?", (channel, week)).fetchone()
        return _entry(row)

    def claim(self, channel: str, week: str, now: datetime) -> Entry | None:
        """Take the right to post (channel, week): None when it is already posted, skipped or being posted.

        A failed row, or a `posting` row whose holder died (its lock is free), is claimed again; the returned
        entry keeps the message ts and `sent_at` already recorded, so the retry does not post the message twice.
        The claim holds its lock until `mark_posted`, `mark_failed` or `release`.
        """
        if not self._take_lock(channel, week):
            return None
        try:
            taken = self._claim_row(channel, week, now)
        except BaseException:
            self.release(channel, week)
            raise
        if taken is None:
            self.release(channel, week)
        return taken

    def _claim_row(self, channel: str, week: str, now: datetime) -> Entry | None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                current = _entry(
                    db.execute("SELECT * FROM digests WHERE channel = ? AND week = ?", (channel, week)).fetchone()
                )
                if current is not None and current.status in ("posted", "skipped"):
                    db.execute("ROLLBACK")
                    return None
                if current is not None:
                    if current.status == "posting":
                        log.warning(
                            "digest %s %s: taking over the claim of a process that died mid-post", channel, week
                        )
                    db.execute(
                        "UPDATE digests SET status = 'posting', claimed_at = ? WHERE channel = ? AND week = ?",
                        (_iso(now), channel, week),
                    )
                else:
                    db.execute(
                        "INSERT INTO digests (channel, week, status, claimed_at) VALUES (?, ?, 'posting', ?)",
                        (channel, week, _iso(now)),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.get(channel, week)

    def _lock_path(self, channel: str, week: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", channel)[:40]
        digest = hashlib.sha256(f"{channel}\0{week}".encode()).hexdigest()[:12]
        return self.path.with_name(self.path.name + ".claims") / f"{safe}.{week}.{digest}.lock"

    def _take_lock(self, channel: str, week: str) -> bool:
        """An exclusive non-blocking flock on the claim's lock file, kept open until release; False while another
        thread or process holds it."""
        path = self._lock_path(channel, week)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        with _held_guard:
            if path in _HELD:
                return False
            handle = open(private_file(path), "a+")  # noqa: SIM115 - kept open: it holds the flock until release()
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            _HELD[path] = handle
        return True

    def holds(self, channel: str, week: str) -> bool:
        """Whether this process still holds its claim of (channel, week): a flock is held until release or death."""
        return self._lock_path(channel, week) in _HELD

    def release(self, channel: str, week: str) -> None:
        """Give up this process's claim lock of (channel, week), if held (the row keeps its status)."""
        with _held_guard:
            handle = _HELD.pop(self._lock_path(channel, week), None)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def mark_sent(self, channel: str, week: str, now: datetime) -> None:
        """Note, before the first request that could post the message, that a retry must check the channel first."""
        self._update(channel, week, "sent_at = COALESCE(sent_at, ?)", (_iso(now),))

    def record_file(self, channel: str, week: str, file_id: str) -> None:
        """Remember the chart's file id as soon as it is shared (a restart must not upload it again)."""
        self._update(channel, week, "file_id = ?", (file_id,))

    def record_message(self, channel: str, week: str, ts: str) -> None:
        """Remember the message ts as soon as Slack accepted it (a later upload failure must not repost it)."""
        self._update(channel, week, "ts = ?", (ts,))

    def count_attempt(self, channel: str, week: str) -> None:
        self._update(channel, week, "attempts = attempts + 1", ())

    def mark_posted(
        self, channel: str, week: str, now: datetime, ts: str | None, file_id: str | None, note: str | None = None
    ) -> None:
        """Record the finished post and release the claim."""
        self._update(
            channel,
            week,
            "status = 'posted', ts = COALESCE(?, ts), file_id = COALESCE(?, file_id), error = ?, finished_at = ?",
            (ts, file_id, note, _iso(now)),
        )
        self.release(channel, week)

    def mark_failed(self, channel: str, week: str, now: datetime, error: str) -> None:
        """Record the failure (a later call may claim the week again) and release the claim."""
        self._update(channel, week, "status = 'failed', error = ?, finished_at = ?", (error[:500], _iso(now)))
        self.release(channel, week)

    def mark_skipped(self, channel: str, week: str, now: datetime, reason: str) -> bool:
        """Record a digest that will not be posted (missed beyond the grace window); False if a row exists."""
        with closing(self._connect()) as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO digests (channel, week, status, error, finished_at) "
                "VALUES (?, ?, 'skipped', ?, ?)",
                (channel, week, reason[:500], _iso(now)),
            )
            return cur.rowcount == 1

    def last_posted(self, channel: str, before_week: str | None = None) -> Entry | None:
        """The most recent posted digest of `channel` (optionally for a week before `before_week`)."""
        sql = "SELECT * FROM digests WHERE channel = ? AND status = 'posted'"
        args: tuple = (channel,)
        if before_week:
            sql += " AND week < ?"
            args += (before_week,)
        with closing(self._connect()) as db:
            row = db.execute(sql + " ORDER BY week DESC LIMIT 1", args).fetchone()
        return _entry(row)

    def entries(self, channel: str | None = None) -> list[Entry]:
        with closing(self._connect()) as db:
            if channel is None:
                rows = db.execute("SELECT * FROM digests ORDER BY channel, week").fetchall()
            else:
                rows = db.execute("SELECT * FROM digests WHERE channel = ? ORDER BY week", (channel,)).fetchall()
        return [_entry(r) for r in rows]

    def installed_at(self, channel: str, now: datetime) -> datetime:
        """When the schedule of `channel` was first installed: recorded as `now` on first call, or as long ago by a
        ledger rebuilt after damage until `schedules_recorded` (those schedules existed before the damage)."""
        with closing(self._connect()) as db:
            unknown = db.execute("SELECT 1 FROM meta WHERE key = 'schedules_unknown'").fetchone() is not None
            first = LONG_AGO if unknown else now
            db.execute("INSERT OR IGNORE INTO schedules (channel, installed_at) VALUES (?, ?)", (channel, _iso(first)))
            row = db.execute("SELECT installed_at FROM schedules WHERE channel = ?", (channel,)).fetchone()
        return datetime.fromisoformat(row["installed_at"])

    def schedules_recorded(self) -> None:
        """Every configured schedule has its install time now: later new ones are recorded as installed when seen."""
        with closing(self._connect()) as db:
            db.execute("DELETE FROM meta WHERE key = 'schedules_unknown'")

    def _update(self, channel: str, week: str, assignments: str, args: tuple) -> None:
        with closing(self._connect()) as db:
            db.execute(f"UPDATE digests SET {assignments} WHERE channel = ? AND week = ?", (*args, channel, week))


def open_ledger(settings: Settings | None = None) -> Ledger:
    """The digest ledger the settings name: PostgreSQL (`[state] url`, PULSE_STATE_URL), or a file."""
    from config.settings import state_url

    url = state_url(settings) if settings is not None else None
    if url is None:
        return Ledger()
    from bot.state_pg import PgLedger

    return PgLedger(url)


def _entry(row: sqlite3.Row | None) -> Entry | None:
    if row is None:
        return None
    return Entry(
        channel=row["channel"],
        week=row["week"],
        status=row["status"],
        ts=row["ts"],
        file_id=row["file_id"],
        attempts=row["attempts"],
        error=row["error"],
        claimed_at=_parse(row["claimed_at"]),
        finished_at=_parse(row["finished_at"]),
        sent_at=_parse(row["sent_at"]),
    )
