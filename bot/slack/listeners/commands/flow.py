"""The path of every slash command: check access, ack within Slack's 3 s, deliver the answer via response_url."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from bot.grammar import Command
from bot.i18n import use
from bot.query import parse
from bot.replies import ErrorReply
from bot.slack.answering import Answer, apology, computing, plain
from bot.slack.charts import send_charts
from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)


def command_text(raw: str | None) -> str:
    """The text as the user typed it: Slack sends `&`, `<` and `>` as HTML entities."""
    return (raw or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def requested_action(cmd: Command | ErrorReply) -> str | None:
    """The access-relevant action of a parsed command ("refresh", "digest-post", …); None when it did not parse
    (its answer is the parse error)."""
    if isinstance(cmd, ErrorReply):
        return None
    if cmd.action == "digest" and cmd.post:
        return "digest-post"
    return cmd.action


def answer_command(
    rt: SlackRuntime,
    ack: Callable[..., Any],
    respond: Callable[..., Any],
    body: dict[str, Any],
    received_at: float | None,
    client: Any = None,
) -> None:
    """Ack with the answer when it is ready within `rt.ack_wait`, else ack "Computing…" and respond when done;
    then its charts, if any, go privately to the asker (`client` uploads them)."""
    command = body.get("command") or "/pulse"
    text = command_text(body.get("text"))
    # The ack's own words: the asker's language when already known (never asked for here), else the configured one.
    with use(rt.languages.cached(body.get("user_id") or "") or rt.runner.ctx.settings.language):
        try:
            _answer_command(rt, ack, respond, body, received_at, command, text, client)
        except Exception:  # never a 500 to Slack: an apology with an id the logs can be searched for
            error_id = uuid.uuid4().hex[:8]
            log.error("error %s handling %s %r", error_id, command, text, exc_info=True)
            ack(response_type="ephemeral", **apology(error_id, command, text))


def _answer_command(
    rt: SlackRuntime,
    ack: Callable[..., Any],
    respond: Callable[..., Any],
    body: dict[str, Any],
    received_at: float | None,
    command: str,
    text: str,
    client: Any = None,
) -> None:
    user_id = body.get("user_id") or ""
    parsed = parse(text, command)
    refusal = rt.access.check(user_id, body.get("channel_id"), requested_action(parsed))
    if refusal:
        ack(response_type="ephemeral", **plain(refusal))
        return
    started = received_at if received_at is not None else time.monotonic()
    future, queued = rt.runner.start(parsed, command, text, language=lambda: rt.languages.of(client, user_id))
    wait = 0.0 if queued else max(0.0, rt.ack_wait - (time.monotonic() - started))
    try:
        result = future.result(timeout=wait)
    except TimeoutError:
        ack(response_type="ephemeral", **computing(command, text))
        future.add_done_callback(lambda f: deliver(respond, f, command, text, client, user_id))
        return
    ack(response_type="ephemeral", **result.message)
    rt.runner.after_ack(send_charts, client, result, f"{command} {text}".strip(), user_id=user_id)


def deliver(
    respond: Callable[..., Any],
    future: Future[Answer],
    command: str,
    text: str,
    client: Any = None,
    user_id: str | None = None,
) -> None:
    """Send a finished answer to the response_url, replacing "Computing…"; a failed delivery is logged, never raised."""
    try:
        resp = respond(response_type="ephemeral", replace_original=True, **future.result().message)
        if getattr(resp, "status_code", 200) >= 400:
            log.warning("response_url refused the answer to %s %r: HTTP %s", command, text, resp.status_code)
        send_charts(client, future.result(), f"{command} {text}".strip(), user_id=user_id)
    except Exception as err:  # noqa: BLE001
        log.warning("could not deliver the answer to %s %r: %s", command, text, type(err).__name__)
