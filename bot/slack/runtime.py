"""What every Slack listener shares: the query context, the access policy, the bounded query runner, seen events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.context import Context
from bot.replay import MemorySeen
from bot.slack.access import Access
from bot.slack.answering import QueryRunner

ACK_WAIT_SECONDS = 0.7
EVENT_MEMORY_SECONDS = 3600.0


class EventDeduper:
    """Remembers Events API `event_id`s for an hour: Slack's retries (`X-Slack-Retry-Num`) are answered once."""

    def __init__(self, ttl: float = EVENT_MEMORY_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._seen = MemorySeen(clock)

    def first_time(self, event_id: str) -> bool:
        return self._seen.first_time(event_id, self._clock() + self._ttl)


@dataclass
class SlackRuntime:
    """One per bolt App; `ack_wait` is how long a command may wait for its answer before acking "Computing…"."""

    ctx: Context
    access: Access = field(init=False)
    runner: QueryRunner = field(init=False)
    events: EventDeduper = field(init=False)
    ack_wait: float = ACK_WAIT_SECONDS
    workers: int = 4

    def __post_init__(self) -> None:
        self.access = Access(self.ctx.settings.slack)
        self.runner = QueryRunner(self.ctx, workers=self.workers)
        self.events = EventDeduper()
