"""Request signatures already seen, so a captured signed request is accepted once, never replayed.

A signature is remembered until its timestamp leaves the freshness window (after that the timestamp check refuses
it anyway). `SeenStore` is the interface; `MemorySeen` keeps them in this process, which is right for one server
process; `bot.state_pg.PgSeen` keeps them in PostgreSQL for several instances behind a load balancer (`[state] url`),
chosen by `seen_store(settings)`.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from config import Settings


class SeenStore(Protocol):
    """Remembers keys until they expire."""

    def first_time(self, key: str, expires_at: float) -> bool:
        """True the first time `key` is offered before `expires_at` (Unix seconds); False for a repeat."""
        ...


class MemorySeen:
    """In-process `SeenStore`: a dict of key → expiry plus a heap to forget expired keys in order."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def first_time(self, key: str, expires_at: float) -> bool:
        now = self._clock()
        with self._lock:
            self._forget_expired(now)
            if key in self._expiry:
                return False
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return True

    def __len__(self) -> int:
        return len(self._expiry)

    def _forget_expired(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            expires_at, key = heapq.heappop(self._heap)
            if self._expiry.get(key) == expires_at:
                del self._expiry[key]


def seen_store(settings: Settings, clock: Callable[[], float] = time.time) -> SeenStore:
    """The store the settings name: PostgreSQL (`[state] url`, PULSE_STATE_URL; shared by instances), else memory."""
    from config.settings import state_url

    url = state_url(settings)
    if url is None:
        return MemorySeen(clock)
    from bot.state_pg import PgSeen

    return PgSeen(url, clock)
