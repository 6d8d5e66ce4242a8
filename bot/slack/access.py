"""Who may ask what: channel and user allow-lists, admin-only actions and a per-user rate limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from config.settings import SlackSettings

ADMIN_ACTIONS = frozenset({"refresh", "digest-post"})


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


@dataclass
class Access:
    """The access policy from `[slack]` config; `check` returns a polite refusal or None."""

    settings: SlackSettings
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.settings.admins

    def check(self, user_id: str, channel_id: str | None, action: str | None = None) -> str | None:
        """A refusal message for this user/channel/action, or None when the request may proceed."""
        s = self.settings
        if s.allowed_users and user_id not in s.allowed_users and not self.is_admin(user_id):
            return "Sorry, crm-pulse is only open to a configured list of people, and you are not on it yet. Ask a crm-pulse admin to add you."
        if s.allowed_channels and channel_id not in s.allowed_channels:
            return "Sorry, crm-pulse isn't enabled in this channel. Try one of the channels it is set up for, or ask a crm-pulse admin to add this one."
        if action in ADMIN_ACTIONS and not self.is_admin(user_id):
            what = "refresh the summary tabs" if action == "refresh" else "post the digest"
            return f"Only crm-pulse admins can {what}. You can still ask for any metric, or `/pulse digest` for a private preview."
        wait = self.limiter.allow(user_id)
        if wait is not None:
            return f"You're asking faster than I can keep up (limit: {s.rate_limit_per_minute} a minute). Please try again in {max(1, round(wait))} s."
        return None
