"""The digest ledger: one SQLite row per (channel, ISO week) so a digest is posted at most once, across restarts."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from config import state_dir

LEDGER_FILE = "digest-ledger.sqlite"
# A claim older than this whose post never finished (the process died mid-post) may be taken over.
STALE_CLAIM = timedelta(minutes=15)

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
    PRIMARY KEY (channel, week)
);
CREATE TABLE IF NOT EXISTS schedules (
    channel TEXT PRIMARY KEY,
    installed_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    """One ledger row. `status` is posting (claimed), posted, failed or skipped; `ts` is the message ts."""

    channel: str
    week: str
    status: str
    ts: str | None = None
    file_id: str | None = None
    attempts: int = 0
    error: str | None = None
    claimed_at: datetime | None = None
    finished_at: datetime | None = None


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat()


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Ledger:
    """SQLite-backed; every call opens its own connection, so it is safe from several threads and processes."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else state_dir() / LEDGER_FILE
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

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

        A failed row, or a claim left `posting` for longer than STALE_CLAIM, can be claimed again; the
        returned entry keeps any message ts already recorded so a retry does not post the message twice.
        """
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT * FROM digests WHERE channel = ? AND week = ?", (channel, week)).fetchone()
                current = _entry(row)
                if current is not None:
                    if current.status in ("posted", "skipped"):
                        db.execute("ROLLBACK")
                        return None
                    if current.status == "posting" and current.claimed_at and now - current.claimed_at < STALE_CLAIM:
                        db.execute("ROLLBACK")
                        return None
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

    def record_message(self, channel: str, week: str, ts: str) -> None:
        """Remember the message ts as soon as Slack accepted it (a later upload failure must not repost it)."""
        self._update(channel, week, "ts = ?", (ts,))

    def count_attempt(self, channel: str, week: str) -> None:
        self._update(channel, week, "attempts = attempts + 1", ())

    def mark_posted(self, channel: str, week: str, now: datetime, ts: str | None, file_id: str | None, note: str | None = None) -> None:
        self._update(
            channel, week, "status = 'posted', ts = COALESCE(?, ts), file_id = ?, error = ?, finished_at = ?",
            (ts, file_id, note, _iso(now)),
        )

    def mark_failed(self, channel: str, week: str, now: datetime, error: str) -> None:
        self._update(channel, week, "status = 'failed', error = ?, finished_at = ?", (error[:500], _iso(now)))

    def mark_skipped(self, channel: str, week: str, now: datetime, reason: str) -> bool:
        """Record a digest that will not be posted (missed beyond the grace window); False if a row exists."""
        with closing(self._connect()) as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO digests (channel, week, status, error, finished_at) VALUES (?, ?, 'skipped', ?, ?)",
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
        """When the schedule of `channel` was first installed (recorded as `now` on first call)."""
        with closing(self._connect()) as db:
            db.execute("INSERT OR IGNORE INTO schedules (channel, installed_at) VALUES (?, ?)", (channel, _iso(now)))
            row = db.execute("SELECT installed_at FROM schedules WHERE channel = ?", (channel,)).fetchone()
        return datetime.fromisoformat(row["installed_at"])

    def _update(self, channel: str, week: str, assignments: str, args: tuple) -> None:
        with closing(self._connect()) as db:
            db.execute(f"UPDATE digests SET {assignments} WHERE channel = ? AND week = ?", (*args, channel, week))


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
    )
