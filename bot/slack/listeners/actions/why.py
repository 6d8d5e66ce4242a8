"""The "Why did it move?" button on alert messages: run the matching `/pulse why …` and answer privately."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from slack_bolt import App

from bot.alerts.message import WHY_ACTION
from bot.slack.answering import Answer
from bot.slack.listeners.actions.share import button_query
from bot.slack.runtime import SlackRuntime, just_ack

log = logging.getLogger(__name__)


def register(app: App, rt: SlackRuntime) -> None:
    def handle_why(body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        explain(rt, body, action, respond)

    app.action(WHY_ACTION)(ack=just_ack, lazy=[handle_why])


def explain(rt: SlackRuntime, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]) -> None:
    found = button_query(rt, body, action, respond, "This button is out of date — try `/pulse why <metric>`.")
    if found is None:
        return
    future = rt.runner.submit(found.parsed, found.command, found.text, share_button=True)
    future.add_done_callback(lambda f: _answer(f, respond))


def _answer(future: Future[Answer], respond: Callable[..., Any]) -> None:
    try:
        respond(response_type="ephemeral", replace_original=False, **future.result().message)
    except Exception as err:  # noqa: BLE001
        log.warning("answering an alert's why button failed: %s", type(err).__name__)
