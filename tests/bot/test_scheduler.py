"""The scheduler: persistent jobs that survive restarts unchanged, one scheduler per state dir, start-up catch-up
(posted once within the grace window, else logged as skipped), and the job functions themselves."""

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import scheduler as sched
from bot.digest.ledger import Ledger
from bot.scheduler import catch_up, digest_job, refresh_job, register_context, start_scheduler
from tests.bot.digest.conftest import context_at, demo_path, small_path, utc  # noqa: F401 - fixtures
from tests.fakes.slack_api import wait_for

BERLIN_MONDAY = {"digest": {"channels": [{"channel": "C1", "timezone": "Europe/Berlin", "day": "mon", "time": "09:00"}]}}


@pytest.fixture
def stop_all():
    running = []
    yield running
    for s in running:
        s.shutdown(wait=True)


def boot(ctx, running, **kwargs):
    s = start_scheduler(ctx, **kwargs)
    assert s is not None
    running.append(s)
    return s


def log_rows(ctx) -> list[list]:
    return (ctx.workbook.read_owned("Pulse Log") or [[]])[1:]


def no_sleep(_seconds: float) -> None:
    pass


def test_restart_after_a_missed_run_posts_once_and_never_again(demo_path, tmp_path, slack, stop_all):  # noqa: F811
    import shutil

    path = shutil.copy(demo_path, tmp_path / "demo.xlsx")
    ctx, clock = context_at(BERLIN_MONDAY, path, utc(2026, 3, 20, 12))
    s = boot(ctx, stop_all, catch_up_now=False)
    assert s.jobs == {"digest:C1": "added", "refresh": "added"}
    assert [c.outcome for c in catch_up(ctx, sleep=no_sleep)] == ["none"]
    s.shutdown()

    # down over the weekend; back at 10:30 CEST on Monday 30 March, the first Monday after the clocks changed
    clock.now = utc(2026, 3, 30, 8, 30)
    s = boot(ctx, stop_all, catch_up_now=False)
    assert s.jobs == {"digest:C1": "kept", "refresh": "kept"}
    posted, = catch_up(ctx, sleep=no_sleep)
    assert (posted.week, posted.outcome) == ("2026-W13", "posted")
    message, = slack.messages("C1")
    assert message.json_param("blocks")[0]["text"]["text"] == "Weekly pulse — 2026-W13"
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    s.shutdown()

    for later in (utc(2026, 3, 30, 9), utc(2026, 3, 30, 12, 59)):  # two more restarts the same week
        clock.now = later
        s = boot(ctx, stop_all, catch_up_now=False)
        again, = catch_up(ctx, sleep=no_sleep)
        assert (again.week, again.outcome, again.detail) == ("2026-W13", "none", "posted")
        s.shutdown()
    assert len(slack.messages("C1")) == 1

    # the next Monday's run is missed by more than the 6 h grace window: logged as skipped, once
    clock.now = utc(2026, 4, 7, 10)
    for _ in range(2):
        s = boot(ctx, stop_all, catch_up_now=False)
        result = catch_up(ctx, sleep=no_sleep)
        s.shutdown()
    assert Ledger().get("C1", "2026-W14").status == "skipped"
    skipped = [r for r in log_rows(ctx) if r[3] == "skipped"]
    assert len(skipped) == 1 and "2026-W14" in skipped[0][2] and "27.0 h late" in skipped[0][2]
    assert result[0].outcome == "none" and len(slack.messages("C1")) == 1


def test_catch_up_ignores_runs_from_before_the_schedule_existed(small_path, slack):  # noqa: F811
    ctx, clock = context_at(BERLIN_MONDAY, small_path, utc(2026, 3, 30, 8, 30))
    assert [c.outcome for c in catch_up(ctx, sleep=no_sleep)] == ["none"]
    assert slack.messages() == [] and Ledger().entries() == []


def test_jobs_are_stored_once_and_updated_only_when_the_config_changes(small_path, stop_all):  # noqa: F811
    ctx, _ = context_at(BERLIN_MONDAY, small_path, utc(2026, 3, 20, 12))
    s = boot(ctx, stop_all)
    job = s.scheduler.get_job("digest:C1")
    first_run = job.next_run_time
    assert job.func_ref == "bot.scheduler:digest_job" and job.args == ("default", "C1")
    assert job.misfire_grace_time == 360 * 60 and job.coalesce is True
    assert str(job.trigger.timezone) == "Europe/Berlin"
    local = first_run.astimezone(job.trigger.timezone)
    assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 9, 0)
    s.shutdown()

    s = boot(ctx, stop_all)
    assert s.jobs["digest:C1"] == "kept" and s.scheduler.get_job("digest:C1").next_run_time == first_run
    s.shutdown()

    ctx.settings.digest.channels[0].time = "10:15"
    ctx.settings.digest.misfire_grace_minutes = 30
    s = boot(ctx, stop_all)
    job = s.scheduler.get_job("digest:C1")
    assert s.jobs["digest:C1"] == "updated" and job.misfire_grace_time == 30 * 60
    assert job.next_run_time.astimezone(job.trigger.timezone).strftime("%a %H:%M") == "Mon 10:15"
    s.shutdown()

    ctx.settings.digest.channels = []
    s = boot(ctx, stop_all)
    assert s.jobs == {"digest:C1": "removed", "refresh": "kept"}


def test_one_scheduler_per_deployment(small_path, stop_all):  # noqa: F811
    ctx, _ = context_at(BERLIN_MONDAY, small_path, utc(2026, 3, 20, 12))
    first = boot(ctx, stop_all)
    assert start_scheduler(ctx) is None
    first.shutdown()
    assert boot(ctx, stop_all) is not None


def test_apscheduler_runs_a_job_missed_while_down_once_on_restart(small_path, slack, stop_all):  # noqa: F811
    """The real scheduler and clock: the stored next run lies in the past (the process was down), within the grace."""
    from bot.context import build_context
    from config import parse_settings

    due = datetime.now(timezone.utc) - timedelta(minutes=3)
    settings = {"digest": {"channels": [{"channel": "C1", "timezone": "UTC", "day": due.strftime("%a").lower(), "time": due.strftime("%H:%M")}]}}
    ctx = build_context(parse_settings(settings), workbook=str(small_path))
    s = boot(ctx, stop_all, catch_up_now=False)
    s.shutdown()
    move_stored_run(ctx, "digest:C1", due)  # as if the process had been down at its run time
    assert slack.messages() == []

    s = boot(ctx, stop_all)
    wait_for(lambda: slack.messages("C1"), timeout=30, what="the missed digest")
    wait_for(lambda: (Ledger().get("C1", _week(due)) or None) and Ledger().get("C1", _week(due)).status == "posted", what="ledger")
    assert s.scheduler.get_job("digest:C1").next_run_time > datetime.now(timezone.utc) + timedelta(days=6)
    s.shutdown()
    s = boot(ctx, stop_all)
    s.shutdown(wait=True)
    assert len(slack.messages("C1")) == 1


def move_stored_run(ctx, job_id: str, when: datetime) -> None:
    """Edit the persisted job directly, with no scheduler running (as a job store left behind by a stopped process)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from config import state_dir

    store = SQLAlchemyJobStore(url=f"sqlite:///{state_dir() / sched.JOBSTORE_FILE}")
    store.start(sched.build_scheduler(ctx), "default")
    job = store.lookup_job(job_id)
    job.next_run_time = when
    store.update_job(job)
    store.shutdown()


def _week(fire: datetime) -> str:
    from bot.digest.schedule import report_week, week_label

    return week_label(report_week(fire, "UTC"))


def test_digest_job_reports_the_week_before_its_fire_time(small_path, slack):  # noqa: F811
    ctx, _ = context_at(BERLIN_MONDAY, small_path, utc(2026, 3, 23, 8, 5))  # 09:05 CET, Monday 23 March
    register_context(ctx, "test-digest")
    result = digest_job("test-digest", "C1")
    assert (result.week, result.outcome) == ("2026-W12", "posted")
    assert digest_job("test-digest", "C9") is None  # no longer configured
    with pytest.raises(LookupError):
        digest_job("not-registered", "C1")


def test_refresh_job_writes_the_summary_tabs_and_logs(small_path):  # noqa: F811
    ctx, _ = context_at({}, small_path, utc(2026, 3, 25, 9))
    register_context(ctx, "test-refresh")
    refresh_job("test-refresh")
    assert ctx.workbook.read_owned("Pulse Summary") is not None
    assert any(r[1] == "refresh" and r[2].startswith("scheduled") for r in log_rows(ctx))


def test_refresh_job_on_an_unreadable_workbook_logs_one_line_and_keeps_the_tabs(small_path, caplog):  # noqa: F811
    ctx, _ = context_at({}, small_path, utc(2026, 3, 25, 9))
    register_context(ctx, "test-refresh-broken")
    refresh_job("test-refresh-broken")
    Path(ctx.workbook.path).write_bytes(b"not a workbook any more")
    refresh_job("test-refresh-broken")
    failed = [r for r in caplog.records if r.getMessage().startswith("scheduled refresh failed")]
    assert len(failed) == 1 and failed[0].exc_info is None
    assert "could not read" in failed[0].getMessage()
    assert failed[0].getMessage().endswith("— the summary tabs keep their previous contents")


def test_module_exposes_the_serve_hook():
    assert sched.start is start_scheduler


def test_pulse_scheduler_runs_until_stopped_and_refuses_a_second_instance(small_path, stop_all, capsys):  # noqa: F811
    import threading

    from bot.scheduler import run_scheduler_forever

    ctx, _ = context_at(BERLIN_MONDAY, small_path, utc(2026, 3, 20, 12))
    holder = boot(ctx, stop_all, catch_up_now=False)
    stop = threading.Event()
    stop.set()
    assert run_scheduler_forever(ctx, stop) == 1
    assert "another scheduler is already running" in capsys.readouterr().err
    holder.shutdown()
    assert run_scheduler_forever(ctx, stop) == 0
    out = capsys.readouterr().out
    assert "digest:C1: next run" in out and "refresh: next run" in out


def test_a_scheduled_digest_reads_a_stale_snapshot_before_posting(small_path, slack):  # noqa: F811
    import json

    from tests.workbooks import append_rows

    ctx, _ = context_at(BERLIN_MONDAY, small_path, utc(2026, 3, 23, 8, 5))
    ctx.snapshot()  # the server answered a question earlier: this snapshot is cached
    append_rows(small_path, "Orders", [["C4", datetime(2026, 3, 18), 1000.0]])  # then the sheet was edited
    register_context(ctx, "test-fresh-digest")
    result = digest_job("test-fresh-digest", "C1")
    assert result.outcome == "posted"
    posted = json.dumps(slack.messages("C1")[-1].params, ensure_ascii=False)
    assert "$1,150.00" in posted  # 2026-W12 revenue: 100 + 50 + 1000 (the edit), not the cached 150


def test_the_scheduler_lock_file_is_owner_only(small_path):  # noqa: F811
    import stat

    from config import state_dir

    lock = sched.acquire_lock()
    try:
        assert stat.S_IMODE((state_dir() / sched.LOCK_FILE).stat().st_mode) == 0o600
    finally:
        lock.close()
