"""A sliding-window rate limiter shared by the Slack commands and the add-on API."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


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
