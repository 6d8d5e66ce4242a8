"""The "Why did it move?" button on alert messages: run the matching `/pulse why …` and answer privately."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any, Callable

from slack_bolt import App

from bot.alerts.message import WHY_ACTION
from bot.slack.answering import Answer, plain
from bot.slack.listeners.actions.share import _query
from bot.slack.listeners.commands.flow import requested_action
from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(WHY_ACTION)
    def handle_why(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        explain(rt, body, action, respond)


def explain(rt: SlackRuntime, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]) -> None:
    user_id = (body.get("user") or {}).get("id") or ""
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    query = _query(action.get("value"))
    if query is None:
        respond(response_type="ephemeral", replace_original=False, **plain("This button is out of date — try `/pulse why <metric>`."))
        return
    command, text = query
    refusal = rt.access.check(user_id, channel_id, requested_action(text, command))
    if refusal:
        respond(response_type="ephemeral", replace_original=False, **plain(refusal))
        return
    future = rt.runner.submit(text, command, user_id, share_button=True)
    future.add_done_callback(lambda f: _answer(f, respond))


def _answer(future: Future[Answer], respond: Callable[..., Any]) -> None:
    try:
        respond(response_type="ephemeral", replace_original=False, **future.result().message)
    except Exception as err:  # noqa: BLE001
        log.warning("answering an alert's why button failed: %s", type(err).__name__)
