"""What a query returns, before rendering: one dataclass per kind of answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metrics.periods import Period
from metrics.result import MetricResult


@dataclass
class MetricReply:
    """One metric, with the time the data was read and any data notes (stale cache, excluded rows)."""

    result: MetricResult
    data_as_of: datetime
    notes: list[str] = field(default_factory=list)
    query: str = ""


@dataclass
class OverviewReply:
    """The headline metrics for one period."""

    results: list[MetricResult]
    period: Period
    data_as_of: datetime
    notes: list[str] = field(default_factory=list)
    query: str = ""


@dataclass
class TableReply:
    """A small table (cohorts, risk list, survival, forecast …) with a title and optional JSON payload."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    data_as_of: datetime | None = None
    notes: list[str] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    query: str = ""
    # Files to upload next to the answer, as (filename, bytes) — e.g. ("survival.png", PNG); never in the JSON.
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    # The unit of each column's numbers for text and Slack ("money", "percent", "change:nps", "row" …, see
    # bot.render.format.cell); "row" takes each row's unit from `row_units`. JSON keeps the raw numbers.
    units: list[str | None] = field(default_factory=list)
    row_units: list[str] = field(default_factory=list)
    # The (row, column) of each number on a small sample: marked " *" in text and Slack, `small_sample` in JSON.
    small_sample: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class TextReply:
    """Help, targets, data issues and confirmations: a title and (heading, body) sections."""

    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    query: str = ""
    # True when the bodies are our own mrkdwn wording with no sheet value (help): its `code` and bold are kept.
    markup: bool = False


@dataclass
class ErrorReply:
    """A user-facing problem: what is wrong and, when there is one, the closest valid input."""

    message: str
    suggestion: str | None = None


Reply = MetricReply | OverviewReply | TableReply | TextReply | ErrorReply
