from pathlib import Path

from config import parse_settings
from sheets.local import LocalWorkbook
from sheets.open import open_workbook


def test_command_line_workbook_wins(tmp_path):
    settings = parse_settings({"source": {"workbook": "config.xlsx"}})
    wb = open_workbook(settings, workbook=str(tmp_path / "cli.xlsx"))
    assert isinstance(wb, LocalWorkbook) and wb.path == tmp_path / "cli.xlsx"
    assert open_workbook(settings).path == Path("config.xlsx")


def test_nothing_configured_opens_the_demo_workbook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wb = open_workbook(parse_settings({}))
    assert isinstance(wb, LocalWorkbook) and wb.path == Path("demo/crm-pulse-demo.xlsx") and wb.path.exists()
