"""The digest ledger in PostgreSQL (`[state] url`): the same interface and rules as the file ledger, shared by
instances: a unique key on (channel, week) so a second claim fails in the database, and a claim lock that dies
with its holder's connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.cli import main
from bot.digest.ledger import Ledger, open_ledger
from bot.state_pg import MIGRATIONS, PgLedger, _HELD, _held_guard, migrate
from config import parse_settings
from config.settings import StateUnavailable
from tests.bot.digest.conftest import utc
from tests.bot.digest.test_exactly_once import FIRE, SETTINGS, charts
from tests.bot.digest.test_ledger import claim_race

ROOT = Path(__file__).resolve().parents[3]
NOW = utc(2026, 3, 30, 9)


def test_migrate_is_idempotent_and_unmigrated_state_is_refused(postgres_server, monkeypatch, capsys):
    url = postgres_server.new_database()
    with pytest.raises(StateUnavailable, match="run `pulse migrate`"):
        PgLedger(url)
    monkeypatch.setenv("PULSE_STATE_URL", url)
    assert main(["migrate"]) == 0
    versions = [v for v, _name, _sql in MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1))  # numbered in order, none skipped
    assert capsys.readouterr().out.strip() == f"state schema: applied {', '.join(map(str, versions))}; now at version {versions[-1]}"
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == f"state schema: up to date (version {versions[-1]})"
    assert migrate(url) == []
    assert isinstance(open_ledger(parse_settings({})), PgLedger)


def test_files_stay_the_default(monkeypatch, capsys):
    monkeypatch.delenv("PULSE_STATE_URL", raising=False)
    assert type(open_ledger(parse_settings({}))) is Ledger
    assert main(["migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_state_url_must_be_postgresql():
    from config import ConfigError

    with pytest.raises(ConfigError, match="state.url"):
        parse_settings({"state": {"url": "sqlite:///x.db"}})


def test_the_database_itself_refuses_a_second_row_for_a_channel_and_week(state_url):
    ledger = PgLedger(state_url)
    assert ledger.claim("C1", "2026-W13", NOW) is not None
    with psycopg.connect(state_url) as db, pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("INSERT INTO pulse_digests (channel, week, status) VALUES ('C1', '2026-W13', 'posting')")
    ledger.release("C1", "2026-W13")


def test_claim_post_fail_skip_follow_the_file_ledger_rules(state_url):
    a, b = PgLedger(state_url), PgLedger(state_url)
    entry = a.claim("C1", "2026-W13", NOW)
    assert entry is not None and entry.status == "posting" and entry.claimed_at == NOW
    assert b.claim("C1", "2026-W13", NOW) is None  # held by a live claim
    a.mark_sent("C1", "2026-W13", NOW)
    a.count_attempt("C1", "2026-W13")
    a.mark_failed("C1", "2026-W13", NOW, "boom")
    again = b.claim("C1", "2026-W13", NOW + timedelta(minutes=1))  # a failed week is claimed again, sent_at kept
    assert again is not None and again.sent_at == NOW and again.attempts == 1
    b.record_message("C1", "2026-W13", "111.222")
    b.mark_posted("C1", "2026-W13", NOW, ts=None, file_id="F1")
    done = a.get("C1", "2026-W13")
    assert (done.status, done.ts, done.file_id) == ("posted", "111.222", "F1")
    assert a.claim("C1", "2026-W13", NOW) is None
    assert a.last_posted("C1").week == "2026-W13" and a.last_posted("C1", before_week="2026-W13") is None
    assert a.mark_skipped("C1", "2026-W14", NOW, "missed") is True
    assert b.mark_skipped("C1", "2026-W14", NOW, "missed") is False
    assert b.claim("C1", "2026-W14", NOW) is None
    assert [e.week for e in a.entries("C1")] == ["2026-W13", "2026-W14"]
    assert a.installed_at("C1", NOW) == NOW
    assert b.installed_at("C1", NOW + timedelta(days=1)) == NOW  # the first instance's record stands


def test_a_claim_whose_holder_died_is_taken_over(state_url):
    """A dead process's connections close, which frees its claim lock: the `posting` row is claimed again."""
    ledger = PgLedger(state_url)
    assert ledger.claim("C1", "2026-W13", NOW) is not None
    with _held_guard:  # what the server sees when the holder is killed -9: its connection goes away
        _HELD.pop((state_url, "C1", "2026-W13")).close()
    taken = PgLedger(state_url).claim("C1", "2026-W13", NOW + timedelta(minutes=5))
    assert taken is not None and taken.claimed_at == NOW + timedelta(minutes=5)


def test_concurrent_claims_have_exactly_one_winner(state_url):
    assert claim_race(lambda: PgLedger(state_url), 6, NOW) == 1


def test_two_processes_posting_the_same_week_post_it_once(state_url, small_path, slack, tmp_path):
    """Two real processes (two instances) start posting the W12 digest at the same moment: one posts, one sees a duplicate."""
    procs = []
    for n in range(2):
        args = [sys.executable, "-m", "tests.bot.digest.post_child", str(tmp_path / f"ready{n}"), str(tmp_path / "go"),
                str(small_path), json.dumps(SETTINGS), FIRE.isoformat()]
        env = {**os.environ, "PULSE_STATE_DIR": str(tmp_path / f"state{n}")}  # no file shared: only PostgreSQL is
        procs.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{n}").exists() for n in range(2)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.02)
    (tmp_path / "go").touch()
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["duplicate", "posted"]
    message, = [m for m in slack.history["C1"] if "files" not in m]  # exactly one digest message …
    chart, = charts(slack, "C1")  # … and exactly one chart
    entry = PgLedger(state_url).get("C1", "2026-W12")
    assert (entry.status, entry.ts, entry.file_id) == ("posted", message["ts"], chart["id"])
