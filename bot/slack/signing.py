"""Slack request verification before anything parses the body: v0 signature, 5-minute timestamp, no replays, UTF-8.

Bolt verifies signatures too, but only after it has decoded and parsed the body (so malformed unsigned input
raised inside bolt), and it accepts the same signed request any number of times within the window.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

from bot.errors import RequestRefused
from bot.replay import MemorySeen, SeenStore

WINDOW_SECONDS = 300
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SlackRequestCheck:
    """Checks one raw Slack request (headers, body bytes); raises RequestRefused, or returns the body as text."""

    def __init__(
        self, signing_secret: str | None, seen: SeenStore | None = None, clock: Callable[[], float] = time.time
    ):
        self.secret = signing_secret
        self.clock = clock
        self.seen = seen if seen is not None else MemorySeen(clock)

    def __call__(self, headers: Mapping[str, str], body: bytes) -> str:
        if not self.secret:
            raise RequestRefused(401, "Slack requests are not accepted: SLACK_SIGNING_SECRET is not set")
        timestamp = headers.get("x-slack-request-timestamp") or ""
        signature = headers.get("x-slack-signature") or ""
        if not TIMESTAMP.fullmatch(timestamp) or not signature:
            raise RequestRefused(401, "missing or malformed X-Slack-Request-Timestamp or X-Slack-Signature")
        ts = int(timestamp)
        if abs(self.clock() - ts) > WINDOW_SECONDS:
            raise RequestRefused(401, "request timestamp is more than 5 minutes from now")
        expected = (
            "v0="
            + hmac.new(self.secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        )
        if not SIGNATURE.fullmatch(signature) or not hmac.compare_digest(expected, signature):
            raise RequestRefused(401, "bad signature")
        if not self.seen.first_time("slack:" + signature, ts + WINDOW_SECONDS):
            if headers.get("x-slack-retry-num"):
                # Slack redelivering a request we already have: acknowledge it (200, empty), never process it again.
                raise RequestRefused(200, "retry of a request already received; not processed again")
            raise RequestRefused(401, "replayed request")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestRefused(400, "the request body is not UTF-8") from None
