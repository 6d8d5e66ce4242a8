"""One digest-posting process for the shared-state tests: waits for a start signal, then posts the week's digest.

    python -m tests.bot.digest.post_child <ready file> <go file> <workbook.xlsx> <settings json> <now iso>

Prints the PostResult outcome. The environment carries PULSE_STATE_URL, SLACK_BOT_TOKEN and SLACK_API_URL."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.digest.post import post_digest
from bot.digest.schedule import destinations, report_week
from tests.bot.digest.conftest import context_at


def main(ready: str, go: str, workbook: str, settings: str, now: str) -> int:
    when = datetime.fromisoformat(now)
    ctx, _ = context_at(json.loads(settings), Path(workbook), when)
    dest, = destinations(ctx.settings)
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    result = post_digest(ctx, dest, week_start=report_week(when, dest.timezone), now=when, sleep=lambda _s: None)
    print(result.outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
