"""Alert state persisted in the state directory, so a restart neither re-fires nor forgets a standing alert.

A damaged file is reported (`read_state`) so the caller can move it aside and rebuild it without re-posting; a
file that cannot be written keeps the new state in memory for this process, so no refresh posts the same alert
again while the disk refuses writes."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from bot.pulse_log import defer_log
from bot.state_files import write_private
from config import state_dir

log = logging.getLogger(__name__)

_lock = threading.Lock()
# path → state this process could not write (preferred over the stale file until a write succeeds)
_unsaved: dict[Path, dict[str, dict]] = {}


def state_path() -> Path:
    return state_dir() / "alerts.json"


def read_state(path: Path | None = None) -> tuple[dict[str, dict], str | None]:
    """(rule name → {"active": bool, "since": iso time, "value": last value}, what is wrong with the file or None).

    A missing file is an empty state; a damaged one (not JSON, wrong shape) is an empty state plus the problem."""
    path = path or state_path()
    with _lock:
        if path in _unsaved:
            return json.loads(json.dumps(_unsaved[path])), None
    if not path.exists():
        return {}, None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return {}, f"{type(err).__name__}: {err}"
    problem = _shape_problem(state)
    return (state, None) if problem is None else ({}, problem)


def _shape_problem(state: object) -> str | None:
    """Why `state` is not a rule name → {"active": bool, …} mapping, or None."""
    if not isinstance(state, dict):
        return f"expected an object of rules, found {type(state).__name__}"
    for name, entry in state.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("active"), bool):
            return f"rule {str(name)[:60]!r} has no true/false 'active'"
    return None


def load_state(path: Path | None = None) -> dict[str, dict]:
    """The stored state; empty when missing or damaged (listing only — evaluation uses `read_state`)."""
    return read_state(path)[0]


def save_state(state: dict[str, dict], path: Path | None = None) -> bool:
    """Write atomically (0600; a crash mid-write keeps the previous state). When the file cannot be written, keep the
    state in memory for this process, warn (in `Pulse Log` once) and return False."""
    path = path or state_path()
    text = json.dumps(state, indent=2, sort_keys=True)
    with _lock:
        try:
            write_private(path, text)
        except OSError as err:
            first = path not in _unsaved
            _unsaved[path] = json.loads(text)
            log.warning("alert state %s cannot be written (%s): kept in memory until it can", path.name, err)
            if first:
                defer_log(
                    "state",
                    f"the alert state {path.name} cannot be written ({type(err).__name__}: {err})"[:300],
                    "kept in memory: no alert re-posts, but a restart forgets changes since",
                )
            return False
        _unsaved.pop(path, None)
    return True
