"""The one ASGI app: Slack at `/slack/events` (bolt, HTTP mode), the add-on API under `/addon/`, and `/healthz`.

Every request passes `RequestGuard` first: its body is read with a size cap (413 beyond `MAX_BODY_BYTES`, without
reading the rest) and the check registered for its path (the Slack or the add-on signature) runs on the raw bytes
before anything decodes or parses them. A refused request gets a 4xx problem+json answer and one log line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
from fastapi import FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.datastructures import Headers

from bot.context import Context
from bot.errors import RequestRefused, problem
from bot.replay import seen_store
from bot.slack.app import signing_secret_of
from bot.slack.signing import SlackRequestCheck
from config.settings import StateUnavailable

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000
ACK_THREADS = 8  # bolt dispatches at once; more than the query workers, so acks go on while answers wait inline
PROBLEM = "application/problem+json"
VERIFIED = "pulse_verified"
CALLER = "pulse_caller"  # what the check returned: the caller's verified e-mail for identity tokens, else None

# A check sees the headers and the raw body; it raises RequestRefused, or returns the caller (kept as CALLER).
Check = Callable[[Mapping[str, str], bytes], Any]
ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def create_app(ctx: Context, *, slack_app: App | None = None) -> FastAPI:
    """The server; without `slack_app` (Socket Mode, or no Slack) it serves no `/slack/events`.

    The add-on API is attached to it by `bot.addon.api.install(api, ctx)` under `/addon/` (see `bot.serve`)."""
    api = FastAPI(title="crm-pulse", version="0.1.0")
    api.state.ctx = ctx
    api.state.checks = {}
    api.add_middleware(RequestGuard, checks=api.state.checks)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        health = {"status": "ok", "slack": "http" if slack_app is not None else "off"}
        role = getattr(api.state, "scheduler_role", None)  # with [state] url: "leader" or "standby"
        if role is not None:
            health["scheduler"] = role()
        return health

    if slack_app is not None:
        mount_slack(api, slack_app)
    return api


def guard(api: FastAPI, prefix: str, check: Check) -> None:
    """Run `check` on the raw request to every path starting with `prefix`, before the route reads the body."""
    api.state.checks[prefix] = check


def mount_slack(api: FastAPI, slack_app: App) -> None:
    """POST /slack/events → bolt. Dispatch runs on a few threads of its own (ACK_THREADS): each listener acks and
    returns at once (`process_before_response`), and fewer threads taking turns on the GIL ack a burst sooner."""
    guard(api, SLACK_PATH, SlackRequestCheck(signing_secret_of(slack_app), seen=seen_store(api.state.ctx.settings)))

    # At most ACK_THREADS Slack requests are dispatched at once (starlette's shared pool would allow 40): in a burst
    # of 200 commands fewer threads take turns on the GIL, so each ack is sent sooner (README "Benchmarks").
    acking = anyio.CapacityLimiter(ACK_THREADS)

    @api.post(SLACK_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        received_at = time.monotonic()
        body = await request.body()
        try:
            bolt_request = to_bolt_request(request, body, {"received_at": received_at})
        except Exception as err:  # noqa: BLE001 - a signed but malformed payload is the sender's error, not ours
            return refuse(
                request.method, request.url.path, RequestRefused(400, f"malformed Slack payload ({type(err).__name__})")
            )
        bolt_response = await anyio.to_thread.run_sync(slack_app.dispatch, bolt_request, limiter=acking)
        return to_starlette_response(bolt_response)


def refuse(method: str, path: str, err: RequestRefused) -> Response:
    """The answer to a refused request (problem+json; an empty 200 for an acknowledged retry) and its one log line."""
    log.warning("refused %s %r: %d %s", method, path[:100], err.status, err.detail)  # %r: no line breaks from the path
    if err.status == 200:
        return Response(status_code=200)
    body, _ = problem(err)
    return Response(json.dumps(body), status_code=err.status, media_type=PROBLEM)


class RequestGuard:
    """ASGI middleware: cap the body, run the path's check on the raw bytes, then hand the body on unchanged."""

    def __init__(self, app: ASGIApp, checks: dict[str, Check], limit: int = MAX_BODY_BYTES):
        self.app, self.checks, self.limit = app, checks, limit

    async def __call__(
        self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        headers = Headers(scope=scope)
        try:
            body = await self._read(headers, receive)
            check = next((c for prefix, c in self.checks.items() if path.startswith(prefix)), None)
            if check is not None:
                caller = check(headers, body)
                scope.setdefault("state", {})[VERIFIED] = True
                scope["state"][CALLER] = caller
        except RequestRefused as err:
            await refuse(method, path, err)(scope, receive, send)
            return
        except StateUnavailable as err:  # shared seen-store down: refuse (retryable), never accept unchecked
            await refuse(method, path, RequestRefused(503, str(err)))(scope, receive, send)
            return
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, headers: Headers, receive: Callable[[], Awaitable[dict]]) -> bytes:
        """The whole body, or RequestRefused(413) as soon as it is known to exceed the limit (declared or streamed)."""
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            raise RequestRefused(413, f"request body over {self.limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestRefused(400, "client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise RequestRefused(413, f"request body over {self.limit:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
