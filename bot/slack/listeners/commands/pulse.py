"""The umbrella `/pulse` command: any metric plus help, refresh (admins), digest, targets, issues, alerts."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.listeners.commands.flow import answer_command
from bot.slack.manifest import PULSE_COMMAND
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(PULSE_COMMAND)
    def handle_pulse_command(ack: Any, respond: Any, body: dict[str, Any], context: Any, client: Any) -> None:
        answer_command(rt, ack, respond, body, context.get("received_at"), client)
