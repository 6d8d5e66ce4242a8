"""Alert state persisted in the state directory, so a restart neither re-fires nor forgets a standing alert."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from config import state_dir

_lock = threading.Lock()


def state_path() -> Path:
    return state_dir() / "alerts.json"


def load_state(path: Path | None = None) -> dict[str, dict]:
    """rule name → {"active": bool, "since": iso time, "value": last value}."""
    path = path or state_path()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def save_state(state: dict[str, dict], path: Path | None = None) -> None:
    """Write atomically: a crash mid-write keeps the previous state."""
    path = path or state_path()
    with _lock:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
