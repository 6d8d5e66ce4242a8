"""The `pulse` CLI end to end on the demo workbook: demo, ask (text and --json), check, refresh, errors."""

import json

import pytest

from bot.cli import main
from sheets.local import LocalWorkbook
from tests.bot.conftest import TODAY

EVERY_METRIC = (
    "nps csat csi retention churn growth customers new lapsed nrr grr revenue orders purchasers aov frequency "
    "repeat returning refunds complaints resolution renewal cac clv net-clv ltv-cac"
).split()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_prints_overview_and_writes_summary_tabs(tmp_path, capsys):
    path = tmp_path / "fresh" / "demo.xlsx"
    code, out, err = run(capsys, "demo", "--workbook", str(path), "--today", TODAY.isoformat())
    assert code == 0, err
    assert "Overview — 2026-10" in out or "Overview — October 2026" in out, out[:300]
    assert "Summary tabs refreshed" in out
    wb = LocalWorkbook(path)
    summary = wb.read_owned("Pulse Summary")
    assert summary[0][:2] == ["Month", "Active customers"]
    assert len(summary) - 1 == 24  # two years of data → 24 full months
    assert wb.read_owned("Pulse Data Issues") is not None
    assert wb.read_owned("Pulse Cohorts") is not None
    log = wb.read_owned("Pulse Log")
    assert log[-1][1] == "refresh"


@pytest.mark.parametrize("metric", EVERY_METRIC)
def test_ask_json_for_every_metric(metric, demo_master, capsys):
    code, out, err = run(capsys, "ask", f"{metric} last-quarter by region", "--json", "--workbook", str(demo_master), "--today", TODAY.isoformat())
    assert code == 0, err
    data = json.loads(out)
    assert data["metric"] == metric
    assert data["period"] == {"start": "2026-07-01", "end": "2026-10-01", "label": data["period"]["label"]}
    assert "value" in data and "excluded_rows" in data
    assert data["previous"]["period"]["start"] == "2026-04-01"
    assert data["by"] == "region"
    assert {s["segment"] for s in data["breakdown"]} >= {"North", "South", "East", "West"}
    if data["unit"] == "percent" and data["value"] is not None:
        assert 0 <= data["value"] <= 100


def test_ask_text_and_errors(demo_master, capsys):
    code, out, _ = run(capsys, "ask", "nps", "last-quarter", "--workbook", str(demo_master), "--today", TODAY.isoformat())
    assert code == 0 and "2026-Q3" in out and "n = " in out and "data as of" in out
    code, out, err = run(capsys, "ask", "nsp last-quarter", "--workbook", str(demo_master), "--today", TODAY.isoformat())
    assert code == 1 and "did you mean nps" in out
    code, out, err = run(capsys, "ask", "nps last-quater", "--workbook", str(demo_master), "--today", TODAY.isoformat())
    assert code == 1 and "last-quarter" in out
    code, out, err = run(capsys, "ask", "nps by planet", "--workbook", str(demo_master), "--today", TODAY.isoformat())
    assert code == 1 and "plan" in out


def test_check_reports_bad_rows_with_tab_row_column_value(demo_master, capsys):
    code, out, err = run(capsys, "check", "--json", "--workbook", str(demo_master), "--today", TODAY.isoformat())
    assert code == 0, err
    report = json.loads(out)
    assert report["rows"]["customers"] > 1900
    rejected = [i for i in report["issues"] if i["severity"] == "rejected"]
    assert rejected, "the demo carries deliberately bad rows"
    for issue in rejected:
        assert issue["tab"] and issue["row"] >= 2 and issue["column"] and issue["reason"]


def test_missing_workbook_and_bad_config_are_one_line_errors(tmp_path, capsys):
    code, out, err = run(capsys, "ask", "nps", "--workbook", str(tmp_path / "nope.xlsx"))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    bad = tmp_path / "pulse.toml"
    bad.write_text('[churn]\nmode = "sometimes"\n')
    code, out, err = run(capsys, "ask", "nps", "--config", str(bad))
    assert code == 2 and "churn.mode" in err and "Traceback" not in err


def test_check_fails_on_a_workbook_with_none_of_the_source_tabs(tmp_path, capsys):
    from tests.workbooks import write_source_workbook

    book = write_source_workbook(tmp_path / "other.xlsx", {"Budget": [["item", "cost"], ["desk", 120]], "Notes": [["text"], ["hi"]]})
    code, out, err = run(capsys, "check", "--workbook", str(book))
    assert code == 1
    assert "config ok" not in out
    assert "none of the source tabs" in err and "Customers, Orders, Responses, Complaints, Spend" in err
    assert "Traceback" not in err
    code, out, err = run(capsys, "check", "--json", "--workbook", str(book))
    assert code == 1 and json.loads(out)["errors"] and "none of the source tabs" in err


def test_check_fails_when_a_tab_lacks_a_required_column_and_passes_with_only_warnings(tmp_path, capsys):
    from tests.workbooks import write_source_workbook

    customers = [["customer_id", "signup_date"], ["c1", "2026-01-05"]]
    book = write_source_workbook(tmp_path / "no-amount.xlsx", {
        "Customers": customers,
        "Orders": [["customer_id", "order_date", "note"], ["c1", "2026-02-01", "gift"]],  # no amount column
    })
    code, out, err = run(capsys, "check", "--workbook", str(book))
    assert code == 1
    assert "Orders" in err and "amount" in err
    # Only Customers and a good Orders: missing Responses/Complaints/Spend are warnings → exit 0.
    ok = write_source_workbook(tmp_path / "ok.xlsx", {
        "Customers": customers,
        "Orders": [["customer_id", "order_date", "amount"], ["c1", "2026-02-01", 10]],
    })
    code, out, err = run(capsys, "check", "--workbook", str(ok))
    assert code == 0, err
    assert "missing tabs: responses, complaints, spend, subscriptions" in out


def test_a_refused_second_scheduler_exits_non_zero(tmp_path, capsys):
    from bot.scheduler import acquire_lock
    from tests.workbooks import write_source_workbook

    book = write_source_workbook(tmp_path / "b.xlsx", {"Customers": [["customer_id"], ["c1"]]})
    holder = acquire_lock()
    try:
        code, out, err = run(capsys, "scheduler", "--workbook", str(book))
    finally:
        holder.close()
    assert code == 1
    assert "another scheduler is already running" in err
