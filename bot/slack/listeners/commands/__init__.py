"""Slash-command listeners, one module per command family."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.commands import metric, pulse
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    pulse.register(app, rt)
    metric.register(app, rt)
