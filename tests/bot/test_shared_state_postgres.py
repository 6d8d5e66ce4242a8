"""With `[state] url` the rest of the per-instance state lives in PostgreSQL too: alert state (an alert evaluated by
two instances at once fires once and recovers once), rate-limit counters and Slack event ids (a retry that reaches
the other instance is answered once). Instances here are separate contexts in threads, sharing only the database."""

from __future__ import annotations

import shutil
import threading

from datetime import UTC, datetime

import psycopg
import pytest

from bot import pulse_log
from bot.alerts.run import AlertEvent, evaluate_and_notify, slack_poster
from bot.ratelimit import RateLimiter, rate_limiter
from bot.slack.runtime import EventDeduper, event_deduper
from bot.state_pg import PgRateLimiter
from config import parse_settings, state_dir
from tests.bot.alerts.test_alerts import START, Clock, alert_posts, answers, context, workbook  # noqa: F401
from sheets.local import LocalWorkbook
from tests.workbooks import append_rows, write_source_workbook


def race(contexts) -> list[AlertEvent]:
    """Every instance evaluates the alerts at the same moment; the events they report, together."""
    events: list[AlertEvent] = []
    start = threading.Barrier(len(contexts))

    def instance(ctx):
        start.wait()
        events.extend(evaluate_and_notify(ctx, slack_poster()))

    threads = [threading.Thread(target=instance, args=(ctx,)) for ctx in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return events


def test_an_alert_evaluated_by_two_instances_at_once_fires_once_and_recovers_once(state_url, workbook, tmp_path, slack):  # noqa: F811
    stage = [0]

    def instances() -> list:
        """Two instances reading the same data (each its own copy of the workbook as it is now)."""
        stage[0] += 1
        copies = [shutil.copy(workbook, tmp_path / f"stage{stage[0]}-{n}.xlsx") for n in range(2)]
        return [context(path, clock) for path in copies]

    clock = Clock(START)
    assert race(instances()) == []
    # 40 answers of 2 arrive: the week's NPS is (20 − 44) / 80 = −30, below the target 30
    append_rows(workbook, "Responses", answers(START - START.resolution, [2] * 40))
    fired = race(instances())
    assert [(e.kind, e.posted) for e in fired] == [("fired", True)] and len(alert_posts(slack)) == 1
    assert race(instances()) == []  # still below: neither instance repeats it
    clock.advance(10)  # the bad week leaves the 7-day window; 40 promoters arrive → NPS 100, recovered
    append_rows(workbook, "Responses", answers(clock.now.date() - 2 * START.resolution, [10] * 40))
    recovered = race(instances())
    assert [(e.kind, e.posted) for e in recovered] == [("recovered", True)] and len(alert_posts(slack)) == 2
    assert not (state_dir() / "alerts.json").exists()  # nothing of it in the files


def test_rate_limits_count_a_key_on_every_instance(state_url):
    now = [1_000.0]
    a, b = (PgRateLimiter(state_url, 3, "slack user", clock=lambda: now[0]) for _ in range(2))
    assert a.allow("U1") is None  # requests at 1000 (a), 1005 (b), 1010 (a): 3 in the minute, on either instance
    now[0] = 1_005.0
    assert b.allow("U1") is None
    now[0] = 1_010.0
    assert a.allow("U1") is None
    assert b.allow("U1") == 50.0  # the 4th waits until the 1st leaves the window: 60 − (1010 − 1000) = 50 s
    assert PgRateLimiter(state_url, 3, "addon spreadsheet", clock=lambda: now[0]).allow("U1") is None  # own count
    now[0] = 1_060.0  # the request at 1000 is 60 s old and leaves the window: 1005, 1010 and this one count
    assert b.allow("U1") is None
    assert a.allow("U1") == 5.0  # 60 − (1060 − 1005) = 5 s
    assert isinstance(rate_limiter(parse_settings({}), 3, "x"), PgRateLimiter)


def test_a_slack_event_retried_to_the_other_instance_is_answered_once(state_url):
    a, b = event_deduper(parse_settings({})), event_deduper(parse_settings({}))
    assert a.first_time("Ev0001") is True
    assert b.first_time("Ev0001") is False  # Slack's retry (X-Slack-Retry-Num: 1) reached the other instance
    assert b.first_time("Ev0002") is True


def test_without_a_state_url_limits_and_event_ids_stay_in_memory(monkeypatch):
    monkeypatch.delenv("PULSE_STATE_URL", raising=False)
    assert type(rate_limiter(parse_settings({}), 3, "x")) is RateLimiter
    assert type(event_deduper(parse_settings({}))._seen).__name__ == "MemorySeen"
    assert isinstance(event_deduper(parse_settings({})), EventDeduper)


def test_a_pulse_log_note_queued_by_one_instance_is_written_by_the_next_writer_of_another(state_url, tmp_path):
    pulse_log.share_queue(state_url)  # instance A (a standby: it never refreshes) moves a damaged cache aside
    pulse_log.defer_log("state", "the snapshot cache s.arrow was damaged; moved aside", "moved aside, rebuilt")
    assert pulse_log._deferred == []  # not kept in A's memory: in the database
    pulse_log.share_queue(state_url)  # instance B, another writer
    broken = LocalWorkbook(tmp_path / "missing" / "crm.xlsx")
    with pytest.raises(Exception):  # noqa: B017 - whatever the workbook raises, the note must stay queued
        pulse_log.flush_deferred(broken)
    book = LocalWorkbook(write_source_workbook(tmp_path / "crm.xlsx", {"Customers": [["customer_id"], ["C1"]]}))
    when = datetime(2026, 3, 23, 9, tzinfo=UTC)
    pulse_log.append_log(book, when, "digest", "C1 2026-W12", "posted")  # B's next entry carries A's note first
    rows = book.read_owned("Pulse Log")[1:]
    assert [r[1:] for r in rows] == [
        ["state", "the snapshot cache s.arrow was damaged; moved aside", "moved aside, rebuilt"],
        ["digest", "C1 2026-W12", "posted"],
    ]
    with psycopg.connect(state_url) as db:
        assert db.execute("SELECT count(*) FROM pulse_log_queue").fetchone() == (0,)  # written once, then gone
