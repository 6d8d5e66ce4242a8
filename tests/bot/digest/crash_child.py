"""Crash injection for the exactly-once tests: post one digest in a real process and kill -9 it right after a step.

    python -m tests.bot.digest.crash_child <step> <workbook.xlsx> <settings json> <now iso>

Steps: claimed (ledger claim committed), posted (Slack accepted the message, ts not yet recorded), recorded (ts
recorded, chart not uploaded), charted (chart shared, its file id not yet recorded). The environment carries
PULSE_STATE_DIR, SLACK_BOT_TOKEN and SLACK_API_URL."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from bot.digest import post as post_module
from bot.digest.ledger import Ledger
from bot.digest.schedule import destinations, report_week
from tests.bot.digest.conftest import context_at

STEPS = {
    "claimed": (Ledger, "claim"),
    "posted": (post_module, "_post_message"),
    "recorded": (Ledger, "record_message"),
    "charted": (post_module, "_upload_chart"),
}


def sigkill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def crash_after(owner: object, name: str, crash=sigkill, patch=setattr) -> None:
    """Wrap `owner.name` so `crash` (by default kill -9 of this process) runs the moment the real call returns."""
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        out = real(*args, **kwargs)
        crash()
        return out

    patch(owner, name, wrapped)


def main(step: str, workbook: str, settings: str, now: str) -> int:
    crash_after(*STEPS[step])
    when = datetime.fromisoformat(now)
    ctx, _ = context_at(json.loads(settings), Path(workbook), when)
    dest, = destinations(ctx.settings)
    post_module.post_digest(ctx, dest, week_start=report_week(when, dest.timezone), now=when, sleep=lambda _s: None)
    return 3  # never reached: the step always happens


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
