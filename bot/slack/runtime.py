"""What every Slack listener shares: the query context, the access policy, the bounded query runner, seen events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.context import Context
from bot.ratelimit import rate_limiter
from bot.replay import MemorySeen, SeenStore, seen_store
from bot.slack.access import Access
from bot.slack.answering import QueryRunner
from bot.slack.user_language import UserLanguages
from config import Settings

ACK_WAIT_SECONDS = 0.7
# Queries running at once: two cores, and a query holds the GIL most of the time, so more threads only take turns
# from the threads that ack (bench/burst_bench.py; README "Benchmarks"); the rest wait in the pool's queue.
QUERY_WORKERS = 2
EVENT_MEMORY_SECONDS = 3600.0


class EventDeduper:
    """Remembers Events API `event_id`s for an hour: Slack's retries (`X-Slack-Retry-Num`) are answered once."""

    def __init__(
        self,
        ttl: float = EVENT_MEMORY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        seen: SeenStore | None = None,
    ):
        self._ttl = ttl
        self._clock = clock
        self._seen = seen if seen is not None else MemorySeen(clock)

    def first_time(self, event_id: str) -> bool:
        return self._seen.first_time(f"slack event {event_id}", self._clock() + self._ttl)


def just_ack(ack: Any) -> None:
    """The whole ack of a listener whose work runs as a bolt lazy listener, after Slack has its HTTP answer
    (with `process_before_response`, anything a listener does before returning delays that answer)."""
    ack()


def event_deduper(settings: Settings) -> EventDeduper:
    """Event ids remembered in PostgreSQL with `[state] url` (a retry reaching another instance is answered once,
    wall-clock expiry), else in this process."""
    from config.settings import state_url

    if state_url(settings) is None:
        return EventDeduper()
    return EventDeduper(clock=time.time, seen=seen_store(settings))


@dataclass
class SlackRuntime:
    """One per bolt App; `ack_wait` is how long a command may wait for its answer before acking "Computing…"."""

    ctx: Context
    access: Access = field(init=False)
    runner: QueryRunner = field(init=False)
    events: EventDeduper = field(init=False)
    languages: UserLanguages = field(init=False)  # each asker's Slack locale, with `[slack] user_language`
    ack_wait: float = ACK_WAIT_SECONDS
    workers: int = QUERY_WORKERS

    def __post_init__(self) -> None:
        self.access = Access(self.ctx.settings.slack)
        per_minute = self.ctx.settings.slack.rate_limit_per_minute
        self.access.limiter = rate_limiter(self.ctx.settings, per_minute, "slack user")
        self.runner = QueryRunner(self.ctx, workers=self.workers)
        self.events = event_deduper(self.ctx.settings)
        self.languages = UserLanguages(self.ctx.settings.slack.user_language)
