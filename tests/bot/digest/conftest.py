"""Digest test fixtures: the demo workbook built once per module, small hand-made workbooks, a settable clock."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pytest

from bot.context import Context, build_context
from config import Settings, parse_settings

DEMO_TODAY = date(2026, 11, 25)


@dataclass
class Clock:
    """An injected clock the test moves by assigning `now`."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory) -> Path:
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


def write_workbook(path: Path, tabs: dict[str, list[list]]) -> Path:
    """A small xlsx with the given tabs (header row first)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in tabs.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
