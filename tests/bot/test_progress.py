"""The CLI's progress bar (issue 16): on stderr only when it is a terminal, only for a read or refresh longer than the
delay, never on stdout; a refresh reports each summary tab it builds and then the write."""

from __future__ import annotations

import os
import pty
import select
import threading

import pytest

import bot.progress
from bot.cli import main
from bot.i18n import _, use
from bot.progress import SHEETS_LABELS, Bar
from sheets import progress
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1ProgressKey_abcdefghijklmnopqrstuvwxyz01"
TABS = {
    "Customers": [["customer_id", "signup_date"], ["007", 46082], ["8", 46083]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", 46090, 120.5], ["8", 46091, 80]],
}
READ_SECONDS = 0.6  # the sheet's answer is this slow …
DELAY = 0.15  # … and the bar appears after this (1 s in use; shortened so the test stays fast)


@pytest.fixture
def slow_sheet(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(bot.progress, "DELAY_SECONDS", DELAY)
    with FakeSheets() as server:
        server.add_spreadsheet(KEY, tabs=TABS)
        point_env_at(server, monkeypatch, retry_seconds=0.2)
        server.set_delay(READ_SECONDS, kind="values.batchGet")
        yield server


def ask(*extra: str) -> int:
    return main(["ask", "revenue 2026-03", "--sheet", KEY, "--today", "2026-04-15", *extra])


def test_no_progress_when_stderr_is_not_a_terminal(slow_sheet, capsys):
    assert ask() == 0
    out, err = capsys.readouterr()
    assert "$200.50" in out  # 120.50 + 80.00
    assert "reading" not in err and "[" not in err and "\r" not in err and "\r" not in out


def test_a_slow_read_shows_the_bar_on_a_terminal_and_erases_it_never_on_stdout(slow_sheet, capsys, monkeypatch):
    shown = asked_on_a_terminal(monkeypatch)
    out, _ = capsys.readouterr()
    assert "$200.50" in out
    assert "reading Google Sheet" in shown and "0/6" in shown and "s" in shown, shown
    assert shown.rstrip(" ").endswith("\r"), repr(shown[-80:])  # the line is blanked before the answer prints
    assert "\r" not in out and "reading" not in out and "[" not in out


def test_a_quick_read_on_a_terminal_shows_nothing(slow_sheet, capsys, monkeypatch):
    slow_sheet.set_delay(0, kind="values.batchGet")
    monkeypatch.setattr(bot.progress, "DELAY_SECONDS", 30.0)
    assert asked_on_a_terminal(monkeypatch) == ""


def test_refresh_reports_every_tab_built_then_the_write(demo_workbook):
    steps: list[tuple[str, int, int, int | None]] = []

    def listen(what: str, done: int, total: int, rows: int | None, params: dict) -> None:
        steps.append((what.format(**params), done, total, rows))  # the English label, placeholders filled

    with progress.listening(listen):
        assert main(["refresh", "--workbook", str(demo_workbook), "--today", "2026-11-16"]) == 0
    reading = [s for s in steps if s[0].startswith(("reading", "checking"))]
    assert reading[0][:3] == (f"reading {demo_workbook}", 0, 6)  # the six source tabs
    assert reading[-1][1:3] == (6, 6) and reading[-1][3] > 0  # the read ends with every tab checked, rows counted
    building = [s[:3] for s in steps if not s[0].startswith(("reading", "checking"))]
    assert building == [
        ("building Pulse Summary", 0, 6),
        ("building Pulse Cohorts", 1, 6),
        ("building Pulse Data Issues", 2, 6),
        ("building Pulse Customers", 3, 6),
        ("building Pulse Survival", 4, 6),
        ("writing 6 tabs", 5, 6),  # the five and the Pulse Log
        ("written", 6, 6),
    ]


def test_the_bar_speaks_the_language_in_force_when_it_is_made():
    """`--language zh-CN` (or language = "zh-CN"): the bar's words are Chinese, drawn from its own thread."""
    stream = _Screen()
    with use("zh-CN"):
        bar = Bar(stream, delay=0, clock=lambda: 3.0)  # the phase starts at 3.0 and is drawn at 3.0: "0 s"
    bar.update(progress.CHECKING, 2, 6, 1234, {"name": "Orders"})
    assert stream.drawn.wait(2)
    bar.close()
    # 2/6 → round(20 * 2 / 6) = 7 '#' and 13 '-'
    assert "[#######-------------] 2/6 · 1,234 行 · 0 秒 · 正在检查 Orders" in stream.text, stream.text


def test_the_sheets_labels_are_in_the_catalogue():
    """sheets/ does not import bot/: its labels are listed in bot/progress.py for extraction, word for word."""
    assert SHEETS_LABELS == (progress.READING, progress.CHECKING)
    with use("zh-CN"):
        assert all(_(label) != label for label in (*SHEETS_LABELS, "building {name}", "writing {n} tabs", "written"))


def test_a_slow_read_in_chinese_shows_chinese_words(slow_sheet, capsys, monkeypatch):
    shown = asked_on_a_terminal(monkeypatch, "--language", "zh-CN")
    assert "正在读取 Google Sheet" in shown and "0/6" in shown and "秒" in shown, shown
    assert "reading" not in shown


class _Screen:
    """A terminal stand-in: keeps what was written and tells when a line was drawn."""

    def __init__(self) -> None:
        self.text = ""
        self.drawn = threading.Event()

    def write(self, text: str) -> None:
        self.text += text
        if text.strip():
            self.drawn.set()

    def flush(self) -> None:
        pass


def asked_on_a_terminal(monkeypatch, *extra: str) -> str:
    """`ask()` with stderr on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    terminal = os.fdopen(follower, "w", encoding="utf-8", buffering=1)
    monkeypatch.setattr("sys.stderr", terminal)
    try:
        assert ask(*extra) == 0
        return _drain(leader)
    finally:
        terminal.close()
        os.close(leader)


def _drain(fd: int) -> str:
    """Everything written to the terminal so far."""
    chunks = []
    while select.select([fd], [], [], 0.05)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")
