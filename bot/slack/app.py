"""Build the bolt App: tokens from the environment, a retrying Web API client, no Slack call at start-up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from weakref import WeakKeyDictionary

from slack_bolt import App

from bot.context import Context
from bot.slack.client import web_client
from bot.slack.listeners import register_listeners
from bot.slack.runtime import SlackRuntime
from config import ConfigError, secret

LISTENER_THREADS = 32  # lazy listeners (button and mention work after the ack)
_SIGNING_SECRETS: WeakKeyDictionary[App, str] = WeakKeyDictionary()


class SlackConfigError(ConfigError):
    """A missing or malformed Slack setting, phrased for the person starting the server."""


def build_app(
    ctx: Context,
    *,
    token: str | None = None,
    signing_secret: str | None = None,
    api_url: str | None = None,
    socket_mode: bool = False,
    runtime: SlackRuntime | None = None,
) -> App:
    """The bolt App with every listener; HTTP mode verifies request signatures, Socket Mode needs no secret."""
    token = token or secret("SLACK_BOT_TOKEN")
    if not token:
        raise SlackConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"
        )
    signing_secret = signing_secret or secret("SLACK_SIGNING_SECRET")
    if not signing_secret and not socket_mode:
        raise SlackConfigError(
            "SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page (or use Socket Mode)"
        )
    app = App(
        client=web_client(token, api_url),
        # Slack gets its HTTP answer when the listener returns, and every listener returns right after ack(): no
        # thread waits for the ack by polling (bolt's default polls every 10 ms from a second thread per request),
        # and work after the ack runs on the query pool or as a lazy listener (bot/slack/listeners).
        process_before_response=True,
        signing_secret=signing_secret or "",
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="pulse-listener"),
        name="crm-pulse",
    )
    register_listeners(app, ctx, runtime)
    _SIGNING_SECRETS[app] = signing_secret or ""
    return app


def signing_secret_of(app: App) -> str | None:
    """The signing secret `app` was built with, for the server's own check before bolt sees a request."""
    return _SIGNING_SECRETS.get(app) or secret("SLACK_SIGNING_SECRET")
