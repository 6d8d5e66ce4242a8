"""Reporting periods: half-open date ranges [start, end) parsed from the forms METRICS.md lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd


@dataclass(frozen=True)
class Period:
    """A half-open date range [start, end). `kind` drives the comparison period; `partial` marks
    periods that run through the end of today (this-*, ytd, qtd, mtd, today)."""

    start: date
    end: date
    label: str
    kind: str = "range"
    partial: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)

    @property
    def end_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.end)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def mask(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of `dates` (datetime64) that fall inside the period."""
        return (dates >= self.start_ts) & (dates < self.end_ts)

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}
