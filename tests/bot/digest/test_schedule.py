"""Digest timing: the real APScheduler cron trigger in each destination's timezone, across daylight-saving changes."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings, strategies as st

from bot.digest.schedule import (
    DAYS,
    Destination,
    destinations,
    last_fire,
    last_full_week,
    parse_segment,
    report_week,
    trigger_for,
    week_label,
)
from config import ConfigError, parse_settings

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def dest(day="mon", time="09:00", tz="Europe/Berlin"):
    return Destination("C1", "C1", None, tz, day, time)


def fires(trigger, start: datetime, count: int) -> list[datetime]:
    out, prev, now = [], None, start
    for _ in range(count):
        nxt = trigger.get_next_fire_time(prev, now)
        out.append(nxt)
        prev, now = nxt, nxt
    return out


def test_monday_nine_local_holds_across_both_berlin_changes():
    t = trigger_for(dest())
    spring = fires(t, datetime(2026, 3, 20, tzinfo=UTC), 3)
    assert [f.astimezone(UTC) for f in spring] == [
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),  # CET, UTC+1
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # CEST from 29 March, UTC+2
        datetime(2026, 4, 6, 7, 0, tzinfo=UTC),
    ]
    autumn = fires(t, datetime(2026, 10, 16, tzinfo=UTC), 2)
    assert [f.astimezone(UTC) for f in autumn] == [
        datetime(2026, 10, 19, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),  # CET again from 25 October
    ]
    for f in spring + autumn:
        local = f.astimezone(BERLIN)
        assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 9, 0)


def test_a_send_time_inside_the_changeover_hour_neither_skips_nor_doubles():
    t = trigger_for(dest(day="sun", time="02:30"))
    spring = fires(t, datetime(2026, 3, 22, 3, 0, tzinfo=BERLIN), 2)
    # 02:30 does not exist on 29 March; the digest still goes that day (01:30 UTC = 03:30 CEST), once.
    assert [f.astimezone(UTC) for f in spring] == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 4, 5, 0, 30, tzinfo=UTC)]
    autumn = fires(t, datetime(2026, 10, 18, 3, 0, tzinfo=BERLIN), 2)
    assert [f.astimezone(UTC) for f in autumn] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 11, 1, 1, 30, tzinfo=UTC)]


def test_plain_cron_trigger_would_double_and_skip():
    """Why WeeklyTrigger exists: APScheduler's CronTrigger fires at both 02:30s on 25 October in Berlin, and skips
    Monday 5 October 00:00 in Sydney (the first Monday after the clocks went forward)."""
    plain = CronTrigger(day_of_week="sun", hour=2, minute=30, timezone=BERLIN)
    both = fires(plain, datetime(2026, 10, 18, 3, 0, tzinfo=BERLIN), 2)
    assert [f.astimezone(BERLIN).date() for f in both] == [date(2026, 10, 25), date(2026, 10, 25)]
    sydney = ZoneInfo("Australia/Sydney")
    start = datetime(2026, 9, 28, tzinfo=sydney)
    plain = CronTrigger(day_of_week="mon", hour=0, minute=0, timezone=sydney)
    assert fires(plain, start, 2)[1].date() == date(2026, 10, 12)
    ours = fires(trigger_for(dest(day="mon", time="00:00", tz="Australia/Sydney")), start, 2)
    assert [f.astimezone(sydney).strftime("%Y-%m-%d %H:%M %z") for f in ours] == ["2026-09-28 00:00 +1000", "2026-10-05 00:00 +1100"]


def test_trigger_survives_pickling_and_replays_missed_runs():
    import pickle

    t = trigger_for(dest())
    again = pickle.loads(pickle.dumps(t))
    assert repr(again) == repr(t) and str(again) == "weekly[mon 09:00 Europe/Berlin]"
    # APScheduler asks with an old previous fire time to list missed runs: they come back in order
    prev = datetime(2026, 3, 16, 9, tzinfo=BERLIN)
    now = datetime(2026, 4, 1, tzinfo=UTC)
    missed = []
    while (nxt := again.get_next_fire_time(prev, now)) is not None and nxt <= now:
        missed.append(nxt.astimezone(UTC))
        prev = nxt
    assert missed == [datetime(2026, 3, 23, 8, tzinfo=UTC), datetime(2026, 3, 30, 7, tzinfo=UTC)]


@settings(max_examples=40, deadline=None)
@given(
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Shanghai", "UTC", "America/Santiago"]),
    day=st.sampled_from(DAYS),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 59]),
    offset_days=st.integers(0, 364),
)
def test_exactly_one_fire_per_week_on_the_configured_local_day(tz, day, hour, minute, offset_days):
    t = trigger_for(dest(day=day, time=f"{hour:02d}:{minute:02d}", tz=tz))
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=offset_days)
    seen = fires(t, start, 6)
    zone = ZoneInfo(tz)
    days = [f.astimezone(zone).date() for f in seen]
    assert all(d.strftime("%a").lower() == day for d in days)
    assert [(b - a).days for a, b in zip(days, days[1:])] == [7] * 5
    for f in seen:
        local = f.astimezone(zone)
        if (local.hour, local.minute) != (hour, minute):
            # only when that wall-clock time does not exist that day (clocks jumped over it)
            naive = datetime(local.year, local.month, local.day, hour, minute)
            roundtrip = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
            assert (roundtrip.hour, roundtrip.minute) != (hour, minute)


def test_last_fire_and_the_week_it_reports():
    t = trigger_for(dest())
    now = datetime(2026, 3, 30, 8, 30, tzinfo=UTC)  # 10:30 CEST on the Monday after the change
    fire = last_fire(t, now)
    assert fire.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert report_week(fire, "Europe/Berlin") == date(2026, 3, 23)
    assert week_label(date(2026, 3, 23)) == "2026-W13"
    assert last_fire(t, datetime(2026, 3, 30, 6, 59, tzinfo=UTC)).astimezone(UTC) == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    sunday = last_fire(trigger_for(dest(day="sun", time="18:00")), now)
    assert report_week(sunday, "Europe/Berlin") == date(2026, 3, 16)  # the week containing that Sunday is not over
    # the local day decides: 23:30 UTC Sunday is already Monday in Berlin
    assert last_full_week(datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "Europe/Berlin") == date(2026, 3, 23)
    assert last_full_week(datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "UTC") == date(2026, 3, 16)


def test_destinations_take_channel_overrides_and_defaults():
    s = parse_settings(
        {
            "timezone": "Asia/Shanghai",
            "digest": {
                "day": "tue",
                "time": "08:15",
                "webhook_url_env": "PULSE_WEBHOOK",
                "channels": [
                    {"channel": "C1"},
                    {"channel": "C2", "segment": "region=North", "timezone": "Europe/Berlin", "day": "Friday", "time": "17:00"},
                ],
            },
        }
    )
    d1, d2, hook = destinations(s)
    assert (d1.timezone, d1.day, d1.time, d1.segment) == ("Asia/Shanghai", "tue", "08:15", None)
    assert (d2.timezone, d2.day, d2.time, d2.segment) == ("Europe/Berlin", "fri", "17:00", "region=North")
    assert (hook.key, hook.channel, hook.webhook_env) == ("webhook", None, "PULSE_WEBHOOK")
    assert repr(trigger_for(d2)) == "<WeeklyTrigger (day='fri', time='17:00', timezone='Europe/Berlin')>"


@pytest.mark.parametrize(
    "channel, message",
    [
        ({"channel": "C1", "day": "someday"}, "day 'som' must be one of"),
        ({"channel": "C1", "time": "25:00"}, "time '25:00' is not HH:MM"),
        ({"channel": "C1", "timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"channel": "C1", "segment": "North"}, "must look like dimension=value"),
    ],
)
def test_bad_destination_settings_are_named(channel, message):
    with pytest.raises(ConfigError, match=message):
        destinations(parse_settings({"digest": {"channels": [channel]}}))


def test_same_channel_twice_is_an_error():
    with pytest.raises(ConfigError, match="same channel twice"):
        destinations(parse_settings({"digest": {"channels": [{"channel": "C1"}, {"channel": "C1"}]}}))


def test_parse_segment():
    assert parse_segment(" region = North ") == {"region": "North"}
    assert parse_segment(None) == {}
