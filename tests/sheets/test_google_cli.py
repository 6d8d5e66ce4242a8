"""`pulse check`, `pulse ask` and `pulse refresh` against a Google Sheet by `--sheet` alone, over real HTTP to the fake."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cli import main
from sheets.demo import build_demo_rows
from tests.fakes.sheets_api import FakeSheets, point_env_at

KEY = "1DemoSheetKey_0123456789abcdefghijklmnop"
TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo_rows():
    """The demo workbook's tabs cut down to 300 customers (keeps the test quick, the shapes real)."""
    tabs = build_demo_rows(TODAY)
    keep = {row[0] for row in tabs["Customers"][1:301]}
    out = {}
    for name, rows in tabs.items():
        header = rows[0]
        col = next((i for i, h in enumerate(header) if h in ("Customer ID", "客户ID")), None)
        out[name] = [header] + [r for r in rows[1:] if col is None or r[col] in keep or r[col] is None]
    return out


@pytest.fixture
def fake(monkeypatch, demo_rows):
    with FakeSheets() as server:
        server.add_spreadsheet(KEY, tabs=demo_rows, title="Demo CRM")
        point_env_at(server, monkeypatch)
        yield server


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--sheet", f"https://docs.google.com/spreadsheets/d/{KEY}/edit", "--today", TODAY.isoformat()])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_reads_every_tab_in_one_request(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check")
    assert code == 0, err
    assert f"source Google Sheet 'Demo CRM' ({KEY})" in out
    assert fake.kinds() == ["drive.files.get", "spreadsheets.get", "values.batchGet"]  # Drive: the change marker


def test_ask_answers_from_the_sheet(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "ask", "nps", "last-quarter")
    assert code == 0, err
    assert out.startswith("Net Promoter Score — 2026-Q3")
    assert fake.count("values.batchGet") == 1


def test_refresh_writes_marked_summary_tabs_and_spares_a_user_tab(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake.add_tab(KEY, "Pulse Cohorts", [["my cohort notes"]])
    code, out, err = run(capsys, "refresh")
    assert code == 3, err
    assert "Pulse Cohorts" in out
    assert fake.values(KEY, "Pulse Cohorts") == [["my cohort notes"]]
    summary = fake.values(KEY, "Pulse Summary")
    assert len(summary) > 1 and fake.developer_metadata(KEY, "Pulse Summary")[0]["metadataKey"] == "crm-pulse-owned"
    assert fake.count("values.batchUpdate") == 1
    # For people: the month column frozen with the header, numbers formatted in their unit (values stay numbers).
    for _ in range(2):  # a new tab, then the existing tab rewritten in place
        grid, header = fake.grid(KEY, "Pulse Summary"), fake.values(KEY, "Pulse Summary")[0]
        assert (grid.frozen_rows, grid.frozen_cols) == (1, 1)
        assert grid.formats[(1, header.index("Revenue (USD)"))]["numberFormat"] == {"type": "NUMBER", "pattern": '"$"#,##0.00'}
        assert grid.formats[(1, header.index("Customer churn %"))]["numberFormat"]["pattern"] == '0.0"%"'
        assert "numberFormat" not in grid.formats.get((1, 0), {})  # the month stays text
        assert run(capsys, "refresh")[0] == 3
    sources = {"Customers", "Orders", "Responses", "Complaints", "Spend", "Subscriptions"}
    written = [d["range"] for r in fake.requests if r.kind == "values.batchUpdate" for d in r.body["data"]]
    assert not any(rng.strip("'").split("'!")[0] in sources for rng in written)


def test_config_alone_names_the_sheet(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "pulse.toml").write_text(f'[source]\nsheet = "{KEY}"\n', encoding="utf-8")
    code = main(["check", "--today", TODAY.isoformat()])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"({KEY})" in out.out
    assert fake.count("values.batchGet") == 1


def test_check_and_refresh_say_the_sheet_could_not_be_read_even_with_a_saved_snapshot(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "refresh")[0] == 0  # leaves a saved snapshot in the state directory
    before = {t: fake.values(KEY, t) for t in fake.tab_titles(KEY) if t.startswith("Pulse")}
    fake.deny(KEY, 403)
    code, out, err = run(capsys, "check")
    assert (code, out) == (2, "")
    assert err.startswith("error: the sheet is not shared with the service account — share it with ")
    code, out, err = run(capsys, "refresh")
    assert code == 2 and "refreshed" not in out
    assert err.rstrip().endswith("— the summary tabs keep their previous contents")
    fake.deny(KEY, 0)
    assert {t: fake.values(KEY, t) for t in fake.tab_titles(KEY) if t.startswith("Pulse")} == before
