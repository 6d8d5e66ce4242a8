"""Evaluate every rule after a refresh, post transitions (fired / back to normal) once, and log them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.alerts.message import alert_message, recovery_message
from bot.alerts.rules import Evaluation, evaluate, judge, unanswerable, window
from bot.alerts.state import load_state, read_state, save_state, state_path
from bot.context import Context
from bot.i18n import use
from bot.pulse_log import append_log, flush_deferred
from bot.state_files import quarantine
from config.settings import AlertRule, segment_filter
from metrics.engine import MetricError
from metrics.options import MetricOptions
from metrics.periods import comparison_period
from metrics.tables import Tables
from sheets.cache import CachedSnapshot

if TYPE_CHECKING:
    from bot.state_pg import PgAlertState

log = logging.getLogger(__name__)

# (channel, blocks, text) → message ts; raises on failure.
Poster = Callable[[str, list[dict], str], str | None]


@dataclass(frozen=True)
class AlertEvent:
    """A state change of one rule: "fired" or "recovered", and whether it was posted."""

    rule: str
    kind: str
    evaluation: Evaluation
    posted: bool
    error: str | None = None


def evaluate_all(ctx: Context, *, own_language: bool = False) -> list[Evaluation]:
    """Current evaluation of every configured rule (no posting, no state change); with `own_language`, each rule's
    reason is worded in the rule's `language` (else the config's) for its post, otherwise in the caller's."""
    return evaluations_as_of(ctx, own_language=own_language)[0]


def evaluations_as_of(ctx: Context, *, own_language: bool = False) -> tuple[list[Evaluation], datetime]:
    """`evaluate_all`, and when its data was read: the snapshot's time when a rule needed the rows, else now (every
    rule computed by the warehouse, `[source] pushdown = true`, so no row was read)."""
    o = ctx.options()
    read: list[CachedSnapshot] = []  # the snapshot, read only when a rule cannot be answered by the warehouse

    def rows() -> Tables:
        if not read:
            read.append(ctx.snapshot())
        return ctx.tables(read[0].snapshot)

    out = []
    for rule in ctx.settings.alerts:
        with use(language(ctx, rule) if own_language else None):
            pushed = pushed_evaluation(ctx, rule, o)
            out.append(pushed or evaluate(rule, rows(), ctx.today(), o, ctx.settings.surveys.min_n))
    return out, read[0].snapshot.read_at if read else ctx.now()


def pushed_evaluation(ctx: Context, rule: AlertRule, o: MetricOptions) -> Evaluation | None:
    """`evaluate` with the metric over the window and the window before computed by the warehouse (`[source]
    pushdown = true`); None when it cannot be pushed down, to evaluate from the snapshot."""
    from bot.pushdown import compute_pushed, pushed_down

    if not pushed_down(ctx):
        return None
    p = window(rule, ctx.today())
    try:
        where = segment_filter(rule.segment)
        r = compute_pushed(ctx, rule.metric, p, o, where=where, compare_to=comparison_period(p))
    except (MetricError, ValueError) as err:
        return unanswerable(rule, err)
    except Exception as err:  # noqa: BLE001 - a query the database cannot run: the rule is evaluated from the rows
        log.warning("alert %s evaluated from the rows: the warehouse query failed: %s", rule.name, err)
        return None
    return None if r is None else judge(rule, r, ctx.settings.surveys.min_n)


def language(ctx: Context, rule: AlertRule) -> str:
    """The language a rule's messages are posted in: its own `language`, else the config's."""
    return rule.language or ctx.settings.language


def evaluate_and_notify(ctx: Context, post: Poster) -> list[AlertEvent]:
    """Post each rule whose condition started or stopped holding since the last run; persist the new state.

    A rule whose post fails keeps its old state, so the next run tries again. A damaged state file is moved aside
    and rebuilt from the current evaluations without posting (what was posted before is unknown: posting could
    repeat an alert), with a `Pulse Log` entry per rule; later changes post as usual.
    """
    shared = _shared_state(ctx)
    path = state_path()
    state, problem = (shared.read(), None) if shared is not None else read_state(path)
    if problem is not None:
        try:
            quarantine(path, "alert state", problem)
        except OSError as err:  # cannot even move it: rebuild in memory, the save below says what happens next
            log.warning("alert state %s is damaged (%s) and cannot be moved aside: %s", path.name, problem, err)
    events: list[AlertEvent] = []
    for ev in evaluate_all(ctx, own_language=True):
        name = ev.rule.name
        if ev.error:
            log.warning("alert %s cannot be evaluated: %s", name, ev.error)
            continue
        if problem is not None and name not in state:
            state[name] = {"active": ev.holds, "since": ctx.now().isoformat(), "value": ev.result.value}
            _log(ctx, name, "state rebuilt", ev, "holds now: not re-posted" if ev.holds else "normal")
            continue
        was_active = bool(state.get(name, {}).get("active"))
        if ev.holds == was_active:
            continue
        kind = "fired" if ev.holds else "recovered"
        with use(language(ctx, ev.rule)):
            blocks, text = (alert_message if ev.holds else recovery_message)(ev, ctx.settings.currency)
        entry = {"active": ev.holds, "since": ctx.now().isoformat(), "value": ev.result.value}
        try:
            if shared is None:
                post(ev.rule.channel, blocks, text)
            elif not shared.change(name, entry, partial(post, ev.rule.channel, blocks, text)):
                continue  # another instance posted this change first
        except Exception as err:  # noqa: BLE001 - a failed post is recorded and retried next run
            log.warning("alert %s: post failed: %s", name, err)
            events.append(AlertEvent(name, kind, ev, posted=False, error=str(err)))
            _log(ctx, name, kind, ev, f"post failed: {err}")
            continue
        state[name] = entry
        if shared is None:
            save_state(state, path)
        events.append(AlertEvent(name, kind, ev, posted=True))
        _log(ctx, name, kind, ev, "posted")
    if problem is not None:
        save_state(state, path)
    _flush_log(ctx)
    return events


def current_state(ctx: Context) -> dict[str, dict]:
    """The stored state of every rule (listing only): PostgreSQL with `[state] url`, else `alerts.json`."""
    shared = _shared_state(ctx)
    return shared.read() if shared is not None else load_state()


def _shared_state(ctx: Context) -> PgAlertState | None:
    """The alert state in PostgreSQL with `[state] url` (shared by instances), else None (`alerts.json`)."""
    from config.settings import state_url

    url = state_url(ctx.settings)
    if url is None:
        return None
    from bot.state_pg import PgAlertState

    return PgAlertState(url)


def _flush_log(ctx: Context) -> None:
    """Write the `Pulse Log` entries queued about state files (moved aside, unwritable)."""
    try:
        flush_deferred(ctx.workbook)
    except Exception as err:  # noqa: BLE001 - the log tab must never stop an alert
        log.warning("could not append to Pulse Log: %s", err)


def _log(ctx: Context, name: str, kind: str, ev: Evaluation, outcome: str) -> None:
    try:
        append_log(
            ctx.workbook,
            ctx.now(),
            f"alert {kind}",
            f"{name}: {ev.result.label} {ev.result.value} — {ev.reason}",
            outcome,
        )
    except Exception as err:  # noqa: BLE001 - the log tab must never stop an alert
        log.warning("could not append to Pulse Log: %s", err)


def slack_poster() -> Poster:
    """Post with the bot token from the environment (`SLACK_BOT_TOKEN`, `SLACK_API_URL`)."""
    from bot.slack.client import web_client
    from config import secret

    token = secret("SLACK_BOT_TOKEN")
    if not token:
        raise RuntimeError("SLACK_BOT_TOKEN is not set; alerts cannot be posted")
    client = web_client(token)

    def post(channel: str, blocks: list[dict], text: str) -> str | None:
        return client.chat_postMessage(channel=channel, blocks=blocks, text=text).get("ts")

    return post


def after_refresh(ctx: Context) -> list[AlertEvent]:
    """Evaluate alerts after a scheduled or add-on refresh, when rules and a bot token are configured."""
    from config import secret

    if not ctx.settings.alerts or not secret("SLACK_BOT_TOKEN"):
        return []
    try:
        return evaluate_and_notify(ctx, slack_poster())
    except Exception:  # alerting must never break the refresh that triggered it
        log.exception("alert evaluation failed")
        return []
