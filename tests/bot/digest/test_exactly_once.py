"""Exactly-once delivery: a digest process killed -9 at any step and restarted within minutes, or a Slack that
answers after the client's timeout, still leaves exactly one digest message and one chart in the channel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.digest import ledger as ledger_module
from bot.digest.ledger import Ledger
from bot.digest.post import post_digest, slack_client
from bot.digest.schedule import destinations
from bot.scheduler import catch_up
from tests.bot.digest.conftest import context_at, utc
from tests.bot.digest.crash_child import STEPS, crash_after

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = {"digest": {"channels": [{"channel": "C1", "timezone": "UTC", "day": "mon", "time": "09:00"}]}, "surveys": {"min_n": 1}}
# Monday 23 March 2026 09:00 UTC: the scheduled run that reports 2026-W12 (16–22 March).
FIRE = utc(2026, 3, 23, 9)
W12 = FIRE.date() - timedelta(days=7)


def no_sleep(_seconds: float) -> None:
    pass


def charts(slack, channel: str) -> list[dict]:
    """The chart files shared in `channel` (each share is a message carrying `files`)."""
    return [f for m in slack.history.get(channel, []) for f in m.get("files", [])]


def run_until_killed(step: str, workbook: Path) -> subprocess.CompletedProcess:
    """Post the W12 digest in a real child process that is killed -9 right after `step`."""
    args = [sys.executable, "-m", "tests.bot.digest.crash_child", step, str(workbook), json.dumps(SETTINGS), FIRE.isoformat()]
    return subprocess.run(args, cwd=ROOT, env=dict(os.environ), capture_output=True, timeout=120)


class Killed(BaseException):
    """Stands for kill -9 in-process: nothing of ours catches it, so the ledger row stays exactly as the step left it."""


def crash() -> None:
    """Close every claim lock this process holds, as the kernel does for a dead process, then unwind."""
    with ledger_module._held_guard:
        for handle in ledger_module._HELD.values():
            handle.close()
        ledger_module._HELD.clear()
    raise Killed


def test_killed_by_sigkill_after_slack_took_the_message_then_restarted_posts_exactly_once(small_path, slack):
    Ledger().installed_at("C1", utc(2026, 3, 1))  # the schedule existed well before the run
    child = run_until_killed("posted", small_path)  # a real process, kill -9 right after chat.postMessage answered
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    restart_and_check(small_path, slack)


@pytest.mark.parametrize("step", list(STEPS))
def test_crash_at_any_step_and_restart_within_minutes_posts_exactly_once(step, small_path, slack):
    Ledger().installed_at("C1", utc(2026, 3, 1))
    ctx, _ = context_at(SETTINGS, small_path, FIRE)
    dest, = destinations(ctx.settings)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(Killed):
        crash_after(*STEPS[step], crash=crash, patch=patch.setattr)
        post_digest(ctx, dest, week_start=W12, now=FIRE, sleep=no_sleep)
    restart_and_check(small_path, slack)


def restart_and_check(workbook: Path, slack) -> None:
    """After a crash mid-post: a restart 5 minutes later posts what is missing, and leaves one message and one chart."""
    assert Ledger().get("C1", "2026-W12").status == "posting"  # the dead process's claim is left behind
    # Restart five minutes later (well inside the 6 h grace window).
    ctx, _ = context_at(SETTINGS, workbook, FIRE + timedelta(minutes=5))
    result, = catch_up(ctx, sleep=no_sleep)
    assert (result.week, result.outcome) == ("2026-W12", "posted"), result.detail
    message, = [m for m in slack.history["C1"] if "files" not in m]
    assert message["blocks"][0]["text"]["text"] == "Weekly pulse — 2026-W12"
    chart, = charts(slack, "C1")
    entry = Ledger().get("C1", "2026-W12")
    assert (entry.status, entry.ts, entry.file_id) == ("posted", message["ts"], chart["id"])

    again, = catch_up(ctx, sleep=no_sleep)  # and a second restart changes nothing
    assert (again.outcome, again.detail) == ("none", "posted")
    assert len(slack.history["C1"]) == 2


def test_slack_answering_after_the_client_timeout_posts_exactly_once(small_path, slack):
    ctx, _ = context_at(SETTINGS, small_path, FIRE)
    dest, = destinations(ctx.settings)
    # Slack takes every message at once but answers only after 1.5 s; the client gives up after 0.5 s.
    slack.slow("chat.postMessage", seconds=1.5, times=3)
    result = post_digest(ctx, dest, week_start=W12, client=slack_client(timeout=0.5), sleep=no_sleep)
    assert result.outcome == "posted", result.error
    message, = slack.messages("C1")
    assert result.ts == slack.history["C1"][0]["ts"]
    assert len([m for m in slack.history["C1"] if "files" not in m]) == 1
    assert len(charts(slack, "C1")) == 1
    assert Ledger().get("C1", "2026-W12").ts == slack.history["C1"][0]["ts"]


def test_an_unverifiable_retry_is_not_posted_blind(small_path, slack):
    ctx, _ = context_at(SETTINGS, small_path, FIRE)
    dest, = destinations(ctx.settings)
    slack.slow("chat.postMessage", seconds=1.5)
    slack.fail("conversations.history", error="missing_scope", times=5)
    result = post_digest(ctx, dest, week_start=W12, client=slack_client(timeout=0.5), sleep=no_sleep)
    assert result.outcome == "failed" and "channels:history" in result.error
    assert len(slack.messages("C1")) == 1  # the one Slack took while the client timed out; no blind second post
