"""State files under PULSE_STATE_DIR (digest ledger, job store, alert state): owner-only (0600), written atomically,
and a damaged one is moved aside with a warning in the log and in `Pulse Log`, so it is rebuilt instead of
stopping the server."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.pulse_log import defer_log
from config import move_aside, write_state_file

log = logging.getLogger(__name__)

PRIVATE = 0o600
SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 when missing, else tighten its mode to 0600; returns `path`."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, PRIVATE))
    os.chmod(path, PRIVATE)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically (a crash mid-write keeps the old file) with a 0600 file holding `text`."""
    write_state_file(path, text.encode("utf-8"))


def quarantine(path: Path, what: str, problem: str, side_files: tuple[str, ...] = ()) -> Path:
    """Move a damaged state file (and its side files) aside as `<name>.damaged-<UTC time>`, warn in the log and
    queue a `Pulse Log` entry; returns where it went. The caller rebuilds the state."""
    aside = move_aside(path, side_files)
    message = f"the {what} {path.name} was damaged ({problem[:200]}); moved aside to {aside.name} and rebuilt"
    log.warning("%s", message)
    defer_log("state", message, "moved aside, rebuilt")
    return aside


def sqlite_problem(path: Path) -> str | None:
    """What is wrong with the SQLite file at `path` (not a database, failed integrity check), or None when it is
    usable or missing. A busy or locked database is not damage."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        with closing(sqlite3.connect(path, timeout=30)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.OperationalError:
        return None
    except sqlite3.DatabaseError as err:
        return str(err)
    return None if result and result[0] == "ok" else f"integrity check: {result[0] if result else 'no answer'}"


def heal_sqlite(path: Path, what: str) -> bool:
    """Move a damaged SQLite state file aside (it is then rebuilt empty); True when it did."""
    problem = sqlite_problem(path)
    if problem is None:
        return False
    quarantine(path, what, problem, SQLITE_SIDE_FILES)
    return True
