"""Answering in Slack: queries run on a bounded pool, turned into messages; failures become an apology with an error id.

A workbook failure (sheet not shared, Google rate-limiting or not answering) is not "our" failure: the user gets
the specific sentence the CLI prints too (sheets.google.errors.explain), not the apology.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.context import Context
from bot.errors import error_reply, sentence
from bot.grammar import Command, shorten
from bot.i18n import _, current, use
from bot.query import parse, reply_to
from bot.render import format as fmt
from bot.render import safe
from bot.render.blocks import _cut, render_blocks
from bot.render.limits import MAX_FALLBACK, MAX_SECTION
from bot.render.text import render_text
from bot.replies import ErrorReply, Reply
from metrics.errors import PulseError

log = logging.getLogger(__name__)

MAX_ASKED_CHARS = 200  # how much of the user's command our own messages quote back
AFTER_ACK_THREADS = 4


@dataclass
class Answer:
    """A query's outcome ready to send: the message payload (text + blocks) and whether the answer is worth sharing."""

    message: dict[str, Any]
    reply: Reply | None = None
    error_id: str | None = None
    language: str = field(default_factory=current)  # the language in force when answered: its charts' captions

    @property
    def shareable(self) -> bool:
        return self.reply is not None and not isinstance(self.reply, ErrorReply)


def message_for(
    reply: Reply, *, command: str, text: str, share_button: bool = True, currency: str = "USD"
) -> dict[str, Any]:
    """`text` (escaped plain-text fallback for notifications) and `blocks` for one reply."""
    rendered = render_text(reply, currency)
    # Errors (our wording with `examples`, shown only to the asker) and help keep their formatting: entities only.
    ours = isinstance(reply, ErrorReply) or getattr(reply, "markup", False)
    fallback = safe.markup(rendered) if ours else fmt.escape(rendered)
    if len(fallback) > MAX_FALLBACK:
        fallback = fallback[: MAX_FALLBACK - 1] + "…"
    blocks = render_blocks(reply, share_button=share_button, command=command, text=text, currency=currency)
    return {"text": fallback, "blocks": blocks}


def plain(text: str) -> dict[str, Any]:
    """A short message of our own wording (no sheet values), as a single mrkdwn section cut to Slack's section limit."""
    text = _cut(text, MAX_SECTION)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def quoted(command: str, text: str) -> str:
    """The command as typed, escaped and cut to MAX_ASKED_CHARS, for our own messages to quote inside `…`."""
    return fmt.escape(shorten(f"{command} {text}".strip(), MAX_ASKED_CHARS))


def apology(error_id: str, command: str, text: str) -> dict[str, Any]:
    asked = quoted(command, text)
    return plain(
        _(
            ":confused: Sorry, something went wrong on my side while answering `{asked}`. "
            "It is logged as error `{error_id}` — an admin can look it up. Please try again in a minute.",
            asked=asked,
            error_id=error_id,
        )
    )


def computing(command: str, text: str) -> dict[str, Any]:
    asked = quoted(command, text)
    return plain(
        _(":hourglass_flowing_sand: Computing… for `{asked}` — the answer will appear here shortly.", asked=asked)
    )


@dataclass
class QueryRunner:
    """Runs `answer()` on a bounded thread pool so a burst of commands never starves the ack path."""

    ctx: Context
    workers: int = 2
    _pool: ThreadPoolExecutor = field(init=False, repr=False)
    _after: ThreadPoolExecutor = field(init=False, repr=False)
    _pending: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pulse-query")
        self._after = ThreadPoolExecutor(max_workers=AFTER_ACK_THREADS, thread_name_prefix="pulse-after-ack")

    @property
    def currency(self) -> str:
        return self.ctx.settings.currency

    def submit(
        self,
        parsed: Command | ErrorReply,
        command: str,
        text: str,
        *,
        share_button: bool = True,
        language: Callable[[], str | None] | None = None,
    ) -> Future[Answer]:
        """Answer the parsed command on the pool; `command` and `text` as typed, for the message and its buttons.
        `language`, asked on the pool (never before the ack), may choose the asker's own language."""
        return self.start(parsed, command, text, share_button=share_button, language=language)[0]

    def start(
        self,
        parsed: Command | ErrorReply,
        command: str,
        text: str,
        *,
        share_button: bool = True,
        language: Callable[[], str | None] | None = None,
    ) -> tuple[Future[Answer], bool]:
        """Like `submit`, and whether the query had to queue (every worker taken when it arrived), decided under the
        same lock as the count, so a burst never has more than `workers` commands waiting for an answer in the ack."""
        with self._lock:
            queued = self._pending >= self.workers
            self._pending += 1
        try:
            return self._pool.submit(self._run, parsed, command, text, share_button, language), queued
        except RuntimeError:
            with self._lock:
                self._pending -= 1
            raise

    def after_ack(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn` off the thread that acks (chart uploads of an answer sent in the ack): Slack's HTTP answer
        waits for the listener to return."""
        self._after.submit(fn, *args, **kwargs)

    def run(self, parsed: Command | ErrorReply, command: str, text: str, *, share_button: bool = True) -> Answer:
        """Answer now, in the calling thread (Socket Mode tests, the share button's recompute)."""
        with self._lock:
            self._pending += 1
        return self._run(parsed, command, text, share_button)

    def _run(
        self,
        parsed: Command | ErrorReply,
        command: str,
        text: str,
        share_button: bool,
        language: Callable[[], str | None] | None = None,
    ) -> Answer:
        try:
            own = language() if language is not None else None
        except Exception:  # choosing the language must never cost the answer
            log.warning("could not choose the asker's language", exc_info=True)
            own = None
        if own is not None and own != self.ctx.settings.language and isinstance(parsed, ErrorReply):
            with use(own):  # the parse error was worded in the configured language in the ack path
                parsed = parse(text, command)
        with use(own or self.ctx.settings.language):
            return self._answer(parsed, command, text, share_button)

    def _answer(self, parsed: Command | ErrorReply, command: str, text: str, share_button: bool) -> Answer:
        try:
            reply = reply_to(parsed, self.ctx)
            message = message_for(reply, command=command, text=text, share_button=share_button, currency=self.currency)
            return Answer(message, reply)
        except PulseError as err:  # the source, the state…: their own sentence (bot.errors), not an apology
            log.warning("could not answer %r %r: %s", command, text, sentence(err))
            reply = error_reply(err)
            return Answer(
                message_for(reply, command=command, text=text, share_button=False, currency=self.currency), reply
            )
        except Exception as err:  # the user gets an apology with an id, the log gets the trace
            error_id = uuid.uuid4().hex[:8]
            log.error("error %s answering %r %r: %s", error_id, command, text, type(err).__name__, exc_info=True)
            return Answer(apology(error_id, command, text), None, error_id)
        finally:
            with self._lock:
                self._pending -= 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._after.shutdown(wait=False, cancel_futures=True)
