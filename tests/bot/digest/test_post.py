"""Posting through the real slack_sdk WebClient to the Slack fake over HTTP: exactly once, retried, recorded."""

from datetime import date

import pytest

from bot.digest.ledger import Ledger
from bot.digest.post import post_digest, post_now, slack_client
from bot.digest.schedule import destinations
from tests.bot.digest.conftest import context_at, utc
from tests.fakes.slack_api import ResponseUrlReceiver

W12 = date(2026, 3, 16)
SETTINGS = {"digest": {"channels": [{"channel": "C1"}]}, "surveys": {"min_n": 1}}


@pytest.fixture
def ctx(small_path):
    ctx, _ = context_at(SETTINGS, small_path, utc(2026, 3, 23, 8))
    return ctx


def log_rows(ctx) -> list[list]:
    return (ctx.workbook.read_owned("Pulse Log") or [[]])[1:]


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_posts_message_and_chart_once(ctx, slack):
    result, = post_now(ctx)
    assert result.outcome == "posted" and result.week == "2026-W12" and result.attempts == 1
    message, = slack.messages("C1")
    assert message.json_param("blocks")[0]["text"]["text"] == "Weekly pulse — 2026-W12"
    assert "Weekly pulse — 2026-W12" in message.params["text"]
    assert [c.method for c in slack.calls if c.method != "chat.postMessage"] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"
    ]
    complete = slack.calls_to("files.completeUploadExternal")[0]
    assert complete.params["channel_id"] == "C1" and complete.json_param("files")[0]["id"] == result.file_id
    assert slack.uploads[result.file_id][:8] == b"\x89PNG\r\n\x1a\n"
    entry = Ledger().get("C1", "2026-W12")
    assert (entry.status, entry.ts, entry.file_id) == ("posted", result.ts, result.file_id)
    assert log_rows(ctx)[-1][1:] == ["digest", result.describe(), "posted"]

    again, = post_now(ctx)
    assert again.outcome == "duplicate" and again.ts == result.ts
    assert len(slack.messages("C1")) == 1 and len(slack.calls_to("files.completeUploadExternal")) == 1


def test_server_errors_are_retried_with_backoff(ctx, slack):
    slack.fail("chat.postMessage", status=500, error="internal_error", times=2)
    sleeps = Sleeps()
    dest, = destinations(ctx.settings)
    result = post_digest(ctx, dest, week_start=W12, sleep=sleeps)
    assert result.outcome == "posted" and result.attempts == 3
    assert len(sleeps) == 2 and 2 <= sleeps[0] < 3 and 4 <= sleeps[1] < 5
    assert len(slack.calls_to("chat.postMessage")) == 3 and len(slack.messages("C1")) == 1
    assert Ledger().get("C1", "2026-W12").attempts == 3


def test_rate_limits_are_retried(ctx, slack):
    slack.fail("chat.postMessage", status=429, error="ratelimited", retry_after=0)  # the client's own 429 handler
    slack.fail("chat.postMessage", status=200, error="ratelimited")  # ok: false, retried by the digest
    dest, = destinations(ctx.settings)
    result = post_digest(ctx, dest, week_start=W12, sleep=Sleeps())
    assert result.outcome == "posted" and result.attempts == 2
    assert len(slack.calls_to("chat.postMessage")) == 3 and len(slack.messages("C1")) == 1


def test_a_post_that_keeps_failing_is_recorded_then_retried_later(ctx, slack):
    slack.fail("chat.postMessage", status=500, error="internal_error", times=3)
    dest, = destinations(ctx.settings)
    failed = post_digest(ctx, dest, week_start=W12, sleep=Sleeps())
    assert failed.outcome == "failed" and failed.attempts == 3 and "internal_error (HTTP 500)" in failed.error
    entry = Ledger().get("C1", "2026-W12")
    assert entry.status == "failed" and "internal_error" in entry.error and entry.attempts == 3
    assert log_rows(ctx)[-1][1] == "digest" and log_rows(ctx)[-1][3].startswith("failed: chat.postMessage: internal_error")
    assert slack.messages("C1") == []

    later = post_digest(ctx, dest, week_start=W12, sleep=Sleeps())
    assert later.outcome == "posted" and len(slack.messages("C1")) == 1
    assert Ledger().get("C1", "2026-W12").attempts == 4


def test_permanent_errors_are_not_retried(ctx, slack):
    slack.fail("chat.postMessage", status=200, error="channel_not_found")
    dest, = destinations(ctx.settings)
    sleeps = Sleeps()
    result = post_digest(ctx, dest, week_start=W12, sleep=sleeps)
    assert result.outcome == "failed" and result.attempts == 1 and sleeps == []
    assert "channel_not_found" in result.error


def test_a_failed_chart_upload_never_reposts_the_message(ctx, slack):
    slack.fail("files.completeUploadExternal", status=500, error="internal_error", times=3)
    dest, = destinations(ctx.settings)
    result = post_digest(ctx, dest, week_start=W12, sleep=Sleeps())
    assert result.outcome == "posted" and result.file_id is None and "chart upload failed" in result.error
    assert len(slack.messages("C1")) == 1 and len(slack.calls_to("files.completeUploadExternal")) == 3
    assert Ledger().get("C1", "2026-W12").status == "posted"


def test_without_a_token_the_failure_says_what_to_set(ctx):
    assert slack_client() is None
    result, = post_now(ctx)
    assert result.outcome == "failed" and "SLACK_BOT_TOKEN is not set" in result.error


def test_incoming_webhook_delivery(small_path, monkeypatch):
    with ResponseUrlReceiver() as hooks:
        url = hooks.url()
        monkeypatch.setenv("PULSE_DIGEST_WEBHOOK", url)
        ctx, _ = context_at({"digest": {"webhook_url_env": "PULSE_DIGEST_WEBHOOK"}}, small_path, utc(2026, 3, 23, 8))
        result, = post_now(ctx)
        assert result.outcome == "posted" and result.destination == "webhook"
        delivery, = hooks.to(url)
        assert delivery.payload["blocks"][0]["text"]["text"] == "Weekly pulse — 2026-W12"
        assert post_now(ctx)[0].outcome == "duplicate" and len(hooks.to(url)) == 1
        assert url not in str(log_rows(ctx))  # the secret URL is never logged
