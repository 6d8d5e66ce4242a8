"""One rooted error hierarchy (issue 15): every error we phrase for people derives from `PulseError`, the tree is
documented where it is defined, and one place (`bot.errors`) maps a branch to a Slack/text reply, a problem+json
status and title, and a CLI exit code."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bot
import config
import metrics
import sheets
from bot.addon.api import Problem
from bot.addon.auth import AuthError
from bot.errors import RequestRefused, error_reply, exit_code, problem
from bot.grammar import CommandError
from bot.replies import ErrorReply
from bot.serve import NothingToServe
from bot.slack.app import SlackConfigError
from config.settings import ConfigError, StateUnavailable
from metrics import errors
from metrics.engine import MetricError
from metrics.forecast import ForecastError
from metrics.periods import PeriodError
from sheets.google.auth import CredentialsError
from sheets.workbook import WorkbookError

USER_FACING = [
    CommandError,
    PeriodError,
    MetricError,
    ForecastError,
    WorkbookError,
    CredentialsError,
    ConfigError,
    NothingToServe,
    SlackConfigError,
    StateUnavailable,
    AuthError,
    RequestRefused,
    Problem,
]


@pytest.mark.parametrize("cls", USER_FACING, ids=lambda c: c.__name__)
def test_every_error_phrased_for_people_is_a_pulse_error(cls):
    assert issubclass(cls, errors.PulseError)


def _all_subclasses(cls: type) -> set[type]:
    return {cls, *(s for sub in cls.__subclasses__() for s in _all_subclasses(sub))}


def test_the_tree_is_documented_where_it_is_defined():
    for package in (bot, metrics, sheets, config):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".slack.listeners" not in info.name:
                importlib.import_module(info.name)
    ours = [
        c
        for c in _all_subclasses(errors.PulseError)
        if c.__module__.split(".")[0] in {"bot", "metrics", "sheets", "config"}
    ]
    missing = [c.__name__ for c in ours if c.__name__ not in (errors.__doc__ or "") and c is not Problem]
    assert missing == []


@pytest.mark.parametrize(
    ("err", "status", "title", "code"),
    [
        (PeriodError("unknown period 'lastmonth'", "last-month"), 400, "Bad Request", 1),
        (CommandError("unknown metric 'nsp'"), 400, "Bad Request", 1),
        (MetricError("unknown dimension 'tier'"), 400, "Bad Request", 1),
        (ForecastError("needs 12 months"), 422, "Unprocessable Content", 1),
        (
            WorkbookError("the sheet is not shared", status=403, title="The sheet is not shared"),
            403,
            "The sheet is not shared",
            2,
        ),
        (WorkbookError("Google did not answer in time", status=504), 504, WorkbookError.title, 2),
        (StateUnavailable("the shared state cannot be reached"), 503, "Service Unavailable", 2),
        (ConfigError("config: churn.mode = 'sometimes'"), 503, "Not configured", 2),
        (RequestRefused(413, "the body is too large"), 413, "Content Too Large", 2),
        (AuthError("missing signature"), 401, "Unauthorized", 2),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Exception) else None,
)
def test_one_mapping_for_every_surface(err, status, title, code):
    body, headers = problem(err)
    assert (body["status"], body["title"], body["detail"], body["type"]) == (status, title, str(err), "about:blank")
    assert exit_code(err) == code
    reply = error_reply(err)
    assert isinstance(reply, ErrorReply) and str(err) in reply.message
    assert reply.suggestion == err.suggestion


def test_a_rate_limited_source_says_when_to_retry():
    err = WorkbookError("Google is rate-limiting", status=503, title="Google is busy", retry_after=30)
    body, headers = problem(err)
    assert headers == {"Retry-After": "30"}
    assert error_reply(err).message == "Google is busy: Google is rate-limiting"  # title: message, as Slack shows it


def test_removed_dead_code_stays_removed():
    import sheets.workbook
    from metrics.registry import Kind

    assert not hasattr(sheets.workbook, "OwnershipError")
    assert "mean" not in Kind.__args__
