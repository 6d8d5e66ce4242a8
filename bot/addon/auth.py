"""Request authentication for the add-on API: HMAC-SHA256 of timestamp and body with a shared secret.

The Apps Script signs `v1:{timestamp}:{body}` with `PULSE_ADDON_SECRET` and sends
`X-Pulse-Timestamp` and `X-Pulse-Signature: v1=<hex>`. A request is refused when the signature is
missing or wrong, the timestamp is outside `addon.max_skew_seconds`, or the same signature was already
seen (a replay) within that window.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Callable


class AuthError(Exception):
    """Why a request was refused (safe to show: it names no secret)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class Verifier:
    """Checks signatures and remembers recent ones to refuse replays."""

    def __init__(self, secret: str | None, max_skew_seconds: int, clock: Callable[[], float] = time.time):
        self.secret = secret
        self.max_skew = max_skew_seconds
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        if not self.secret:
            raise AuthError("the add-on API is disabled: set PULSE_ADDON_SECRET on the server")
        if not timestamp or not signature:
            raise AuthError("missing X-Pulse-Timestamp or X-Pulse-Signature header")
        try:
            ts = int(timestamp)
        except ValueError:
            raise AuthError("X-Pulse-Timestamp must be Unix seconds") from None
        now = self.clock()
        if abs(now - ts) > self.max_skew:
            raise AuthError("request timestamp is too old or in the future; check the clock and resend")
        if not hmac.compare_digest(sign(self.secret, timestamp, body), signature):
            raise AuthError("bad signature")
        with self._lock:
            self._seen = {s: t for s, t in self._seen.items() if now - t <= self.max_skew}
            if signature in self._seen:
                raise AuthError("replayed request")
            self._seen[signature] = now
