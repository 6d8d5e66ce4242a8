"""One-shot commands against a Google Sheet (real gspread over HTTP to the Sheets fake): a snapshot older than
`source.cache_seconds` is read again before answering; the last snapshot, with its "data as of" note, only when
the sheet cannot be read; and an answer from the disk cache equals the answer read from the sheet."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from bot.cli import main
from bot.context import build_context
from bot.query import answer
from bot.render.json import render_json
from config import parse_settings
from tests.fakes.sheets_api import FakeSheets, point_env_at
from tests.fakes.sheets_model import Spreadsheet

KEY = "1OneShotKey_abcdefghijklmnopqrstuvwxyz012"
TODAY = date(2026, 4, 15)
# Sheets serial dates: 46082 = 2026-03-01 (46023 = 2026-01-01, + 31 + 28), so both orders fall in March 2026.
TABS = {
    "Customers": [["customer_id", "signup_date"], ["007", 46082], ["8", 46083]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", 46090, 120.5], ["8", 46091, 80]],
    "Responses": [["date", "survey", "score"], [46100, "NPS", 9]],
}


@pytest.fixture
def fake(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with FakeSheets() as server:
        server.add_spreadsheet(KEY, tabs=TABS)
        point_env_at(server, monkeypatch, retry_seconds=0.2)
        yield server


ALERT_RULE = '[[alerts]]\nname = "nps moves"\nmetric = "nps"\ncondition = "significant_change"\nchannel = "C1"\n'


def configure(tmp_path, cache_seconds: int) -> None:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "pulse.toml").write_text(
        f'[source]\nsheet = "{KEY}"\ncache_seconds = {cache_seconds}\n\n{ALERT_RULE}', encoding="utf-8")


def ask_revenue(capsys, *extra: str) -> tuple[int, dict, str]:
    code = main(["ask", "revenue 2026-03", "--json", "--today", TODAY.isoformat(), *extra])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def edit_amount(fake: FakeSheets, value: float) -> None:
    """Change the second order's amount (sheet row 3, column C), as a person editing the sheet would."""
    Spreadsheet.apply_write(fake.grid(KEY, "Orders"), [(2, 2, value)], "RAW")


def test_a_sheet_edited_after_the_cache_expired_shows_the_edit_on_the_next_ask(fake, tmp_path, capsys, monkeypatch):
    # Credentials without a Drive scope: the cache age decides (with Drive's modifiedTime an edit shows at once,
    # see tests/sheets/test_google_marker.py).
    point_env_at(fake, monkeypatch, info=fake.authorized_user(), retry_seconds=0.2)
    configure(tmp_path, cache_seconds=1)
    code, first, err = ask_revenue(capsys)
    assert code == 0, err
    assert first["value"] == pytest.approx(200.5)  # 120.50 + 80.00
    edit_amount(fake, 100)
    code, cached, _ = ask_revenue(capsys)  # a new process within cache_seconds: the disk snapshot, no request
    assert cached["value"] == pytest.approx(200.5) and fake.count("values.batchGet") == 1
    time.sleep(1.05)  # the cached snapshot is now older than cache_seconds
    code, after, err = ask_revenue(capsys)
    assert code == 0, err
    assert after["value"] == pytest.approx(220.5)  # 120.50 + 100.00, read before answering
    assert fake.count("values.batchGet") == 2
    code, again, _ = ask_revenue(capsys)  # and the next process sees it too (the new snapshot was saved)
    assert again["value"] == pytest.approx(220.5) and fake.count("values.batchGet") == 2


def test_when_the_sheet_refuses_the_last_snapshot_answers_with_a_data_as_of_note(fake, tmp_path, capsys):
    configure(tmp_path, cache_seconds=0)  # every snapshot is expired: each command tries to read
    code, first, err = ask_revenue(capsys)
    assert code == 0 and first["value"] == pytest.approx(200.5)
    edit_amount(fake, 100)
    fake.deny(KEY, 403)
    code, fallback, err = ask_revenue(capsys)
    assert code == 0, err
    assert fallback["value"] == pytest.approx(200.5)  # the last snapshot
    code = main(["ask", "revenue 2026-03", "--today", TODAY.isoformat()])
    text = capsys.readouterr().out
    assert code == 0 and "$200.50" in text
    assert "data as of" in text and "the sheet could not be read" in text
    assert "share it with pulse-bot@crm-pulse-test.iam.gserviceaccount.com" in text
    fake.clear_faults()
    code, recovered, _ = ask_revenue(capsys)
    assert recovered["value"] == pytest.approx(220.5)


@pytest.mark.parametrize("argv", [["digest", "--dry-run"], ["alerts"], ["check"], ["refresh"]])
def test_every_one_shot_command_reads_an_expired_snapshot_before_answering(fake, tmp_path, capsys, argv):
    configure(tmp_path, cache_seconds=0)
    assert ask_revenue(capsys)[1]["value"] == pytest.approx(200.5)
    edit_amount(fake, 100)  # Drive's modifiedTime moves on: the expired snapshot is stale (unchanged, it would be kept)
    reads = fake.count("values.batchGet")
    assert main([*argv, "--today", TODAY.isoformat()]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert fake.count("values.batchGet") == reads + 1  # exactly one read: a command reads at most once


QUERIES = ["overview 2026-03", "revenue 2026-03 by region", "nps 2026-Q1", "orders 2026-03", "aov 2026-03",
           "customers 2026-03", "issues"]


def test_an_answer_from_the_disk_cache_equals_the_answer_read_from_the_sheet(fake):
    settings = parse_settings({"source": {"sheet": KEY, "cache_seconds": 600}})
    fake.add_tab(KEY, "Spend", [["date", "amount"], [46082, 500]])
    missed = build_context(settings, today=TODAY, one_shot=True)
    from_sheet = [render_json(answer(q, missed)) for q in QUERIES]
    assert fake.count("values.batchGet") == 1
    hit = build_context(settings, today=TODAY, one_shot=True)
    from_disk = [render_json(answer(q, hit)) for q in QUERIES]
    assert fake.count("values.batchGet") == 1  # the second context read nothing
    assert from_disk == from_sheet
    a, b = missed.snapshot().snapshot, hit.snapshot().snapshot
    assert a is not b
    for name, frame in a.frames.items():
        assert frame.equals(b.frames[name]) and dict(frame.dtypes) == dict(b.frames[name].dtypes)
    assert (a.issues, a.missing_tabs, a.dimensions, a.excluded, a.missing_columns, a.read_at, a.source) == (
        b.issues, b.missing_tabs, b.dimensions, b.excluded, b.missing_columns, b.read_at, b.source)
