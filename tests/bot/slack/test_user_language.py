"""`[slack] user_language = true`: each asker is answered in their own Slack locale (users.info include_locale=true,
scope users:read), asked in the answer path and cached; without the scope, the configured language. Real slack-bolt
app over HTTP against the Slack fake."""

from __future__ import annotations

import logging

import pytest

from bot.slack.manifest import manifest_text
from bot.slack.user_language import language_of_locale
from config import parse_settings
from config.settings import ConfigError
from tests.bot.slack.conftest import with_slack
from tests.fakes.slack_api import wait_for
from tests.fakes.slack_requests import app_mention_body, signed_json_headers

ZH_USER, EN_USER = "U0ZHUSER01", "U0ENUSER01"
# The demo's last quarter (today 2026-11-16) is 2026-Q3, in Chinese 2026年第3季度; NPS is 净推荐值.
ZH_HEADER, EN_HEADER = "净推荐值 — 2026年第3季度", "Net Promoter Score — 2026-Q3"


@pytest.fixture
def per_user(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, user_language=True))
    slack.api.locales.update({ZH_USER: "zh-CN", EN_USER: "en-US"})
    return slack


def header(slack, user_id: str, text: str = "last-quarter") -> str:
    """The header of the answer to `/nps <text>` asked by `user_id`."""
    answer = slack.answer(slack.command("/nps", text, user_id=user_id))
    return answer["blocks"][0]["text"]["text"] if "blocks" in answer else answer["text"]


def test_each_asker_gets_their_own_locales_language_and_it_is_cached(per_user):
    assert header(per_user, ZH_USER) == ZH_HEADER
    assert header(per_user, EN_USER) == EN_HEADER
    assert header(per_user, ZH_USER) == ZH_HEADER
    calls = per_user.api.calls_to("users.info")
    assert [c.params["user"] for c in calls] == [ZH_USER, EN_USER]  # the second Chinese question asks nothing
    assert all(str(c.params["include_locale"]).lower() in ("1", "true") for c in calls)


def test_a_mistake_is_worded_in_the_askers_language(per_user):
    answer = per_user.answer(per_user.command("/nps", "last-quater", user_id=ZH_USER))
    assert answer["text"].startswith("错误：未知时间段「last-quater」")


def test_a_mention_is_answered_in_the_askers_language(per_user):
    body = app_mention_body("nps last-quarter", event_id="Ev0LOCALE01", user_id=ZH_USER, channel_id="C0TEAM0001")
    assert per_user.post(body, signed_json_headers(body)).status_code == 200
    (post,) = wait_for(lambda: per_user.api.messages("C0TEAM0001"), what="the threaded answer")
    assert post.json_param("blocks")[0]["text"]["text"] == ZH_HEADER


def test_without_the_scope_the_configured_language_and_one_log_line(per_user, caplog):
    per_user.api.fail("users.info", error="missing_scope", times=5)
    with caplog.at_level(logging.WARNING, logger="bot.slack.user_language"):
        assert header(per_user, ZH_USER) == EN_HEADER
        assert header(per_user, EN_USER) == EN_HEADER
    assert len(per_user.api.calls_to("users.info")) == 1  # then it stops asking
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.slack.user_language"]
    assert len(lines) == 1 and "users:read" in lines[0]


def test_a_failed_lookup_keeps_the_configured_language(per_user):
    per_user.api.fail("users.info", status=500, error="internal_error")
    assert header(per_user, ZH_USER) == EN_HEADER


def test_off_by_default_nobody_is_looked_up(slack):
    slack.api.locales[ZH_USER] = "zh-CN"
    assert header(slack, ZH_USER) == EN_HEADER
    assert slack.api.calls_to("users.info") == []


def test_locales_map_to_the_two_languages():
    assert [language_of_locale(x) for x in ("zh-CN", "zh-TW", "zh_HK", "en-US", "ja-JP", "", None)] == [
        "zh-CN", "zh-CN", "zh-CN", "en", "en", None, None,
    ]


def test_the_setting_is_a_boolean_and_the_manifest_asks_for_users_read_only_with_it():
    with pytest.raises(ConfigError, match="slack.user_language"):
        parse_settings({"slack": {"user_language": "yes"}})
    assert "users:read" not in manifest_text()
    assert "      - users:read " in manifest_text(user_language=True)
