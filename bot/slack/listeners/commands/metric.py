"""Per-metric slash commands (`/nps`, `/churn`, …): the command name is the metric, the text the rest; which
metrics have one is in the catalogue (metrics/registry.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.listeners.commands.flow import answer_command
from bot.slack.manifest import metric_commands
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    def handle_metric_command(ack: Any, respond: Any, body: dict[str, Any], context: Any, client: Any) -> None:
        answer_command(rt, ack, respond, body, context.get("received_at"), client)

    for command in metric_commands():
        app.command(command)(handle_metric_command)
