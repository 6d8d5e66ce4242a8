"""All listeners of the bolt app, registered in one place (bolt-python starter-template layout)."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Context
from bot.slack.listeners import actions, commands, events
from bot.slack.runtime import SlackRuntime


def register_listeners(app: App, ctx: Context, runtime: SlackRuntime | None = None) -> SlackRuntime:
    """Register every slash command, action and event on `app`; returns the shared runtime."""
    rt = runtime or SlackRuntime(ctx)
    commands.register(app, rt)
    actions.register(app, rt)
    events.register(app, rt)
    return rt
