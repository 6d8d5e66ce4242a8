"""Events API listeners (app mentions)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.events import mention
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    mention.register(app, rt)
