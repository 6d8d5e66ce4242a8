"""`pulse serve`: the ASGI server under uvicorn, starting whichever parts are configured — Slack (over HTTP or
Socket Mode), the add-on API, the scheduler — and saying at start which are on and why the others are off."""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI
from slack_bolt import App

from bot.addon.api import install as install_addon
from bot.context import Context, warm, warm_segments
from bot.server import create_app
from bot.slack.app import SlackConfigError, build_app
from config import ConfigError, secret

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)

# How long a thread may hold the GIL while another waits for it (Python's default is 5 ms). A query computing holds
# it; every step of an ack (the event loop reading the request, the dispatch thread, the reply) waits up to this for
# its turn, so 1 ms lets a burst's acks through sooner for a few % more switching (README "Benchmarks").
SWITCH_INTERVAL = 0.001


class NothingToServe(ConfigError):
    """No part is configured: there is nothing for the server to do."""


@dataclass
class Server:
    """The built server: the ASGI app, what runs in the background, and one line per part (on, or off and why)."""

    api: FastAPI
    parts: dict[str, str] = field(default_factory=dict)
    socket_handler: Any = None
    scheduler: Any = None
    preload: threading.Thread | None = None

    def close(self) -> None:
        if self.socket_handler is not None:
            self.socket_handler.close()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)


def serve(ctx: Context, port: int, socket_mode: bool = False, host: str = "0.0.0.0", scheduler: bool = True) -> None:
    """Run until interrupted. HTTP mode: Slack posts to `/slack/events`. Socket Mode: the app dials out to Slack
    with SLACK_APP_TOKEN and the HTTP server still serves `/healthz` and the add-on API."""
    server = build_server(ctx, socket_mode=socket_mode, scheduler=scheduler)
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        uvicorn.run(server.api, host=host, port=port, log_level="info")
    finally:
        server.close()


def build_server(ctx: Context, *, socket_mode: bool = False, scheduler: bool = True) -> Server:
    """Start the configured parts and log one line for each; raises NothingToServe when none is configured.
    `--socket` is an explicit request for Slack, so its missing tokens stop the start instead of turning Slack off."""
    parts: dict[str, str] = {}
    migrate_state(ctx)
    slack_app, why_not = _slack(ctx, socket_mode)
    handler = connect_socket_mode(slack_app) if slack_app is not None and socket_mode else None
    if slack_app is not None:
        parts["Slack"] = "on: Socket Mode" if socket_mode else "on: HTTP at /slack/events"
    else:
        parts["Slack"] = f"off: {why_not}"
    api = create_app(ctx, slack_app=slack_app if slack_app is not None and not socket_mode else None)
    addon_why_not = _addon_missing(ctx)
    if addon_why_not is None:
        install_addon(api, ctx)
        ways = [
            w
            for w, on in (
                ("Google identity tokens", api.state.addon.identity is not None),
                ("HMAC-signed requests", bool(api.state.addon.verifier.secret)),
            )
            if on
        ]
        parts["add-on API"] = f"on: /addon/ ({' and '.join(ways)})"
    else:
        parts["add-on API"] = f"off: {addon_why_not}"
    running = None
    if not scheduler:
        parts["scheduler"] = "off: --no-scheduler (run `pulse scheduler` in one process instead)"
    else:
        try:
            from bot.leader import Leadership

            running = _start_scheduler(ctx)
            if running is None:
                parts["scheduler"] = "off: another crm-pulse process runs the scheduler (it holds the lock)"
            elif isinstance(running, Leadership):  # [state] url: /healthz says leader or standby
                parts["scheduler"] = (
                    "on: leader election over the PostgreSQL state (jobs run while this instance leads)"
                )
                api.state.scheduler_role = lambda: running.role
            else:
                parts["scheduler"] = "on"
        except Exception as err:  # noqa: BLE001 - damaged state is healed first; what is left never stops the server
            parts["scheduler"] = f"off: it could not start ({type(err).__name__}: {err})"
    if all(state.startswith("off") for state in parts.values()):
        if handler is not None:
            handler.close()
        raise NothingToServe("nothing to serve: " + "; ".join(f"{name} {state}" for name, state in parts.items()))
    api.state.parts = parts
    for name, state in parts.items():
        log.info("%s %s", name, state)
    return Server(api, parts, handler, running, preload(ctx))


def preload(ctx: Context) -> threading.Thread:
    """Read the snapshot (and build its per-snapshot arrays) and import the chart module now, behind the start, so
    the first question does not wait for them; a question arriving earlier waits for this same read. A failed read
    is kept for that question. A source pushed down to its warehouse (`[source] pushdown = true`) whose tables need
    no reading gets its connection, checks and validation rules warmed instead, and no row is read."""

    def read() -> None:
        try:
            if not warm_pushdown(ctx):
                tables = ctx.tables(ctx.snapshot().snapshot)
                warm(tables)  # a snapshot from the disk cache was not read by Context._load, which builds these
                warm_segments(tables)
        except Exception as err:  # noqa: BLE001 - the first question reports it; the server keeps running
            log.warning("could not read the workbook at start: %s", err)
        import bot.charts  # noqa: F401 - matplotlib, for the first cohort or survival chart (seconds to import)

    thread = threading.Thread(target=read, name="snapshot-preload", daemon=True)
    thread.start()
    return thread


def warm_pushdown(ctx: Context) -> bool:
    """Open the warehouse and run what every pushed-down answer reuses (the tables' checks, the validation rules);
    True when the questions need no row then — every table can be aggregated as it is — so the snapshot is not
    read; False to read it (not pushed down, or a table the rules reject rows of)."""
    from bot.pushdown import issues_without_rows, shown_rules

    if issues_without_rows(ctx) is None:
        return False
    shown_rules(ctx)
    return True


def migrate_state(ctx: Context) -> None:
    """With `[state] url`, bring the PostgreSQL schema up to date before anything uses it (idempotent, locked)."""
    from config.settings import state_url

    url = state_url(ctx.settings)
    if url is not None:
        from bot.pulse_log import share_queue
        from bot.state_pg import migrate

        applied = migrate(url)
        log.info("state: PostgreSQL%s", f" (migrations {applied} applied)" if applied else "")
        share_queue(url)  # Pulse Log notes of this instance are written by whichever writes the log next


def _slack(ctx: Context, socket_mode: bool) -> tuple[App | None, str]:
    """The bolt app when its secrets are set, else None and what is missing (Socket Mode: raise, it was asked for)."""
    if socket_mode:
        return build_app(ctx, socket_mode=True), ""
    token, signing = secret("SLACK_BOT_TOKEN"), secret("SLACK_SIGNING_SECRET")
    if not token and not signing:
        return None, "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set"
    if not token or not signing:
        missing = "SLACK_BOT_TOKEN" if not token else "SLACK_SIGNING_SECRET"
        log.warning("Slack is half configured: %s is not set, so Slack stays off", missing)
        return None, f"{missing} is not set (the other Slack variable is)"
    return build_app(ctx), ""


def _addon_missing(ctx: Context) -> str | None:
    """Why the add-on API cannot run (neither identity tokens nor a secret, or no spreadsheet), or None when it can."""
    from bot.addon.api import addon_spreadsheet
    from bot.addon.identity import identity_missing

    identity_off = identity_missing(ctx.settings)
    if identity_off is not None and not secret("PULSE_ADDON_SECRET"):
        return f"PULSE_ADDON_SECRET is not set and identity tokens are off ({identity_off})"
    if addon_spreadsheet(ctx.settings) is None:
        return "no spreadsheet to serve: set addon.spreadsheet_id (or source.sheet) in the config"
    return None


def connect_socket_mode(slack_app: App, app_token: str | None = None) -> SocketModeHandler:
    """Open the Socket Mode WebSocket (`apps.connections.open` with SLACK_APP_TOKEN); returns the running handler."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app_token = app_token or secret("SLACK_APP_TOKEN")
    if not app_token:
        raise SlackConfigError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with connections:write"
        )
    handler = SocketModeHandler(slack_app, app_token)
    handler.connect()
    log.info("Slack Socket Mode connected")
    return handler


def _start_scheduler(ctx: Context):
    """Run the digest/refresh scheduler in this process; None when another process holds its lock."""
    from bot.scheduler import start_scheduler

    return start_scheduler(ctx)
