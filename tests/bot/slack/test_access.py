"""Access policy: allow-lists, admin-only actions and the sliding-window rate limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ratelimit import RateLimiter
from bot.slack.access import Access
from config.settings import SlackSettings


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_empty_lists_let_everyone_in():
    assert Access(SlackSettings()).check("U1", "C1", "metric") is None


def test_user_outside_allow_list_is_refused_politely_admins_always_in():
    a = Access(SlackSettings(allowed_users=["U1"], admins=["UADMIN"]))
    assert a.check("U1", "C1") is None
    assert a.check("UADMIN", "C1") is None
    refusal = a.check("U2", "C1")
    assert refusal.startswith("Sorry") and "admin" in refusal


def test_channel_outside_allow_list_is_refused():
    a = Access(SlackSettings(allowed_channels=["C1"]))
    assert a.check("U1", "C1") is None
    assert "isn't enabled in this channel" in a.check("U1", "C2")


def test_refresh_and_digest_posting_need_an_admin():
    a = Access(SlackSettings(admins=["UADMIN"], rate_limit_per_minute=100))
    assert "Only crm-pulse admins can refresh" in a.check("U1", "C1", "refresh")
    assert "Only crm-pulse admins can post the digest" in a.check("U1", "C1", "digest-post")
    assert a.check("U1", "C1", "digest") is None
    assert a.check("UADMIN", "C1", "refresh") is None


def test_rate_limit_is_per_user_and_slides():
    clock = Clock()
    limiter = RateLimiter(3, clock)
    assert [limiter.allow("U1") for _ in range(3)] == [None, None, None]
    assert limiter.allow("U1") == 60.0
    assert limiter.allow("U2") is None
    clock.t += 59.0
    assert limiter.allow("U1") == 1.0
    clock.t += 1.0
    assert limiter.allow("U1") is None


def test_rate_limit_message_is_friendly():
    a = Access(SlackSettings(rate_limit_per_minute=1))
    assert a.check("U1", "C1") is None
    msg = a.check("U1", "C1")
    assert "limit: 1 a minute" in msg and "try again in" in msg


@settings(max_examples=50, deadline=None)
@given(limit=st.integers(1, 10), gaps=st.lists(st.floats(0, 30, allow_nan=False), max_size=60))
def test_never_more_than_limit_in_any_minute(limit, gaps):
    clock = Clock()
    limiter = RateLimiter(limit, clock)
    allowed = []
    for gap in gaps:
        clock.t += gap
        if limiter.allow("U") is None:
            allowed.append(clock.t)
    for i, t in enumerate(allowed):
        assert sum(1 for u in allowed[i:] if u - t < 60.0) <= limit
