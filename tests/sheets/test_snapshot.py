from datetime import datetime, timezone

from sheets.local import LocalWorkbook
from sheets.snapshot import ISSUES_HEADER, data_issues_tab, load_snapshot
from sheets.workbook import RawTab
from tests.sheets.conftest import make_settings, write_xlsx


class CountingWorkbook:
    """A real Workbook implementation over in-memory tabs that counts read calls."""

    def __init__(self, tabs):
        self.tabs, self.calls = tabs, []

    def describe(self):
        return "memory"

    def read_tabs(self, names):
        self.calls.append(list(names))
        return {n: (RawTab(n, self.tabs[n]) if n in self.tabs else None) for n in names}

    def read_owned(self, name):
        return None

    def write_owned(self, tabs):
        raise AssertionError("load_snapshot never writes")


ORDERS = [["Customer ID", "Order Date", "Amount"], ["C1", "2026-01-05", 10], ["C2", "2026-01-06", "x"]]


def test_one_read_for_all_configured_tabs_and_missing_tabs_explained(settings):
    wb = CountingWorkbook({"Orders": ORDERS, "Customers": [["Customer ID", "Region"], ["C1", "North"]]})
    snap = load_snapshot(wb, settings, now=datetime(2026, 2, 1, 9, tzinfo=timezone.utc))
    assert wb.calls == [["Customers", "Orders", "Responses", "Complaints", "Spend", "Subscriptions"]]
    assert snap.missing_tabs == ["responses", "complaints", "spend", "subscriptions"]
    assert snap.excluded == {
        "customers": 0,
        "orders": 1,
        "responses": 0,
        "complaints": 0,
        "spend": 0,
        "subscriptions": 0,
    }
    assert snap.dimensions == ["region"]
    assert snap.read_at == datetime(2026, 2, 1, 9, tzinfo=timezone.utc) and snap.source == "memory"
    missing = [i for i in snap.issues if i.row is None]
    assert [i.tab_key for i in missing] == ["responses", "complaints", "spend"]  # Subscriptions is optional
    assert "add a tab named 'Responses'" in missing[0].reason and "NPS" in missing[0].reason
    assert "CAC" in missing[2].reason
    assert set(snap.frames) == {"customers", "orders", "responses", "complaints", "spend", "subscriptions"}
    assert snap.frames["spend"].empty and list(snap.frames["orders"]["customer_id"]) == ["C1"]


def test_configured_tab_names_are_read():
    settings = make_settings(tabs={"orders": "Sales"})
    wb = CountingWorkbook({"Sales": ORDERS})
    snap = load_snapshot(wb, settings)
    assert "Sales" in wb.calls[0] and len(snap.frames["orders"]) == 1
    rows = [(i.tab, i.row) for i in snap.issues if i.tab_key == "orders"]
    assert rows == [("Sales", 3)]


def test_snapshot_survives_the_cache_file_format(tmp_path, settings):
    from sheets.snapshot_store import dump, load

    path = write_xlsx(tmp_path / "w.xlsx", {"Orders": ORDERS})
    snap = load_snapshot(LocalWorkbook(path), settings)
    back = load(dump(snap, key="k", loaded_at=1.0), key="k").snapshot
    assert back.frames["orders"].equals(snap.frames["orders"]) and back.issues == snap.issues


def test_data_issues_tab(settings):
    snap = load_snapshot(CountingWorkbook({"Orders": ORDERS}), settings)
    tab = data_issues_tab(snap)
    assert tab.name == "Pulse Data Issues" and tab.header == ISSUES_HEADER == [
        "Tab",
        "Row",
        "Column",
        "Value",
        "Problem",
        "Severity",
    ]
    assert ["Orders", 3, "Amount", "x", "not a number", "rejected"] in tab.rows
    assert tab.rows[0][:2] == ["Customers", None] and "add a tab named 'Customers'" in tab.rows[0][4]
    assert len(tab.rows) == len(snap.issues)
    capped = data_issues_tab(snap, limit=2)
    assert len(capped.rows) == 3 and f"{len(snap.issues) - 2} more" in capped.rows[-1][4]
