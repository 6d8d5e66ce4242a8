"""The seen-signature store behind replay refusal (issue 14.10): a key is refused until it expires, then forgotten."""

from bot.replay import MemorySeen


def test_a_key_is_refused_until_it_expires_and_then_forgotten():
    now = [1000.0]
    seen = MemorySeen(clock=lambda: now[0])
    assert seen.first_time("sig-a", expires_at=1300) and not seen.first_time("sig-a", expires_at=1300)
    assert seen.first_time("sig-b", expires_at=1100)
    now[0] = 1200.0  # sig-b expired at 1100 and is forgotten; sig-a (1300) is still remembered
    assert not seen.first_time("sig-a", expires_at=1300)
    assert len(seen) == 1
    now[0] = 1301.0
    assert seen.first_time("sig-a", expires_at=1601) and len(seen) == 1
