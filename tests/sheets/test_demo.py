from datetime import date

import openpyxl
import pandas as pd
import pytest

from config import Settings
from sheets.cells import display
from sheets.demo import build_demo_rows, ensure_demo_workbook, write_demo_workbook
from sheets.local import LocalWorkbook
from sheets.snapshot import load_snapshot

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = write_demo_workbook(tmp_path_factory.mktemp("demo") / "demo.xlsx", TODAY)
    return path, load_snapshot(LocalWorkbook(path), Settings())


def test_round_trip_gives_about_2000_customers_and_every_tab(demo):
    _, snap = demo
    assert snap.missing_tabs == []
    assert len(snap.frames["customers"]) == 2000
    assert snap.dimensions == ["region", "plan", "channel"]
    assert set(snap.frames["customers"]["region"]) == {"North", "South", "East", "West"}
    assert set(snap.frames["customers"]["plan"]) == {"Basic", "Pro", "Enterprise"}
    assert set(snap.frames["customers"]["channel"]) == {"Organic", "Paid Search", "Social", "Referral"}
    for tab in ("orders", "responses", "complaints", "spend", "subscriptions"):
        assert len(snap.frames[tab]) > 50, tab
    assert snap.frames["customers"]["signup_date"].max() < pd.Timestamp(TODAY)
    assert snap.frames["orders"]["order_date"].max() < pd.Timestamp(TODAY)


def test_reported_issues_are_exactly_the_deliberately_bad_rows(demo):
    path, snap = demo
    got = sorted((i.tab, i.column, i.value, i.severity) for i in snap.issues)
    assert got == sorted(
        [
            ("Customers", "Customer ID", "C0042", "rejected"),
            ("Orders", "Amount", "abc", "rejected"),
            ("Orders", "Order Date", "2026-13-45", "rejected"),
            ("Orders", "Customer ID", "", "rejected"),
            ("Orders", "Order ID", "O-100001", "rejected"),
            ("Responses", "Score", "11", "rejected"),
            ("Responses", "Score", "3.5", "rejected"),
            ("Responses", "Survey", "NSP", "rejected"),
        ]
    )
    assert snap.excluded == {
        "customers": 1,
        "orders": 4,
        "responses": 3,
        "complaints": 0,
        "spend": 0,
        "subscriptions": 0,
    }
    book = openpyxl.load_workbook(path, read_only=True)
    for issue in snap.issues:
        header = [c.value for c in next(book[issue.tab].iter_rows(min_row=1, max_row=1))]
        cell = [c.value for c in next(book[issue.tab].iter_rows(min_row=issue.row, max_row=issue.row))]
        shown = cell[header.index(issue.column)]
        assert display(shown) == issue.value


def test_story_the_data_tells(demo):
    _, snap = demo
    customers, orders, responses = snap.frames["customers"], snap.frames["orders"], snap.frames["responses"]
    assert (orders["amount"] < 0).sum() > 10
    by_month = orders.groupby(orders["order_date"].dt.month)["amount"].sum()
    assert by_month[12] > by_month[2] * 1.3
    churned = customers[customers["churned_on"].notna()]
    assert set(churned["plan"]) == {"Basic", "Pro", "Enterprise"} and 200 < len(churned) < 1200
    last_order = orders[orders["amount"] > 0].groupby("customer_id")["order_date"].max()
    assert (last_order.reindex(churned["customer_id"]).to_numpy() <= churned["churned_on"].to_numpy()).all()
    contracts = snap.frames["subscriptions"]
    ends = set(zip(contracts["customer_id"], contracts["end_date"]))
    paid = churned[churned["plan"] != "Basic"]
    assert all((c, d) in ends for c, d in zip(paid["customer_id"], paid["churned_on"]))
    assert set(responses["survey"]) == {"NPS", "CSAT", "CSI"}
    comments = set(responses["comment"].dropna())
    assert {"<!channel> love it & <b>more</b>", '=HYPERLINK("http://x")'} <= comments
    nps = responses[responses["survey"] == "NPS"].merge(customers[["customer_id", "region"]], on="customer_id")

    def score(frame):
        return 100 * ((frame["score"] >= 9).mean() - (frame["score"] <= 6).mean())

    last_q = nps[(nps["date"] >= "2026-07-01") & (nps["date"] < "2026-10-01")]
    prev_q = nps[(nps["date"] >= "2026-04-01") & (nps["date"] < "2026-07-01")]
    south_drop = score(prev_q[prev_q.region == "South"]) - score(last_q[last_q.region == "South"])
    other_drop = score(prev_q[prev_q.region != "South"]) - score(last_q[last_q.region != "South"])
    assert south_drop > 20 and south_drop > other_drop + 15
    complained = set(snap.frames["complaints"]["customer_id"].dropna())
    with_c = responses[(responses["survey"] == "NPS") & responses["customer_id"].isin(complained)]
    without = responses[(responses["survey"] == "NPS") & ~responses["customer_id"].isin(complained)]
    assert with_c["score"].mean() < without["score"].mean()


def test_complaints_tab_uses_chinese_headers(demo):
    path, snap = demo
    book = openpyxl.load_workbook(path, read_only=True)
    header = [c.value for c in next(book["Complaints"].iter_rows(min_row=1, max_row=1))]
    assert header == ["日期", "客户ID", "订单号", "类别", "状态", "解决日期"]
    assert snap.frames["complaints"]["status"].isin(["已解决", "已关闭", "处理中"]).all()


def test_deterministic_for_today_and_seed():
    a, b = build_demo_rows(TODAY, 7), build_demo_rows(TODAY, 7)
    assert a == b
    assert build_demo_rows(TODAY, 8)["Orders"] != a["Orders"]


def test_ensure_creates_only_when_missing(tmp_path):
    path = tmp_path / "sub" / "demo.xlsx"
    assert ensure_demo_workbook(path, TODAY) == path and path.exists()
    path.write_bytes(b"user data")
    ensure_demo_workbook(path, TODAY)
    assert path.read_bytes() == b"user data"
