"""Where and when digests go: one Destination per configured channel (plus the optional webhook), each with its
weekly trigger in its own timezone, and the arithmetic from a fire time to the ISO week it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from config import ConfigError, Settings, secret
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

    @property
    def hour(self) -> int:
        return int(self.time.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.time.split(":")[1])

    def webhook_url(self) -> str | None:
        return secret(self.webhook_env) if self.webhook_env else None


class WeeklyTrigger(CronTrigger):
    """A cron trigger that fires at most once per local calendar day, so the repeated hour when clocks go
    back (e.g. 02:30 twice on the last Sunday of October in Europe/Berlin) cannot double a digest.
    A send time that does not exist on the spring-forward day fires once, an hour later in wall-clock terms."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        nxt = super().get_next_fire_time(previous_fire_time, now)
        if nxt is not None and previous_fire_time is not None and _local_day(nxt, self.timezone) == _local_day(
            previous_fire_time, self.timezone
        ):
            tomorrow = _local_day(nxt, self.timezone) + timedelta(days=1)
            midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=self.timezone)
            nxt = super().get_next_fire_time(nxt, midnight)
        return nxt


def _local_day(when: datetime, tz) -> date:
    return when.astimezone(timezone.utc).astimezone(tz).date()


def parse_segment(text: str | None) -> dict[str, str]:
    """`region=North` → {"region": "North"}; empty for None. A malformed filter is a ConfigError."""
    if not text:
        return {}
    dimension, sep, value = text.partition("=")
    if not sep or not dimension.strip() or not value.strip():
        raise ConfigError(f"config: digest segment '{text}' must look like dimension=value, e.g. region=North")
    return {dimension.strip(): value.strip()}


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
        out.append(Destination(c.channel, c.channel, c.segment, tz, day, time))
    if d.webhook_url_env:
        out.append(Destination(WEBHOOK_KEY, None, None, settings.timezone, d.day, d.time, d.webhook_url_env))
    keys = [x.key for x in out]
    if len(set(keys)) != len(keys):
        raise ConfigError("config: digest.channels lists the same channel twice; give each channel one entry")
    return out


def _check(channel: str, tz: str, day: str, time: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"config: digest channel {channel}: unknown timezone '{tz}'; use an IANA name such as Europe/Berlin") from None
    if day not in DAYS:
        raise ConfigError(f"config: digest channel {channel}: day '{day}' must be one of {', '.join(DAYS)}")
    parts = time.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ConfigError(f"config: digest channel {channel}: time '{time}' is not HH:MM, e.g. 09:00")


def trigger_for(dest: Destination) -> WeeklyTrigger:
    """The weekly trigger: day of week by name, hour, minute and an explicit timezone (never the host's)."""
    return WeeklyTrigger(day_of_week=dest.day, hour=dest.hour, minute=dest.minute, timezone=ZoneInfo(dest.timezone))


def last_fire(trigger: CronTrigger, now: datetime, lookback: timedelta = timedelta(days=8)) -> datetime | None:
    """The latest fire time of a (weekly) trigger at or before `now`."""
    fire = trigger.get_next_fire_time(None, now.astimezone(timezone.utc) - lookback)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire.astimezone(timezone.utc) + timedelta(seconds=1))
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
