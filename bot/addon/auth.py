"""Request authentication for the add-on API: HMAC-SHA256 of timestamp and body with a shared secret.

The Apps Script signs `v1:{timestamp}:{body}` with `PULSE_ADDON_SECRET` and sends
`X-Pulse-Timestamp` and `X-Pulse-Signature: v1=<hex>`. A request is refused when the signature is
missing or wrong, the timestamp is outside `addon.max_skew_seconds`, or the same signature was already
seen (a replay) within that window.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable

from bot.replay import MemorySeen, SeenStore
from metrics.errors import Refused

# Unix seconds: digits only, at most 12 (anything longer is no clock reading and would overflow a float).
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v1=[0-9a-f]{64}")


class AuthError(Refused):
    """Why a request was refused (safe to show: it names no secret)."""

    status = 401


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class Verifier:
    """Checks signatures and remembers recent ones to refuse replays."""

    def __init__(
        self,
        secret: str | None,
        max_skew_seconds: int,
        clock: Callable[[], float] = time.time,
        seen: SeenStore | None = None,
    ):
        self.secret = secret
        self.max_skew = max_skew_seconds
        self.clock = clock
        self.seen = seen if seen is not None else MemorySeen(clock)

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """Raise AuthError unless the request is signed with the secret, fresh, and not seen before."""
        if not self.secret:
            raise AuthError("the add-on API is disabled: set PULSE_ADDON_SECRET on the server")
        if not timestamp or not signature:
            raise AuthError("missing X-Pulse-Timestamp or X-Pulse-Signature header")
        if not TIMESTAMP.fullmatch(timestamp):
            raise AuthError("X-Pulse-Timestamp must be Unix seconds")
        ts = int(timestamp)
        if abs(self.clock() - ts) > self.max_skew:
            raise AuthError("request timestamp is too old or in the future; check the clock and resend")
        if not SIGNATURE.fullmatch(signature) or not hmac.compare_digest(sign(self.secret, timestamp, body), signature):
            raise AuthError("bad signature")
        if not self.seen.first_time("addon:" + signature, ts + self.max_skew):
            raise AuthError("replayed request")
