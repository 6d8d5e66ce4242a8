"""The add-on API routes (mounted under `/addon/`): KPI cards, refresh, digest preview/post, data issues.

Every route takes a signed JSON body naming the spreadsheet; errors are `application/problem+json`. Every answer
carries `Content-Language` (the configured language), which the script remembers to speak it (sheets/addon/Code.gs).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.addon.auth import AuthError, Verifier
from bot.addon.debounce import Debouncer
from bot.addon.identity import IdentityVerifier, identity_verifier
from bot.addon.views import digest_outcome, kpi_cards
from bot.alerts.run import after_refresh
from bot.context import Context
from bot.digest.builder import build_digest
from bot.digest.post import post_now
from bot.digest.render import render_json as digest_json
from bot.digest.schedule import destinations
from bot.errors import RequestRefused, problem, sentence
from bot.grammar import Command, check_period
from bot.i18n import DEFAULT, N_, _, use
from bot.query import data_issues, reply_to
from bot.ratelimit import rate_limiter
from bot.reasons import reasons_in_language, rule_rows
from bot.render import format as fmt
from bot.replay import seen_store
from bot.replies import ErrorReply, OverviewReply
from bot.server import CALLER, VERIFIED, guard
from bot.tabs import already_running, refresh
from config import Settings, secret
from metrics.errors import PulseError
from metrics.periods import PeriodError
from sheets.workbook import ISSUES_TAB

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
LANGUAGE_HEADER = "Content-Language"


class Problem(PulseError):
    """An answer the add-on API decides itself (not bound to this spreadsheet, rate-limited, busy…), with its status
    and title; `bot.errors.problem` renders it like every other error."""

    def __init__(self, status: int, title: str, detail: str, extra: dict | None = None):
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem_response(err: PulseError, language: str = DEFAULT) -> JSONResponse:
    """The problem+json response for an error (`bot.errors.problem`: status, title, detail, Retry-After), its title
    in `language` (the statuses' and the add-on's own titles are in the catalogue; English is the title itself)."""
    body, headers = problem(err)
    with use(language):
        body["title"] = _(body["title"])
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM, headers=headers)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    spreadsheet_id: str = Field(..., min_length=1, max_length=200, description="The spreadsheet the add-on runs in")
    nonce: str | None = Field(
        None, max_length=100, description="Random per request, so identical requests in one second sign differently"
    )


class KpiRequest(_Body):
    period: str = Field("last-month", min_length=1, max_length=60, description="Any period form, e.g. last-quarter")


class RefreshRequest(_Body):
    trigger: Literal["edit", "manual"] = Field("manual", description="edit: debounced; manual: now")


class DigestRequest(_Body):
    action: Literal["preview", "post"] = "preview"


class IssuesRequest(_Body):
    limit: int = Field(100, ge=1, le=1000)


def addon_spreadsheet(s: Settings) -> str | None:
    """The spreadsheet the add-on runs in: `addon.spreadsheet_id`, else the key of `source.sheet`, else (a SQL source)
    the key of `[output] sheet`, where its summary tabs go."""
    from sheets.google.keys import sheet_key

    if s.addon.spreadsheet_id:
        return s.addon.spreadsheet_id
    sheet = s.source.sheet or (s.output.sheet if s.source.kind == "sql" else None)
    return sheet_key(sheet) if sheet else None


class AddonState:
    """Per-server add-on state: verifier, rate limiter, and the edit debouncer."""

    def __init__(self, ctx: Context):
        s = ctx.settings.addon
        self.ctx = ctx
        self.verifier = Verifier(secret("PULSE_ADDON_SECRET"), s.max_skew_seconds, seen=seen_store(ctx.settings))
        self.identity = identity_verifier(ctx.settings)
        self.limiter = rate_limiter(ctx.settings, s.rate_limit_per_minute, "addon spreadsheet")
        self.debouncer = Debouncer(s.refresh_debounce_seconds, self._refresh_from_edits)
        self.refreshes = 0
        self.completed = 0
        self._count_lock = threading.Lock()

    def expected_spreadsheet(self) -> str | None:
        """The spreadsheet this deployment serves (`addon_spreadsheet`)."""
        return addon_spreadsheet(self.ctx.settings)

    def run_refresh(self, reason: str):
        with self._count_lock:
            self.refreshes += 1
        try:
            report = refresh(self.ctx, reason=reason)
            if not report.skipped:
                after_refresh(self.ctx)
            return report
        finally:
            with self._count_lock:
                self.completed += 1

    def _refresh_from_edits(self) -> None:
        try:
            if self.run_refresh("sheet edits").skipped:
                self.debouncer.trigger()  # a refresh was already running and may have read before these edits: go again
        except Exception:  # a background refresh logs, it has nobody to answer
            log.exception("edit-triggered refresh failed")


def check_signature(verifier: Verifier, identity: IdentityVerifier | None = None):
    """The server's check for `/addon/` (see `bot.server.RequestGuard`), before the body is parsed: a Google
    identity token (`Authorization: Bearer`) when enabled, else the HMAC signature. Returns the caller's e-mail (None
    for HMAC)."""

    def check(headers, body: bytes) -> str | None:
        try:
            bearer = headers.get("authorization", "")
            if bearer[:7].lower() == "bearer ":
                if identity is None:
                    raise AuthError(
                        "identity tokens are not enabled on this server: set addon.oauth_client_id and an allow-list"
                    )
                return identity.verify(bearer[7:].strip())
            if identity is not None and not verifier.secret:
                raise AuthError("missing Authorization: Bearer <identity token>")
            verifier.verify(headers.get("x-pulse-timestamp"), headers.get("x-pulse-signature"), body)
            return None
        except AuthError as err:
            raise RequestRefused(401, str(err)) from None

    return check


async def authenticated(request: Request, response: Response) -> bytes:
    """Dependency: the signature was checked (by the server's guard), then the spreadsheet binding and rate limit."""
    state: AddonState = request.app.state.addon
    response.headers[LANGUAGE_HEADER] = state.ctx.settings.language
    if not getattr(request.state, VERIFIED, False):
        raise Problem(401, N_("Unauthorized"), "request signature was not checked")
    body = await request.body()
    try:
        claimed = json.loads(body or b"{}").get("spreadsheet_id")
    except (ValueError, AttributeError, RecursionError):
        claimed = None
    expected = state.expected_spreadsheet()
    if expected is None:
        raise Problem(403, N_("Forbidden"), "no spreadsheet is configured for the add-on; set addon.spreadsheet_id")
    if claimed is not None and claimed != expected:
        raise Problem(403, N_("Forbidden"), "this server is bound to a different spreadsheet")
    wait = state.limiter.allow(str(claimed or "unknown"))
    if wait is not None:
        raise Problem(429, N_("Too Many Requests"), f"rate limit reached; retry in {wait:.0f} s")
    return body


router = APIRouter(dependencies=[Depends(authenticated)], tags=["add-on"])


def _state(request: Request) -> AddonState:
    return request.app.state.addon


@router.post("/kpis", summary="Headline KPI cards for a period (same numbers as `pulse ask --json`)")
def kpis(req: KpiRequest, request: Request) -> dict[str, Any]:
    ctx = _state(request).ctx
    with use(ctx.settings.language):  # the cards, their errors and the sidebar's own words in the team's language
        return _kpis(req, ctx)


def _kpis(req: KpiRequest, ctx: Context) -> dict[str, Any]:
    reply = reply_to(overview_command(req.period), ctx)
    if isinstance(reply, ErrorReply):
        message = fmt.note(reply.message)
        if reply.suggestion and reply.suggestion not in message:  # offered once: the message may already ask it
            message = _("{message} — did you mean {suggestion}?", message=message, suggestion=reply.suggestion)
        raise Problem(400, N_("Bad Request"), message)
    if not isinstance(reply, OverviewReply):
        raise Problem(400, N_("Bad Request"), _("no KPI cards for that period"))
    return kpi_cards(reply, ctx.settings.currency)


def overview_command(period: str) -> Command | ErrorReply:
    """The overview of the request's period, typed: the period field is a period, never more command text."""
    try:
        text = check_period(period)
    except PeriodError as err:
        return ErrorReply(str(err), err.suggestion)
    return Command("metric", "overview", period=text, raw=f"overview {text}")


@router.post("/refresh", summary="Refresh the summary tabs now (manual) or after a quiet period (edit)")
def refresh_tabs(req: RefreshRequest, request: Request) -> dict[str, Any]:
    state = _state(request)
    if req.trigger == "edit":
        return {"status": state.debouncer.trigger(), "debounce_seconds": state.debouncer.delay}
    report = state.run_refresh("add-on")
    if report.skipped:
        since = report.running_since
        with use(state.ctx.settings.language):
            title, detail = _("Refresh already running"), already_running(since)
        raise Problem(409, title, detail, {"started_at": since.isoformat() if since else None})
    return {"status": "done", "written": report.written, "refused": report.refused}


@router.post("/digest", summary="Preview the weekly digest, or post it now")
def digest(req: DigestRequest, request: Request) -> dict[str, Any]:
    ctx = _state(request).ctx
    if req.action == "post":
        _require_admin(request, ctx.settings.addon.admins)
        configured = bool(destinations(ctx.settings))
        results = post_now(ctx) if configured else []
        with use(ctx.settings.language):  # each destination gets its own language; the person here the team's
            return digest_outcome(results, configured)
    return {"status": "preview", "digest": digest_json(build_digest(ctx))}


def _require_admin(request: Request, admins: list[str]) -> None:
    """Admin-only actions: with `addon.admins` set, the caller's verified e-mail (identity token) must be on it."""
    if not admins:
        return
    caller = getattr(request.state, CALLER, None)
    if caller is None:
        raise Problem(
            403,
            N_("Forbidden"),
            "only addon.admins may post the digest, and a shared-secret request names no one: use identity tokens",
        )
    if caller not in {a.strip().lower() for a in admins}:
        raise Problem(403, N_("Forbidden"), f"only addon.admins may post the digest; {caller} is not one of them")


@router.post("/issues", summary="Rows left out as invalid: tab, row, column, value, reason")
def issues(req: IssuesRequest, request: Request) -> dict[str, Any]:
    """The data issues as `/pulse issues` lists them: on a SQL source the validation rules run in the database
    first (one row per rule, no row number), then the source's issues; `limit` rows at most, `count` the issues."""
    from bot.pushdown import shown_rules

    ctx = _state(request).ctx
    listed, _as_of = data_issues(ctx)
    rows = rule_rows(shown_rules(ctx) or [])
    rows += [[i.tab, i.row, i.column, i.value, i.reason, i.severity] for i in listed]
    with use(ctx.settings.language):  # the reason worded as `/pulse issues` and Pulse Data Issues word it
        worded = reasons_in_language(rows[: req.limit])
    keys = ("tab", "row", "column", "value", "reason", "severity")
    shown = [{**dict(zip(keys, row, strict=True)), "value": str(row[3])} for row in worded]
    return {"count": len(listed), "issues": shown, "tab": ISSUES_TAB}


def install(api: FastAPI, ctx: Context) -> None:
    """Attach the add-on state, routes and problem-JSON error handlers to the server."""
    api.state.addon = AddonState(ctx)
    guard(api, "/addon/", check_signature(api.state.addon.verifier, api.state.addon.identity))
    api.include_router(router, prefix="/addon")

    @api.exception_handler(PulseError)
    async def _problem(request: Request, err: PulseError) -> JSONResponse:
        if not isinstance(err, Problem):
            log.warning("add-on %s: %s", request.url.path, sentence(err))
        return _in_language(problem_response(err, ctx.settings.language), ctx)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in err.errors()]
        return _in_language(
            problem_response(
                Problem(422, N_("Invalid request"), "the request body does not match the schema", {"errors": errors}),
                ctx.settings.language,
            ),
            ctx,
        )


def _in_language(response: JSONResponse, ctx: Context) -> JSONResponse:
    """An error answer naming the configured language too, so the script speaks it from the first reply on."""
    response.headers[LANGUAGE_HEADER] = ctx.settings.language
    return response
