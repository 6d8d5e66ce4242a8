"""Where and when digests go: one Destination per configured channel (plus the optional webhook), each with its
weekly trigger in its own timezone, and the arithmetic from a fire time to the ISO week it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger

from config import ConfigError, Settings, secret
from config.settings import segment_filter
from metrics.periods import week_start

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEBHOOK_KEY = "webhook"


@dataclass(frozen=True)
class Destination:
    """One digest target. `key` names it in the ledger and the job store: the channel id, or "webhook"."""

    key: str
    channel: str | None
    segment: str | None
    timezone: str
    day: str
    time: str
    webhook_env: str | None = None
    language: str = "en"  # the digest's language: the channel's own `language`, else the config's

    @property
    def hour(self) -> int:
        return int(self.time.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.time.split(":")[1])

    def webhook_url(self) -> str | None:
        return secret(self.webhook_env) if self.webhook_env else None


class WeeklyTrigger(BaseTrigger):
    """Fires once a week on a named day at a local wall-clock time in an explicit timezone, whatever the clocks do.

    APScheduler's CronTrigger gets daylight saving wrong both ways: it fires twice in the repeated hour when clocks go
    back (02:30 on 25 Oct 2026 in Europe/Berlin) and skips a whole week when a fire time follows a change of offset
    (Monday 00:00 in Australia/Sydney after 4 Oct 2026). This trigger works on local dates instead: exactly one fire
    per configured weekday. A time that does not exist that day (clocks jumped over it) fires at the same instant the
    old offset gives it, an hour later by the wall clock; an ambiguous time fires at its first occurrence.
    """

    def __init__(self, day: str, hour: int, minute: int, timezone: ZoneInfo):
        self.day = day
        self.hour = hour
        self.minute = minute
        self.timezone = timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = now if previous_fire_time is None else min(now, previous_fire_time + timedelta(microseconds=1))
        if previous_fire_time is not None and start <= previous_fire_time:
            start = previous_fire_time + timedelta(microseconds=1)
        first = _local_day(start, self.timezone)
        skip = _local_day(previous_fire_time, self.timezone) if previous_fire_time is not None else None
        weekday = DAYS.index(self.day)
        for offset in range(15):
            day = first + timedelta(days=offset)
            if day.weekday() != weekday or day == skip:
                continue
            fire = self.at(day)
            if fire >= start:
                return fire
        return None

    def at(self, day: date) -> datetime:
        """The instant of this trigger's wall-clock time on local `day` (fold 0: the earlier offset)."""
        wall = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=self.timezone)
        return wall.astimezone(UTC).astimezone(self.timezone)

    def __getstate__(self) -> dict:
        return {"version": 1, "day": self.day, "hour": self.hour, "minute": self.minute, "timezone": self.timezone.key}

    def __setstate__(self, state: dict) -> None:
        self.day, self.hour, self.minute = state["day"], state["hour"], state["minute"]
        self.timezone = ZoneInfo(state["timezone"])

    def __str__(self) -> str:
        return f"weekly[{self.day} {self.hour:02d}:{self.minute:02d} {self.timezone.key}]"

    def __repr__(self) -> str:
        time = f"{self.hour:02d}:{self.minute:02d}"
        return f"<WeeklyTrigger (day='{self.day}', time='{time}', timezone='{self.timezone.key}')>"


def _local_day(when: datetime, tz) -> date:
    return when.astimezone(UTC).astimezone(tz).date()


def parse_segment(text: str | None) -> dict[str, str]:
    """`region=North` → {"region": "North"}; empty for None. A malformed filter is a ConfigError."""
    try:
        return segment_filter(text)
    except ValueError as err:
        raise ConfigError(f"config: digest {err}") from None


def destinations(settings: Settings) -> list[Destination]:
    """Every digest destination from config, with the channel's own timezone/day/time or the defaults."""
    d = settings.digest
    out = []
    for c in d.channels:
        tz = c.timezone or settings.timezone
        day = (c.day or d.day).strip().lower()[:3]
        time = c.time or d.time
        _check(c.channel, tz, day, time)
        parse_segment(c.segment)
        out.append(
            Destination(c.channel, c.channel, c.segment, tz, day, time, language=c.language or settings.language)
        )
    if d.webhook_url_env:
        out.append(
            Destination(WEBHOOK_KEY, None, None, settings.timezone, d.day, d.time, d.webhook_url_env, settings.language)
        )
    keys = [x.key for x in out]
    if len(set(keys)) != len(keys):
        raise ConfigError("config: digest.channels lists the same channel twice; give each channel one entry")
    return out


def _check(channel: str, tz: str, day: str, time: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"config: digest channel {channel}: unknown timezone '{tz}'; use an IANA name such as Europe/Berlin"
        ) from None
    if day not in DAYS:
        raise ConfigError(f"config: digest channel {channel}: day '{day}' must be one of {', '.join(DAYS)}")
    parts = time.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ConfigError(f"config: digest channel {channel}: time '{time}' is not HH:MM, e.g. 09:00")


def trigger_for(dest: Destination) -> WeeklyTrigger:
    """The weekly trigger: day of week by name, hour, minute and an explicit timezone (never the host's)."""
    return WeeklyTrigger(dest.day, dest.hour, dest.minute, ZoneInfo(dest.timezone))


def last_fire(trigger: BaseTrigger, now: datetime, lookback: timedelta = timedelta(days=8)) -> datetime | None:
    """The latest fire time of a (weekly) trigger at or before `now`."""
    fire = trigger.get_next_fire_time(None, now.astimezone(UTC) - lookback)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(seconds=1))
    return latest


def report_week(fire: datetime, tz: str) -> date:
    """The Monday of the last full ISO week before the local day of `fire`: the week that digest reports."""
    return week_start(fire.astimezone(ZoneInfo(tz)).date()) - timedelta(days=7)


def last_full_week(now: datetime, tz: str) -> date:
    """The Monday of the last full ISO week as of `now` in `tz` (what `pulse digest --post` reports)."""
    return week_start(now.astimezone(ZoneInfo(tz)).date()) - timedelta(days=7)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"
