"""Interactive-component listeners (buttons)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.actions import share, why
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    share.register(app, rt)
    why.register(app, rt)
