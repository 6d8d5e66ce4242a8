"""Access over HTTP: allow-lists, admin-only refresh and digest posting, and the per-user rate limit."""

from __future__ import annotations

from tests.bot.slack.conftest import SMALL_TABS, demo_context, with_slack, write_workbook

ADMIN = "U0ADMIN001"


def refusal(sent) -> str:
    assert sent.response.status_code == 200
    ack = sent.ack
    assert ack["response_type"] == "ephemeral"
    return ack["text"]


def test_user_outside_the_allow_list_is_refused_politely(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, **{"allowed_users": ["U0USER0001"], "admins": [ADMIN]}))
    text = refusal(slack.command("/nps", "", user_id="U0STRANGER"))
    assert text.startswith("Sorry") and "not on it" in text
    assert "Computing" not in slack.answer(slack.command("/nps", "", user_id="U0USER0001"))["text"]
    assert "Sorry" not in slack.answer(slack.command("/nps", "", user_id=ADMIN))["text"]


def test_channel_outside_the_allow_list_is_refused(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, **{"allowed_channels": ["C0CHAN0001"]}))
    assert "isn't enabled in this channel" in refusal(slack.command("/churn", "", channel_id="C0OTHER001"))
    assert "data as of" in str(slack.answer(slack.command("/churn", "", channel_id="C0CHAN0001")))


def test_refresh_and_digest_posting_are_for_admins(start_slack, tmp_path):
    book = write_workbook(tmp_path / "book.xlsx", SMALL_TABS)
    slack = start_slack(demo_context(book, {"admins": [ADMIN]}))
    assert "Only crm-pulse admins can refresh" in refusal(slack.command("/pulse", "refresh"))
    assert "Only crm-pulse admins can post the digest" in refusal(slack.command("/pulse", "digest post"))
    answer = slack.answer(slack.command("/pulse", "refresh", user_id=ADMIN), timeout=60)
    assert answer["text"].startswith("Summary tabs refreshed")


def test_rate_limit_answers_with_a_friendly_message(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, **{"rate_limit_per_minute": 2}))
    first, second = (slack.command("/pulse", "help") for _ in range(2))
    assert "crm-pulse help" in slack.answer(first)["text"] and "crm-pulse help" in slack.answer(second)["text"]
    text = refusal(slack.command("/pulse", "help"))
    assert "limit: 2 a minute" in text and "try again in" in text
    assert "crm-pulse help" in slack.answer(slack.command("/pulse", "help", user_id="U0SOMEONE2"))["text"]


def test_an_admin_posts_the_digest_now_with_digest_post(start_slack, tmp_path, monkeypatch):
    # issue 13 item 11: `/pulse digest post` answered "unknown period 'post'"
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    book = write_workbook(tmp_path / "book.xlsx", SMALL_TABS)
    slack = start_slack(demo_context(book, {"admins": [ADMIN]}, digest={"channels": [{"channel": "C0DIGEST01"}]}))
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.api.token)  # the digest posts with the bot token, as the server does
    monkeypatch.setenv("SLACK_API_URL", slack.api.base_url)
    text = slack.answer(slack.command("/pulse", "digest post", user_id=ADMIN), timeout=60)["text"]
    assert "unknown period" not in text
    assert "Digest for 2026-W46 posted to C0DIGEST01." in text, text  # today Monday 2026-11-16: last full week W46
    assert len(slack.api.messages("C0DIGEST01")) == 1
    again = slack.answer(slack.command("/pulse", "digest post", user_id=ADMIN), timeout=60)["text"]
    assert "already posted" in again and len(slack.api.messages("C0DIGEST01")) == 1


def test_digest_post_without_a_channel_says_so(start_slack, tmp_path):
    book = write_workbook(tmp_path / "book.xlsx", SMALL_TABS)
    slack = start_slack(demo_context(book, {"admins": [ADMIN]}))
    text = slack.answer(slack.command("/pulse", "digest post", user_id=ADMIN), timeout=60)["text"]
    assert "No digest channel is configured, so nothing was posted" in text, text
