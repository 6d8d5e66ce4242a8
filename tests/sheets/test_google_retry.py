"""The retry policy: which failures are retried, how long it waits, and that the total wait stays bounded."""

from __future__ import annotations

import pytest
import requests
from gspread.exceptions import APIError
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets.google.retry import RetryExhausted, RetryPolicy, call_with_retry, is_retryable


def api_error(status: int, retry_after: str | None = None) -> APIError:
    response = requests.Response()
    response.status_code = status
    response._content = b'{"error": {"code": %d, "message": "m", "status": "X"}}' % status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return APIError(response)


def failing(errors: list[BaseException], result: str = "ok"):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


@pytest.mark.parametrize("status,retried", [(429, True), (500, True), (502, True), (503, True), (504, True),
                                            (400, False), (401, False), (403, False), (404, False)])
def test_which_statuses_are_retried(status, retried):
    assert is_retryable(api_error(status)) is retried


def test_connection_failures_and_timeouts_are_retried():
    assert is_retryable(requests.ConnectionError("reset"))
    assert is_retryable(requests.ReadTimeout("slow"))
    assert not is_retryable(ValueError("bug"))


def test_delays_double_up_to_the_cap_with_jitter_in_the_upper_half():
    policy = RetryPolicy(base=1, cap=8, max_total=100)
    assert [policy.delay(n, lambda: 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert [policy.delay(n, lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]


def test_succeeds_after_transient_failures_sleeping_between_attempts():
    sleeps: list[float] = []
    fn, calls = failing([api_error(429), api_error(500), requests.ConnectionError("dropped")])
    assert call_with_retry(fn, RetryPolicy(base=1, cap=8, max_total=30), sleep=sleeps.append, rng=lambda: 1.0) == "ok"
    assert (len(calls), sleeps) == (4, [1, 2, 4])


def test_403_is_raised_at_once():
    sleeps: list[float] = []
    fn, calls = failing([api_error(403)])
    with pytest.raises(APIError):
        call_with_retry(fn, RetryPolicy(), sleep=sleeps.append)
    assert (len(calls), sleeps) == (1, [])


def test_gives_up_before_the_total_wait_would_be_exceeded():
    sleeps: list[float] = []
    fn, calls = failing([api_error(429)] * 100)
    with pytest.raises(RetryExhausted) as err:
        call_with_retry(fn, RetryPolicy(base=1, cap=8, max_total=10), sleep=sleeps.append, rng=lambda: 1.0)
    assert sleeps == [1, 2, 4]  # the next 8 s would pass 10 s
    assert (err.value.attempts, err.value.waited) == (4, 7)
    assert "HTTP 429" in str(err.value) and "after 4 attempts over 7.0 s" in str(err.value)


def test_retry_after_header_is_honoured_within_the_budget():
    sleeps: list[float] = []
    fn, _ = failing([api_error(503, retry_after="3")])
    call_with_retry(fn, RetryPolicy(base=0.1, cap=1, max_total=10), sleep=sleeps.append, rng=lambda: 0.0)
    assert sleeps == [3.0]


def test_policy_from_environment(monkeypatch):
    monkeypatch.setenv("PULSE_SHEETS_RETRY_SECONDS", "2")
    policy = RetryPolicy.from_env()
    assert policy.max_total == 2 and policy.cap <= 0.5
    monkeypatch.setenv("PULSE_SHEETS_RETRY_SECONDS", "soon")
    with pytest.raises(ValueError, match="PULSE_SHEETS_RETRY_SECONDS='soon' is not a number"):
        RetryPolicy.from_env()


@settings(max_examples=60, deadline=None)
@given(base=st.floats(0.01, 5), cap=st.floats(0.01, 30), total=st.floats(0, 60), attempts=st.integers(1, 20),
       jitter=st.lists(st.floats(0, 1), min_size=20, max_size=20))
def test_total_wait_never_exceeds_the_budget(base, cap, total, attempts, jitter):
    sleeps: list[float] = []
    values = iter(jitter)
    fn, calls = failing([api_error(500)] * 50)
    with pytest.raises(RetryExhausted):
        call_with_retry(fn, RetryPolicy(base=base, cap=cap, max_total=total, max_attempts=attempts),
                        sleep=sleeps.append, rng=lambda: next(values))
    assert sum(sleeps) <= total + 1e-9
    assert len(calls) <= attempts
    assert all(min(cap, base) / 2 - 1e-9 <= s <= cap + 1e-9 for s in sleeps)


def test_slow_failing_calls_stop_at_the_elapsed_limit():
    clock = {"t": 0.0}

    def slow_timeout():
        clock["t"] += 50  # each attempt burns 50 s before timing out
        raise requests.ReadTimeout("read timed out")

    sleeps: list[float] = []
    with pytest.raises(RetryExhausted) as err:
        call_with_retry(slow_timeout, RetryPolicy(base=1, cap=2, max_total=30, max_elapsed=120),
                        sleep=lambda s: (sleeps.append(s), clock.__setitem__("t", clock["t"] + s)),
                        rng=lambda: 1.0, now=lambda: clock["t"])
    assert err.value.attempts == 3 and sleeps == [1, 2]  # a 4th attempt would start after 153 s > 120 s
