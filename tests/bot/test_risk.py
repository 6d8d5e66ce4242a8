"""`/pulse risk` on a small hand-made book where some customers closed their accounts (issue 13 items 3 and 6):
the already churned are a loss, not a risk — left out of the list and of the value at stake, counted on a
line of their own — and `where` / `by` filter and split the list."""

from datetime import date

import pytest

import config
from bot.context import build_context
from bot.query import answer
from bot.render.json import render_json
from bot.render.text import render_text
from bot.replies import ErrorReply
from tests.workbooks import write_source_workbook

TODAY = date(2026, 11, 25)


def _months(first: tuple[int, int], count: int, every: int = 1) -> list[date]:
    y, m = first
    out = []
    for _ in range(count):
        out.append(date(y, m, 10))
        m += every
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return out


def risk_book(path):
    """22 regulars who buy up to November 2026 (P(alive) high) and 8 lapsed customers L1..L8 who bought
    monthly from January to June 2025 (6 orders of 100·i each) and never again (P(alive) ≈ 0).

    L1, L2, L3 closed their accounts on 2025-07-15 (churned_on, no later order): already churned.
    L4 also has churned_on 2025-06-20 but ordered again on 2025-07-05 (reactivated): still a risk.
    R01 closed its account on 2026-11-15 after ordering on 2026-11-10: churned, but P(alive) is high so it
    was never on the list and is not counted. Regions: odd L North, even L South; regulars East/West."""
    customers = [["Customer ID", "Signup Date", "Churned On", "Region"]]
    orders = [["Order ID", "Customer ID", "Order Date", "Amount"]]
    for i in range(1, 23):
        cid = f"R{i:02d}"
        customers.append([cid, date(2025, 1, 3), date(2026, 11, 15) if i == 1 else None, "East" if i % 2 else "West"])
        every = 1 + i % 3
        dates = [d for d in _months((2025, 1 + i % 3), 30, every) if d <= date(2026, 11, 24)]
        if dates[-1] < date(2026, 10, 1):
            dates.append(date(2026, 11, 10))
        orders += [[f"O-{cid}-{k}", cid, d, 40.0 + i] for k, d in enumerate(dates)]
    for i in range(1, 9):
        cid = f"L{i}"
        churned = {1: date(2025, 7, 15), 2: date(2025, 7, 15), 3: date(2025, 7, 15), 4: date(2025, 6, 20)}.get(i)
        customers.append([cid, date(2025, 1, 3), churned, "North" if i % 2 else "South"])
        orders += [[f"O-{cid}-{k}", cid, d, 100.0 * i] for k, d in enumerate(_months((2025, 1), 6))]
        if i == 4:
            orders.append([f"O-{cid}-6", cid, date(2025, 7, 5), 400.0])
    return write_source_workbook(path, {"Customers": customers, "Orders": orders})


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    path = risk_book(tmp_path_factory.mktemp("risk") / "risk.xlsx")
    return build_context(config.parse_settings({}), workbook=str(path), today=TODAY)


def test_risk_leaves_out_the_already_churned(ctx):
    """Historical values: L4 = 7 × 400 = 2,800; L5 = 6 × 500 = 3,000; L6 = 3,600; L7 = 4,200; L8 = 4,800.
    Their P(alive) is below 0.01 (16+ months of silence after monthly buying), so the value at stake
    Σ value × (1 − P(alive)) lies within 1% under 2,800 + 3,000 + 3,600 + 4,200 + 4,800 = 18,400.
    L1–L3 (600 + 1,200 + 1,800 = 3,600 already lost) are churned: not listed, counted once. Today's code
    listed all eight with 18,400 + 3,600 at stake."""
    reply = answer("risk", ctx)
    data = render_json(reply)
    assert [row[1] for row in data["rows"]] == ["L8", "L7", "L6", "L5", "L4"]
    assert [row[0] for row in data["rows"]] == [1, 2, 3, 4, 5]
    assert data["at_risk"] == 5 and data["already_churned"] == 3
    assert all(row[2] < 0.01 for row in data["rows"])
    assert 18_400 * 0.99 < data["value_at_stake"] < 18_400
    assert data["value_at_stake"] == pytest.approx(sum(row[3] for row in data["rows"]), abs=0.05)
    assert data["already_churned_value"] == pytest.approx(3_600, abs=1e-6)
    text = render_text(reply)
    assert "3 customers already churned, not listed" in text
    assert "L1" not in text and "L2 " not in text and "L3" not in text


def test_inactivity_rule_counts_every_lapsed_customer_as_churned(tmp_path):
    """With churn.mode = inactivity (90 days), all eight lapsed customers are churned by 2026-11-25, so the
    list is empty and the line says 8."""
    path = risk_book(tmp_path / "risk.xlsx")
    ctx = build_context(config.parse_settings({"churn": {"mode": "inactivity"}}), workbook=str(path), today=TODAY)
    data = render_json(answer("risk", ctx))
    assert data["rows"] == [] and data["at_risk"] == 0 and data["value_at_stake"] == 0
    assert data["already_churned"] == 8
    assert "8 customers already churned, not listed" in data["notes"]


def test_risk_where_filters_the_list(ctx):
    """North = L1, L3, L5, L7: L1 and L3 are churned, so the list is L7 (4,200), L5 (3,000) = 7,200."""
    data = render_json(answer("risk where region=North", ctx))
    assert [row[1] for row in data["rows"]] == ["L7", "L5"]
    assert data["at_risk"] == 2 and data["already_churned"] == 2
    assert 7_200 * 0.99 < data["value_at_stake"] < 7_200
    assert "where region=North" in data["title"]


def test_risk_by_splits_the_list(ctx):
    """North: L7, L5 (7,200; 2 churned). South: L8, L6, L4 (4,800 + 3,600 + 2,800 = 11,200; L2 churned).
    East and West have no one at risk."""
    data = render_json(answer("risk by region", ctx))
    assert data["columns"][0] == "region"
    assert [(row[0], row[2]) for row in data["rows"]] == [
        ("South", "L8"), ("South", "L6"), ("South", "L4"), ("North", "L7"), ("North", "L5"),
    ]
    split = {s["segment"]: s for s in data["segments"]}
    assert 11_200 * 0.99 < split["South"]["value_at_stake"] < 11_200
    assert 7_200 * 0.99 < split["North"]["value_at_stake"] < 7_200
    assert (split["North"]["already_churned"], split["South"]["already_churned"]) == (2, 1)
    assert split["East"]["at_risk"] == 0 and split["West"]["at_risk"] == 0


def test_risk_where_an_unknown_value_is_an_error(ctx):
    reply = answer("risk where region=Nowhere", ctx)
    assert isinstance(reply, ErrorReply) and "region" in reply.message


def test_pulse_customers_tab_follows(ctx):
    """The tab ranks as `/pulse risk` (L8..L4 = 1..5) and shows the churned with their date, no value at stake
    and no rank: L1–L3 closed on 2025-07-15, R01 on 2026-11-15; L4's 2025-06-20 churn was undone by its
    2025-07-05 order."""
    from bot.tabs import CUSTOMERS_HEADER as HEADER, customers_tab

    tab = customers_tab(ctx.tables(ctx.snapshot().snapshot), TODAY, ctx.options())
    rows = {r[0]: dict(zip(HEADER, r)) for r in tab.rows}
    assert {c: rows[c]["Risk rank"] for c in ("L8", "L7", "L6", "L5", "L4")} == {"L8": 1, "L7": 2, "L6": 3, "L5": 4, "L4": 5}
    for cid in ("L1", "L2", "L3"):
        assert rows[cid]["Churned on"] == "2025-07-15" and rows[cid]["Risk rank"] is None
        assert rows[cid]["Value at stake"] is None
    assert rows["R01"]["Churned on"] == "2026-11-15" and rows["R01"]["Risk rank"] is None
    assert rows["L4"]["Churned on"] is None
    assert sorted(r["Risk rank"] for r in rows.values() if r["Risk rank"] is not None) == [1, 2, 3, 4, 5]


def test_digest_risk_section_follows(ctx):
    """The digest of the week 2026-11-09 (as of its end, 2026-11-16) lists L8, L7, L6 and says 3 are already churned; for region=North
    only L7, L5 with 2 churned."""
    from bot.digest.builder import build_digest
    from bot.digest.render import render_text as digest_text

    whole = ctx.tables(ctx.snapshot().snapshot)
    from bot.digest.builder import risk_highlights

    r, note = risk_highlights(whole, date(2026, 11, 23), ctx.options())
    assert note is None and [c for c, _, _ in r.top] == ["L8", "L7", "L6"]
    assert (r.at_risk, r.already_churned) == (5, 3)
    north, _ = risk_highlights(whole, date(2026, 11, 23), ctx.options(), {"region": "North"})
    assert [c for c, _, _ in north.top] == ["L7", "L5"] and north.already_churned == 2
    text = digest_text(build_digest(ctx, date(2026, 11, 9)))
    assert "5 customers likely to churn" in text and "3 customers already churned, not listed" in text


def test_demo_risk_lists_no_customer_who_already_left(demo_master):
    """The reproduction: on the demo, 263 customers have P(alive) below 0.5 and 250 of them had already churned
    (252 have a churned_on, two of them ordered again); the list now holds only the 13 still active."""
    from metrics.customers import active_ids
    from metrics.engine import resolve_options

    demo = build_context(config.parse_settings({}), workbook=str(demo_master), today=TODAY)
    data = render_json(answer("risk", demo))
    t = demo.tables(demo.snapshot().snapshot)
    active = set(map(str, active_ids(t, TODAY, resolve_options(t, demo.options()))))
    assert data["rows"] and all(row[1] in active for row in data["rows"])
    assert data["at_risk"] + data["already_churned"] == 263 and data["already_churned"] == 250
    assert "250 customers already churned, not listed" in data["notes"]
