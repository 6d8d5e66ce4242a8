"""`@crm-pulse nps last-quarter` in a channel: answered in the thread; Events API retries are answered once."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.i18n import use
from bot.query import parse
from bot.slack.answering import Answer, plain
from bot.slack.listeners.commands.flow import command_text, requested_action
from bot.slack.runtime import SlackRuntime, just_ack

log = logging.getLogger(__name__)

LEADING_MENTION = re.compile(r"^\s*(<@[A-Z0-9]+(\|[^>]*)?>\s*)+")


def register(app: App, rt: SlackRuntime) -> None:
    def handle_mention(body: dict[str, Any], event: dict[str, Any], say: Callable[..., Any], client: WebClient) -> None:
        event_id = body.get("event_id")
        if event_id and not rt.events.first_time(event_id):
            log.info("event %s already answered (Slack retry)", event_id)
            return
        with use(rt.runner.ctx.settings.language):  # a parse error is worded in the configured language too
            answer_mention(rt, event, say, client)

    # Acked at once; the dedupe, access check and refusal post run after the ack as a lazy listener.
    app.event("app_mention")(ack=just_ack, lazy=[handle_mention])


def mention_text(raw: str | None) -> str:
    """The question after the bot's mention, with Slack's `&amp;`/`&lt;`/`&gt;` read back as typed."""
    return command_text(LEADING_MENTION.sub("", raw or ""))


def answer_mention(rt: SlackRuntime, event: dict[str, Any], say: Callable[..., Any], client: WebClient) -> None:
    user_id, channel_id = event.get("user") or "", event.get("channel") or ""
    text = mention_text(event.get("text"))
    thread_ts = event.get("thread_ts") or event.get("ts")
    parsed = parse(text, "/pulse")
    refusal = rt.access.check(user_id, channel_id, requested_action(parsed))
    if refusal:
        client.chat_postEphemeral(channel=channel_id, user=user_id, **plain(refusal))
        return
    future = rt.runner.submit(
        parsed, "/pulse", text, share_button=False, language=lambda: rt.languages.of(client, user_id)
    )
    future.add_done_callback(lambda f: _reply(f, say, client, channel_id, user_id, thread_ts))


def _reply(
    future: Future[Answer],
    say: Callable[..., Any],
    client: WebClient,
    channel_id: str,
    user_id: str,
    thread_ts: str | None,
) -> None:
    """Answers go to the thread; mistakes and apologies only to the person who asked."""
    try:
        result = future.result()
        if result.shareable:
            say(thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **result.message)
        else:
            client.chat_postEphemeral(channel=channel_id, user=user_id, thread_ts=thread_ts, **result.message)
    except Exception as err:  # noqa: BLE001
        log.warning("could not answer a mention in %s: %s", channel_id, type(err).__name__)
