"""Alert state heals: a damaged alerts.json is moved aside and rebuilt without re-posting a standing alert, and
alerts keep working; a state file that cannot be written does not make every refresh post again; it is 0600."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from bot.alerts.run import evaluate_and_notify, slack_poster
from bot.alerts.state import state_path
from sheets.local import LocalWorkbook
from tests.bot.alerts.test_alerts import START, Clock, alert_posts, answers, context, workbook  # noqa: F401 - fixture
from tests.workbooks import append_rows


def fire(path, clock) -> None:
    """Detractors pour in: the week's NPS drops to (20 − 44) / 80 = −30, below the target 30, and the alert fires."""
    append_rows(path, "Responses", answers(START - timedelta(days=1), [2] * 40))
    events = evaluate_and_notify(context(path, clock), slack_poster())
    assert [(e.kind, e.posted) for e in events] == [("fired", True)]


def recover(path, clock) -> list:
    """Ten days on, 40 promoters and no detractors in the window: the condition stops holding."""
    clock.advance(10)
    append_rows(path, "Responses", answers(clock.now.date() - timedelta(days=2), [10] * 40))
    return evaluate_and_notify(context(path, clock), slack_poster())


def log_rows(path) -> list[list]:
    return (LocalWorkbook(path).read_owned("Pulse Log") or [[]])[1:]


@pytest.mark.parametrize("damage", [b"{\"NPS below", b"\x00\xff garbage", b"", b"[1, 2]", b'{"NPS below target": "yes"}'])
def test_a_damaged_state_neither_reposts_nor_stops_the_alerts(damage, workbook, slack):  # noqa: F811
    clock = Clock(START)
    fire(workbook, clock)
    state_path().write_bytes(damage)

    assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []  # still below target: no repeat
    assert len(alert_posts(slack)) == 1
    aside, = state_path().parent.glob("alerts.json.damaged-*")
    assert aside.read_bytes() == damage
    rows = log_rows(workbook)
    assert [r[1] for r in rows] == ["alert fired", "state", "alert state rebuilt"]
    assert "alert state alerts.json was damaged" in rows[1][2] and rows[2][3] == "holds now: not re-posted"

    events = recover(workbook, clock)  # the alerts did not stop: the recovery is posted, once
    assert [(e.kind, e.posted) for e in events] == [("recovered", True)]
    assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []
    assert len(alert_posts(slack)) == 2


def test_an_unwritable_state_does_not_repost_on_every_refresh(workbook, slack, monkeypatch):  # noqa: F811
    real_replace = os.replace

    def refuse(src, dst, *args, **kwargs):  # the disk refuses to (re)write alerts.json
        if str(dst) == str(state_path()):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refuse)
    clock = Clock(START)
    fire(workbook, clock)
    for _ in range(3):  # three more refreshes while the condition holds
        assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []
    assert len(alert_posts(slack)) == 1
    state_rows = [r for r in log_rows(workbook) if r[1] == "state"]
    assert len(state_rows) == 1 and "cannot be written" in state_rows[0][2]
    assert [(e.kind, e.posted) for e in recover(workbook, clock)] == [("recovered", True)]


def test_the_state_file_is_private(workbook, slack):  # noqa: F811
    os.umask(0o022)
    fire(workbook, Clock(START))
    assert stat.S_IMODE(state_path().stat().st_mode) == 0o600
