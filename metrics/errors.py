"""The one tree of crm-pulse's errors (like gspread's `exceptions.py` and httpx's documented hierarchy).

Every problem phrased for people derives from `PulseError`; each surface maps the branch to its own answer in one
place, `bot.errors` (Slack and text reply, problem+json status and title, CLI exit code). The tree lives here, in the
bottom layer, because metrics/, sheets/ and config/ raise its leaves and metrics/ imports nothing of ours outside it.

    PulseError                      a problem phrased for people; `suggestion` is the closest valid input, if any
    ├── BadCommand                  what was asked is wrong                         400 · exit 1
    │   ├── CommandError            bot.grammar: the command does not parse
    │   ├── PeriodError             metrics.periods: not a period, or not started yet
    │   └── MetricError             metrics.engine: unknown metric, dimension or value
    ├── BadData                     the data cannot answer what was asked           422 · exit 1
    │   └── ForecastError           metrics.forecast: too short or too gappy a series
    ├── Unavailable                 something we depend on cannot be used now       503 · exit 2
    │   ├── SourceUnavailable       the sheet, workbook file or database            502/503/504 · exit 2
    │   │   └── WorkbookError       sheets.workbook (status per failure) ─ CredentialsError (sheets.google.auth)
    │   └── StateUnavailable        config.settings: the shared PostgreSQL state
    ├── NotConfigured               a setting is missing or invalid                 503 · exit 2
    │   └── ConfigError             config.settings ─ NothingToServe (bot.serve), SlackConfigError (bot.slack.app)
    └── Refused                     the caller may not do this                      403 · exit 2
        ├── AuthError               bot.addon.auth: bad signature or identity token (401)
        └── RequestRefused          bot.errors: a request refused before it is read (its own status)

Leaves that were `ValueError` stay `ValueError` too, so code that validates input keeps catching them.
"""

from __future__ import annotations


class PulseError(Exception):
    """A problem phrased for people (what happened, what to do); `suggestion` is the closest valid input, if any."""

    def __init__(self, message: str = "", suggestion: str | None = None):
        super().__init__(message)
        self.suggestion = suggestion


class BadCommand(PulseError, ValueError):
    """What was asked is wrong: the command, a period, a metric, a dimension or a value."""


class BadData(PulseError, ValueError):
    """The data cannot answer what was asked (a series too short to forecast…)."""


class Unavailable(PulseError):
    """Something crm-pulse depends on cannot be used right now; trying later may work."""


class SourceUnavailable(Unavailable):
    """The data source (a Google Sheet, a workbook file, a database) cannot be read or written."""


class NotConfigured(PulseError):
    """A setting is missing or invalid, phrased for the person who wrote the config or started the server."""


class Refused(PulseError):
    """The caller may not do this (signature, identity, allow-list)."""
