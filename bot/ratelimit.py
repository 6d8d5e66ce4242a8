"""A sliding-window rate limiter shared by the Slack commands and the add-on API."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from config import Settings


class Limiter(Protocol):
    """Counts requests per key (a user, a spreadsheet) in a sliding minute."""

    def allow(self, user_id: str) -> float | None:
        """Record a request; None when allowed, else the seconds until the key may ask again."""
        ...


class RateLimiter:
    """At most `per_minute` requests per user in any sliding 60-second window (thread-safe)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user_id: str) -> float | None:
        """Record a request; None when allowed, else the seconds until the user may ask again."""
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(user_id, deque())
            while seen and now - seen[0] >= 60.0:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return max(0.0, 60.0 - (now - seen[0]))
            seen.append(now)
            return None


def rate_limiter(settings: Settings, per_minute: int, scope: str) -> Limiter:
    """The limiter the settings name: counted in PostgreSQL with `[state] url` (every instance sees the same count
    for a key), else in this process. `scope` keeps the Slack users' and the add-on's counts apart."""
    from config.settings import state_url

    url = state_url(settings)
    if url is None:
        return RateLimiter(per_minute)
    from bot.state_pg import PgRateLimiter

    return PgRateLimiter(url, per_minute, scope)
