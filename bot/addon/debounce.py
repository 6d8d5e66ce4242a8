"""Coalescing of edit-triggered refreshes: a burst of edits inside the window causes one refresh."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Debouncer:
    """Run `action` once, `delay` seconds after the first call of a burst; later calls in the burst join it."""

    def __init__(self, delay: float, action: Callable[[], object]):
        self.delay = delay
        self.action = action
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.runs = 0

    def trigger(self) -> str:
        """ "scheduled" for the first call of a burst, "coalesced" for the rest."""
        with self._lock:
            if self._timer is not None:
                return "coalesced"
            self._timer = threading.Timer(self.delay, self._fire)
            self._timer.daemon = True
            self._timer.start()
            return "scheduled"

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            self.runs += 1
        self.action()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
