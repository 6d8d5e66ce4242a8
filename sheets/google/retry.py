"""Bounded, jittered exponential backoff around Sheets API calls: retry 429, 5xx and connection failures only.

gspread's BackOffHTTPClient is not used: it retries 403 (an unshared sheet looks like a hang), has no jitter
and keeps per-instance counters that are not thread-safe. This policy is stateless and shared freely.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError

T = TypeVar("T")
RETRY_SECONDS_VAR = "PULSE_SHEETS_RETRY_SECONDS"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Delays grow base·2ⁿ up to `cap`, each jittered to [½, 1]×; waiting stops before `max_total` seconds
    of backoff, and no new attempt starts once `max_elapsed` seconds (calls included) would be passed."""

    base: float = 1.0
    cap: float = 16.0
    max_total: float = 30.0
    max_attempts: int = 8
    max_elapsed: float = 120.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The default policy, with the total wait overridable by PULSE_SHEETS_RETRY_SECONDS."""
        raw = (os.environ.get(RETRY_SECONDS_VAR) or "").strip()
        if not raw:
            return cls()
        try:
            total = float(raw)
        except ValueError:
            raise ValueError(f"{RETRY_SECONDS_VAR}={raw!r} is not a number of seconds") from None
        return cls(
            base=min(cls.base, max(total / 30, 0.001)),
            cap=min(cls.cap, max(total / 4, 0.001)),
            max_total=total,
            max_elapsed=max(cls.max_elapsed, total * 4),
        )

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """The wait before retry number `attempt` (1-based)."""
        full = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return full / 2 + rng() * full / 2


class RetryExhausted(Exception):
    """The last retryable failure, after `attempts` tries and `waited` seconds of backoff."""

    def __init__(self, error: BaseException, attempts: int, waited: float):
        super().__init__(error, attempts, waited)
        self.error, self.attempts, self.waited = error, attempts, waited

    def __str__(self) -> str:
        return f"{describe_failure(self.error)} (after {self.attempts} attempts over {self.waited:.1f} s)"


def status_of(error: BaseException) -> int | None:
    """The HTTP status of a gspread APIError, else None."""
    if isinstance(error, APIError):
        response = getattr(error, "response", None)
        return getattr(response, "status_code", None) or error.code
    return None


def is_retryable(error: BaseException) -> bool:
    """429 and 5xx answers, dropped or refused connections and timeouts; never 4xx like 403/404."""
    status = status_of(error)
    if status is not None:
        return status in RETRYABLE_STATUS
    return isinstance(error, (requests.ConnectionError, requests.Timeout, auth_exceptions.TransportError))


def retry_after(error: BaseException) -> float | None:
    """A Retry-After header in seconds, when the server sent one."""
    response = getattr(error, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def describe_failure(error: BaseException) -> str:
    status = status_of(error)
    if status is not None:
        message = getattr(error, "error", {}).get("message", "") if isinstance(error, APIError) else ""
        return f"HTTP {status}: {message}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    now: Callable[[], float] = time.monotonic,
) -> T:
    """Call `fn`; on a retryable failure wait and try again while the budget allows, then raise RetryExhausted."""
    started = now()
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as err:
            if not is_retryable(err):
                raise
            pause = policy.delay(attempt, rng)
            hinted = retry_after(err)
            if hinted is not None:
                pause = max(pause, hinted)
            out_of_time = now() - started + pause > policy.max_elapsed
            if attempt >= policy.max_attempts or waited + pause > policy.max_total or out_of_time:
                raise RetryExhausted(err, attempt, waited) from err
            sleep(pause)
            waited += pause
