"""The "Share in channel" button: recompute the query and post it visibly, naming who shared it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.grammar import Command
from bot.i18n import _, use
from bot.query import parse
from bot.render.blocks import SHARE_ACTION_ID, shared_by_block
from bot.replies import ErrorReply
from bot.slack.answering import Answer, plain
from bot.slack.charts import send_charts
from bot.slack.listeners.commands.flow import requested_action
from bot.slack.manifest import command_names
from bot.slack.runtime import SlackRuntime, just_ack

log = logging.getLogger(__name__)

FALLBACK_ERRORS = {"not_in_channel", "channel_not_found"}


def register(app: App, rt: SlackRuntime) -> None:
    def handle_share(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Any) -> None:
        with use(rt.runner.ctx.settings.language):
            share(rt, body, action, client, respond)

    # Acked at once; the rest (access check, replies) runs after the ack as a lazy listener (bot/slack/app.py).
    app.action(SHARE_ACTION_ID)(ack=just_ack, lazy=[handle_share])


@dataclass(frozen=True)
class ButtonQuery:
    """The query a button carries, parsed once: the command as typed and its parse, who clicked and where."""

    command: str
    text: str
    parsed: Command | ErrorReply
    user_id: str
    channel_id: str | None


def button_query(
    rt: SlackRuntime, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any], stale: str
) -> ButtonQuery | None:
    """The query of a button, after the access check; None (and a private reply saying why) for a stale or forged
    value or a refused user."""
    user_id = (body.get("user") or {}).get("id") or ""
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    query = _query(action.get("value"))
    if query is None:
        respond(response_type="ephemeral", replace_original=False, **plain(stale))
        return None
    command, text = query
    parsed = parse(text, command)
    refusal = rt.access.check(user_id, channel_id, requested_action(parsed))
    if refusal:
        respond(response_type="ephemeral", replace_original=False, **plain(refusal))
        return None
    return ButtonQuery(command, text, parsed, user_id, channel_id)


def share(
    rt: SlackRuntime, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Callable[..., Any]
) -> None:
    stale = _("This button is out of date — run the command again, then share.")
    found = button_query(rt, body, action, respond, stale)
    if found is None:
        return
    channel_id = found.channel_id
    if not channel_id:
        respond(response_type="ephemeral", replace_original=False, **plain(stale))
        return
    future = rt.runner.submit(found.parsed, found.command, found.text, share_button=False)
    asked = f"{found.command} {found.text}".strip()
    future.add_done_callback(lambda f: _post(f, client, respond, channel_id, found.user_id, asked))


def _query(value: str | None) -> tuple[str, str] | None:
    try:
        data = json.loads(value or "")
        command, text = str(data["command"]), str(data.get("text") or "")
    except (ValueError, KeyError, TypeError):
        return None
    return (command, text) if command in command_names() else None


def _post(
    future: Future[Answer],
    client: WebClient,
    respond: Callable[..., Any],
    channel_id: str,
    user_id: str,
    asked: str = "",
) -> None:
    try:
        result = future.result()
        if not result.shareable:
            respond(response_type="ephemeral", replace_original=False, **result.message)
            return
        blocks = result.message["blocks"] + [shared_by_block(user_id)]
        text = result.message["text"]
        try:
            posted = client.chat_postMessage(
                channel=channel_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
            )
            send_charts(client, result, asked, channel=channel_id, thread_ts=posted.get("ts"))
        except SlackApiError as err:
            error = err.response.get("error") if err.response is not None else None
            if error not in FALLBACK_ERRORS:
                raise
            respond(response_type="in_channel", replace_original=False, text=text, blocks=blocks)
    except Exception as err:  # noqa: BLE001
        log.warning("sharing in %s failed: %s", channel_id, type(err).__name__)
        try:
            respond(
                response_type="ephemeral",
                replace_original=False,
                **plain(_("Sorry, I couldn't share that in the channel. Please try again.")),
            )
        except Exception:  # noqa: BLE001
            log.warning("could not tell the user that sharing failed")
