"""Digest test fixtures: the demo workbook built once per session, small hand-made workbooks, a settable clock."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from bot.context import Context, build_context
from config import Settings, parse_settings
from tests.workbooks import write_source_workbook as write_workbook  # noqa: F401 - re-exported for the tests here

DEMO_TODAY = date(2026, 11, 25)

# A small workbook whose digest for 2026-W12 is computed by hand in test_builder.py.
D = datetime
CUSTOMERS = [["customer_id", "signup_date", "region"]] + [
    [f"C{i}", D(2025, 12, 1), region] for i, region in enumerate(["North", "South", "South", "North", "North", "South"], 1)
]
ORDERS = [
    ["customer_id", "order_date", "amount"],
    ["C1", D(2026, 3, 16), 100.0],
    ["C2", D(2026, 3, 17), 50.0],
    ["C1", D(2026, 3, 10), 30.0],
    ["C3", D(2026, 1, 5), 20.0],
]
RESPONSES = [
    ["date", "survey", "score", "customer_id", "comment"],
    # week 2026-W12 (16–22 March)
    [D(2026, 3, 16), "NPS", 10, "C1", "Great <b>service</b>   & fast"],
    [D(2026, 3, 17), "NPS", 9, "C2", ""],
    [D(2026, 3, 18), "NPS", 3, "C3", "Slow <!channel>"],
    [D(2026, 3, 19), "NPS", 8, "C4", "ok"],
    [D(2026, 3, 20), "CSAT", 5, "C5", "nice"],
    [D(2026, 3, 21), "NPS", 6, "C6", None],
    # week 2026-W11
    [D(2026, 3, 10), "NPS", 10, "C1", "Old praise"],
    [D(2026, 3, 12), "NPS", 0, "C2", "Old complaint"],
    # the 13 weeks before the trailing window (22 Sep – 21 Dec 2025)
    [D(2025, 11, 1), "NPS", 10, "C1", None],
    [D(2025, 11, 2), "NPS", 0, "C2", None],
]


@dataclass
class Clock:
    """An injected clock the test moves by assigning `now`."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory) -> Path:
    """Built once per test session (read-only: tests that write use `demo_copy`)."""
    from sheets.demo import write_demo_workbook

    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "demo.xlsx", DEMO_TODAY)


@pytest.fixture
def demo_copy(demo_path, tmp_path) -> Path:
    """A private copy, for tests that write Pulse Log entries."""
    return Path(shutil.copy(demo_path, tmp_path / "demo.xlsx"))


def context_at(settings: Settings | dict, path: Path, now: datetime) -> tuple[Context, Clock]:
    """A real context over the workbook at `path`, with its clock set to `now` (move it via the returned Clock)."""
    s = settings if isinstance(settings, Settings) else parse_settings(settings)
    ctx = build_context(s, workbook=str(path), today=now.date())
    clock = Clock(now)
    ctx.clock = clock
    return ctx, clock


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def small_path(tmp_path) -> Path:
    return write_workbook(tmp_path / "small.xlsx", {"Customers": CUSTOMERS, "Orders": ORDERS, "Responses": RESPONSES})
