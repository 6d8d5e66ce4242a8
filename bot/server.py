"""The one ASGI app: Slack at `/slack/events` (bolt, HTTP mode), the add-on API under `/addon/`, and `/healthz`."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from bot.context import Context

SLACK_PATH = "/slack/events"


def create_app(ctx: Context, *, slack_app: App | None = None) -> FastAPI:
    """The server; without `slack_app` (Socket Mode, or no Slack) it serves no `/slack/events`.

    The add-on API is attached to it by `bot.addon.api.install(api, ctx)` under `/addon/` (see `bot.serve`)."""
    api = FastAPI(title="crm-pulse", version="0.1.0")
    api.state.ctx = ctx

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "slack": "http" if slack_app is not None else "off"}

    if slack_app is not None:
        mount_slack(api, slack_app)
    return api


def mount_slack(api: FastAPI, slack_app: App) -> None:
    """POST /slack/events → bolt. Dispatch runs in a worker thread: it blocks until the listener acks."""

    @api.post(SLACK_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        received_at = time.monotonic()
        body = await request.body()
        bolt_request = to_bolt_request(request, body, {"received_at": received_at})
        bolt_response = await run_in_threadpool(slack_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)
