"""The ledger makes (channel, week) posts exactly-once across restarts, threads and crashes mid-post."""

import threading
from datetime import datetime, timedelta, timezone

from bot.digest.ledger import Ledger

NOW = datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc)


def test_claim_is_granted_once_and_survives_a_restart(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    assert ledger.claim("C1", "2026-W13", NOW).status == "posting"
    assert ledger.claim("C1", "2026-W13", NOW) is None
    ledger.record_message("C1", "2026-W13", "1.000001")
    ledger.mark_posted("C1", "2026-W13", NOW, "1.000001", "F1")
    reopened = Ledger(tmp_path / "l.sqlite")
    assert reopened.claim("C1", "2026-W13", NOW + timedelta(days=1)) is None
    entry = reopened.get("C1", "2026-W13")
    assert (entry.status, entry.ts, entry.file_id) == ("posted", "1.000001", "F1")
    assert reopened.claim("C2", "2026-W13", NOW) is not None
    assert reopened.claim("C1", "2026-W14", NOW) is not None


def test_failed_digest_can_be_claimed_again_and_keeps_its_message_ts(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.claim("C1", "2026-W13", NOW)
    ledger.count_attempt("C1", "2026-W13")
    ledger.record_message("C1", "2026-W13", "9.000001")
    ledger.mark_failed("C1", "2026-W13", NOW, "files_upload_v2: internal_error (HTTP 500)")
    again = ledger.claim("C1", "2026-W13", NOW + timedelta(minutes=1))
    assert again is not None and again.ts == "9.000001" and again.attempts == 1
    assert ledger.get("C1", "2026-W13").status == "posting"


def test_a_live_claim_is_never_taken_over_and_an_abandoned_one_at_once(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.claim("C1", "2026-W13", NOW)
    # Held by a live claimer (here this process): refused however old, also through another Ledger object.
    assert ledger.claim("C1", "2026-W13", NOW + timedelta(days=1)) is None
    assert Ledger(tmp_path / "l.sqlite").claim("C1", "2026-W13", NOW + timedelta(days=1)) is None
    # The claimer dies (its lock goes, the row stays `posting`): taken over one minute later, keeping sent_at.
    ledger.mark_sent("C1", "2026-W13", NOW)
    ledger.release("C1", "2026-W13")
    assert ledger.get("C1", "2026-W13").status == "posting"
    again = Ledger(tmp_path / "l.sqlite").claim("C1", "2026-W13", NOW + timedelta(minutes=1))
    assert again is not None and again.sent_at == NOW and again.claimed_at == NOW + timedelta(minutes=1)


def claim_race(open_ledger, workers: int, now=NOW) -> int:
    """How many of `workers` threads, each with its own ledger from `open_ledger()`, win one week's claim at once."""
    wins = []
    start = threading.Barrier(workers)

    def worker():
        ledger = open_ledger()
        start.wait()
        if ledger.claim("C1", "2026-W13", now) is not None:
            wins.append(1)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(wins)


def test_concurrent_claims_have_exactly_one_winner(tmp_path):
    path = tmp_path / "l.sqlite"
    Ledger(path)
    assert claim_race(lambda: Ledger(path), 8) == 1


def test_skipped_is_recorded_once_and_blocks_a_later_post(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    assert ledger.mark_skipped("C1", "2026-W13", NOW, "missed") is True
    assert ledger.mark_skipped("C1", "2026-W13", NOW, "missed") is False
    assert ledger.claim("C1", "2026-W13", NOW) is None


def test_last_posted_and_installed_at(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    for week in ("2026-W10", "2026-W12"):
        ledger.claim("C1", week, NOW)
        ledger.mark_posted("C1", week, NOW, "1.1", None)
    ledger.claim("C1", "2026-W13", NOW)
    assert ledger.last_posted("C1").week == "2026-W12"
    assert ledger.last_posted("C1", before_week="2026-W12").week == "2026-W10"
    assert ledger.last_posted("C9") is None
    first = ledger.installed_at("C1", NOW)
    assert ledger.installed_at("C1", NOW + timedelta(days=3)) == first == NOW
