"""Two real `pulse serve` processes on one PostgreSQL state: one scheduler leader at a time; the database restarted
while the leader is mid-post, then the leader killed -9 mid-post — each digest still reaches Slack exactly once.

The two processes are started once for the module (their start-up is the expensive part) and the tests run in
order as one story: the Slack fake holds the first two `chat.postMessage` answers (the message is taken at once,
the answer comes later), so the leader is caught mid-post, as a slow Slack or a dying host would leave it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from bot.digest.ledger import Entry
from bot.state_pg import PgLedger, migrate
from tests.bot.digest.conftest import CUSTOMERS, ORDERS, RESPONSES
from tests.bot.digest.test_exactly_once import charts
from tests.fakes.slack_api import FakeSlackAPI, wait_for
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers
from tests.postgres import _free_port
from tests.workbooks import write_source_workbook

ROOT = Path(__file__).resolve().parents[2]
POLL = 0.3  # [state] leader_poll_seconds: how often a standby tries the lock and the leader checks its session
FIRST_HOLD = 2.0  # seconds Slack holds the first chat.postMessage answer (C1, during the database restart)
SECOND_HOLD = 90.0  # … and the second (C2, until the leader is killed)


@dataclass
class Instance:
    proc: subprocess.Popen
    url: str

    def health(self) -> dict | None:
        try:
            return requests.get(f"{self.url}/healthz", timeout=10).json()
        except requests.RequestException:
            return None


@dataclass
class Pair:
    instances: list[Instance]
    slack: FakeSlackAPI
    state: str
    weeks: dict[str, str]

    def live(self) -> list[Instance]:
        return [i for i in self.instances if i.proc.poll() is None]

    def leaders(self) -> list[Instance]:
        return [i for i in self.live() if (i.health() or {}).get("scheduler") == "leader"]

    def entry(self, channel: str) -> Entry | None:
        return PgLedger(self.state).get(channel, self.weeks[channel])


@pytest.fixture(scope="module")
def pair(postgres_server, tmp_path_factory):
    """Two `pulse serve` instances sharing only the PostgreSQL state; C1 and C2 have a digest due 2 minutes ago."""
    from bot.digest.schedule import report_week, week_label

    tmp = tmp_path_factory.mktemp("leader")
    state = postgres_server.new_database()
    migrate(state)
    due = (datetime.now(UTC) - timedelta(minutes=2)).replace(second=0, microsecond=0)
    ledger = PgLedger(state)
    for channel in ("C1", "C2"):  # the schedules existed long before the run that is due
        ledger.installed_at(channel, due - timedelta(days=30))
    week = week_label(report_week(due, "UTC"))
    slot = f'timezone = "UTC", day = "{due.strftime("%a").lower()}", time = "{due.strftime("%H:%M")}"'
    config = tmp / "pulse.toml"
    config.write_text(
        f'[state]\nleader_poll_seconds = {POLL}\n[surveys]\nmin_n = 1\n[digest]\nchannels = [\n'
        f'  {{ channel = "C1", {slot} }},\n  {{ channel = "C2", {slot} }},\n]\n'
    )
    shift = report_week(due, "UTC") - date(2026, 3, 16)  # the small workbook's W12 rows moved to the week reported
    tabs = {name: [rows[0]] + [[v + shift if isinstance(v, datetime) else v for v in row] for row in rows[1:]]
            for name, rows in (("Customers", CUSTOMERS), ("Orders", ORDERS), ("Responses", RESPONSES))}
    workbook = write_source_workbook(tmp / "small.xlsx", tabs)
    slack = FakeSlackAPI().start()
    slack.slow("chat.postMessage", seconds=FIRST_HOLD)
    slack.slow("chat.postMessage", seconds=SECOND_HOLD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSE_"))}
    env |= {"PULSE_STATE_URL": state, "SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.base_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    instances = []
    for n in range(2):
        port = _free_port()
        args = [sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "--workbook", str(workbook),
                "--host", "127.0.0.1", "--port", str(port)]
        log = open(tmp / f"serve{n}.log", "w")  # noqa: SIM115 - the child writes it until the end of the module
        proc = subprocess.Popen(args, cwd=ROOT, env=env | {"PULSE_STATE_DIR": str(tmp / f"state{n}")},
                                stdout=log, stderr=subprocess.STDOUT)
        instances.append(Instance(proc, f"http://127.0.0.1:{port}"))
    pair = Pair(instances, slack, state, {"C1": week, "C2": week})
    try:
        yield pair
    finally:
        for i in instances:
            if i.proc.poll() is None:
                i.proc.terminate()
        for i in instances:
            try:
                i.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                i.proc.kill()
        slack.stop()
        for n in range(2):
            print(f"--- serve{n}.log ---\n" + (tmp / f"serve{n}.log").read_text()[-3000:])


def posts_to(slack: FakeSlackAPI, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def test_the_database_restarted_while_the_leader_posts_loses_and_doubles_nothing(pair, postgres_server):
    # Both instances up; exactly one leads, and its start-up catch-up starts posting C1 (Slack holds the answer).
    wait_for(lambda: all(i.health() for i in pair.live()) and len(pair.live()) == 2, timeout=180, interval=0.2,
             what="both instances up")
    first, = wait_for(lambda: posts_to(pair.slack, "C1"), timeout=120, what="the C1 digest sent")
    assert len(pair.leaders()) == 1
    postgres_server.restart()  # every session is cut: the leader lock and the C1 claim lock with them
    # Someone leads again and finishes C1 from the channel (the message is there: not posted again), then posts C2.
    wait_for(lambda: (pair.entry("C1") or None) and pair.entry("C1").status == "posted", timeout=120, what="C1 posted")
    wait_for(lambda: posts_to(pair.slack, "C2"), timeout=120, what="the C2 digest sent")
    # The first leader's held answer came back after the restart: it lost its claim, so it adds nothing.
    time.sleep(max(0.0, first.at + FIRST_HOLD + 1.0 - time.monotonic()))
    assert len(posts_to(pair.slack, "C1")) == 1 and len(charts(pair.slack, "C1")) == 1  # 1 message, 1 chart
    c1 = pair.entry("C1")
    assert (c1.ts, c1.file_id) == (pair.slack.history["C1"][0]["ts"], charts(pair.slack, "C1")[0]["id"])
    assert len(pair.leaders()) == 1 and all(i.health() for i in pair.instances)
    # Both instances reach the restarted database again: a fresh signed Slack request is accepted by each.
    for n, i in enumerate(pair.instances):
        body = json.dumps({"type": "url_verification", "challenge": f"c{n}", "token": "t"})
        headers = signed_headers(body) | {"Content-Type": "application/json"}
        answer = requests.post(f"{i.url}/slack/events", data=body.encode(), headers=headers, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"challenge": f"c{n}"}, answer.text


def test_the_leader_killed_mid_post_is_replaced_and_the_missed_digest_posted_once(pair):
    # The leader is now mid-post of C2 (Slack holds the answer for 90 s): kill -9 it.
    leader, = pair.leaders()
    assert len(posts_to(pair.slack, "C2")) == 1 and pair.entry("C2").status == "posting"
    killed_at = time.monotonic()
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(timeout=10)
    survivor, = pair.live()
    wait_for(lambda: (survivor.health() or {}).get("scheduler") == "leader", timeout=60, what="the takeover")
    takeover = time.monotonic() - killed_at
    wait_for(lambda: pair.entry("C2").status == "posted", timeout=120, what="C2 posted by the new leader")
    assert takeover < 60, takeover  # within a minute (here: the next poll, ~0.3 s)
    assert len(posts_to(pair.slack, "C2")) == 1 and len(charts(pair.slack, "C2")) == 1  # 1 message, 1 chart
    assert len(posts_to(pair.slack, "C1")) == 1 and len(charts(pair.slack, "C1")) == 1  # C1 untouched
    assert pair.entry("C2").ts == pair.slack.history["C2"][0]["ts"]
