"""Where every error of the tree in `metrics.errors` meets the surfaces, in one place: the sentence Slack and the
text answers show (`error_reply`), the problem+json status, title and headers of the HTTP APIs (`problem`), and the
CLI's exit code (`exit_code`). The tree and what each branch means are documented in `metrics.errors`."""

from __future__ import annotations

from typing import Any

from bot.i18n import N_
from bot.replies import ErrorReply
from metrics.errors import BadCommand, BadData, NotConfigured, PulseError, Refused, SourceUnavailable, Unavailable

# Each branch → (HTTP status, problem title, CLI exit code); the nearest listed ancestor of an error wins, and an
# error carrying its own `status` / `title` (a workbook failure, a refused request) keeps them.
SURFACES: dict[type[PulseError], tuple[int, str, int]] = {
    BadCommand: (400, N_("Bad Request"), 1),
    BadData: (422, N_("Unprocessable Content"), 1),
    SourceUnavailable: (502, N_("Bad Gateway"), 2),
    Unavailable: (503, N_("Service Unavailable"), 2),
    NotConfigured: (503, N_("Not configured"), 2),
    Refused: (403, N_("Forbidden"), 2),
    PulseError: (500, N_("Internal Server Error"), 1),
}
# Titles of the statuses an error may carry itself (RFC 9110 reason phrases). The titles are English here and
# marked for the catalogue: the add-on API words them in its configured language (bot/addon/api.py).
STATUS_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    409: N_("Conflict"),
    413: N_("Content Too Large"),
    422: N_("Unprocessable Content"),
    429: N_("Too Many Requests"),
    502: N_("Bad Gateway"),
    503: N_("Service Unavailable"),
    504: N_("Gateway Timeout"),
}


class RequestRefused(Refused):
    """Why a request is refused, with its HTTP status; the detail names no secret and echoes no input."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def _branch(err: PulseError) -> tuple[int, str, int]:
    return next(SURFACES[c] for c in type(err).__mro__ if c in SURFACES)


def status(err: PulseError) -> int:
    """The HTTP status: the error's own (a workbook failure: 502/503/504; a refused request), else its branch's."""
    own = getattr(err, "status", None)
    return own if isinstance(own, int) else _branch(err)[0]


def title(err: PulseError) -> str:
    """The problem title: the error's own (a workbook failure names its kind), else its own status's reason phrase,
    else its branch's."""
    own, code = getattr(err, "title", None), getattr(err, "status", None)
    if isinstance(own, str):
        return own
    return STATUS_TITLES.get(code, _branch(err)[1]) if isinstance(code, int) else _branch(err)[1]


def sentence(err: PulseError) -> str:
    """What Slack and the text answers show: "title: message" for an error with a title of its own (a workbook
    failure), else the message."""
    own = getattr(err, "title", None)
    return f"{own}: {err}" if isinstance(own, str) else str(err)


def error_reply(err: PulseError) -> ErrorReply:
    """The reply for Slack, `pulse ask` and the add-on's cards: the sentence and the suggestion."""
    return ErrorReply(sentence(err), err.suggestion)


def problem(err: PulseError) -> tuple[dict[str, Any], dict[str, str]]:
    """The RFC 9457 problem+json body and the headers (`Retry-After` when the source said when to retry)."""
    code = status(err)
    body: dict[str, Any] = {"type": "about:blank", "title": title(err), "status": code, "detail": str(err)}
    body.update(getattr(err, "extra", None) or {})
    retry_after = getattr(err, "retry_after", None)
    return body, ({"Retry-After": str(retry_after)} if retry_after is not None else {})


def exit_code(err: PulseError) -> int:
    """The CLI's exit code: 1 for what was asked or the data, 2 for the environment (config, source, state)."""
    return _branch(err)[2]
