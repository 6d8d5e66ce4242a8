"""`pulse serve`: the ASGI server under uvicorn, with Slack over HTTP or over Socket Mode."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import uvicorn
from slack_bolt import App

from bot.addon.api import install as install_addon
from bot.context import Context
from bot.server import create_app
from bot.slack.app import SlackConfigError, build_app
from config import secret

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)


def serve(ctx: Context, port: int, socket_mode: bool = False, host: str = "0.0.0.0", scheduler: bool = True) -> None:
    """Run until interrupted. HTTP mode: Slack posts to `/slack/events`. Socket Mode: the app dials out to Slack
    with SLACK_APP_TOKEN and the HTTP server still serves `/healthz` and the add-on API."""
    slack_app = build_app(ctx, socket_mode=socket_mode)
    handler = connect_socket_mode(slack_app) if socket_mode else None
    if scheduler:
        _start_scheduler(ctx)
    api = create_app(ctx, slack_app=None if socket_mode else slack_app)
    install_addon(api, ctx)
    try:
        uvicorn.run(api, host=host, port=port, log_level="info")
    finally:
        if handler is not None:
            handler.close()


def connect_socket_mode(slack_app: App, app_token: str | None = None) -> "SocketModeHandler":
    """Open the Socket Mode WebSocket (`apps.connections.open` with SLACK_APP_TOKEN); returns the running handler."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app_token = app_token or secret("SLACK_APP_TOKEN")
    if not app_token:
        raise SlackConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with connections:write")
    handler = SocketModeHandler(slack_app, app_token)
    handler.connect()
    log.info("Slack Socket Mode connected")
    return handler


def _start_scheduler(ctx: Context) -> None:
    """Run the digest/refresh scheduler in this process (it stands down if another process holds its lock)."""
    from bot.scheduler import start_scheduler

    start_scheduler(ctx)
