"""Every command honours `by` / `where` or refuses them with a sentence (issue 13 item 6, METRICS.md
"Breakdowns"): cohorts filter and split, `overview by` gives a per-segment table, and the commands that
cannot split or filter say so instead of answering for the whole book."""

from datetime import date

import pytest

import config
from bot.context import build_context
from bot.query import answer
from bot.render.json import render_json
from bot.render.text import render_text
from bot.replies import ErrorReply, TableReply
from tests.bot.test_risk import TODAY, risk_book


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """The churn-risk book: L1–L8 buy monthly January–June 2025 for 100·i each (odd i North, even i South;
    L4 once more on 2025-07-05), 22 regulars R01–R22 alternate East/West; everyone signed up 2025-01-03."""
    path = risk_book(tmp_path_factory.mktemp("segments") / "segments.xlsx")
    settings = config.parse_settings({"targets": {"revenue": 1800}})
    return build_context(settings, workbook=str(path), today=TODAY)


def test_cohorts_where_keeps_one_segment(ctx):
    """North = L1, L3, L5, L7, all with an order every month January–June 2025 and none after:
    M0–M5 = 100%, M6 = 0%."""
    data = render_json(answer("cohorts 2025-01-01..2025-07-31 where region=North", ctx))
    row = data["rows"][0]
    assert len(row) == 2 + 7 and all(r[1] == 0 for r in data["rows"][1:])
    assert row[:2] == ["2025-01", 4]
    assert row[2:8] == [100.0] * 6 and row[8] == 0.0
    assert "where region=North" in data["title"]


def test_cohorts_by_splits_by_segment(ctx):
    """South = L2, L4, L6, L8: in July 2025 (M6) only L4 ordered → 1 / 4 = 25%."""
    data = render_json(answer("cohorts 2025-01-01..2025-07-31 by region", ctx))
    assert data["columns"][:3] == ["region", "cohort", "customers"]
    rows = {row[0]: row for row in data["rows"] if row[1] == "2025-01"}
    assert set(rows) == {"East", "West", "North", "South"}
    assert rows["South"][2] == 4 and rows["South"][3:9] == [100.0] * 6 and rows["South"][9] == 25.0
    assert rows["North"][9] == 0.0


def test_overview_by_gives_a_per_segment_table(ctx):
    """Revenue in March 2025: North 100 + 300 + 500 + 700 = 1,600; South 200 + 400 + 600 + 800 = 2,000.
    Columns: the total, then segments by active customers (East 11, West 11, North 4, South 4)."""
    reply = answer("overview 2025-03 by region", ctx)
    assert isinstance(reply, TableReply)
    data = render_json(reply)
    assert data["columns"] == ["metric", "all", "East", "West", "North", "South"]
    revenue = next(row for row in data["rows"] if row[0] == "Revenue")
    assert revenue[4:] == [1600.0, 2000.0]  # numbers in the JSON; the renderer words them
    assert {r["metric"] for r in data["results"]} >= {"revenue", "nps", "churn"}
    assert all(r["by"] == "region" for r in data["results"])
    text = render_text(reply)
    assert "Overview — 2025-03 by region" in text
    assert "$1,600.00" in next(line for line in text.splitlines() if line.startswith("Revenue"))


def test_overview_by_flags_small_samples_in_json_and_marks_them_in_text(ctx):
    """Retention in March 2025 per region rests on 11, 11, 4 and 4 customers, each fewer than surveys.min_n = 30:
    the JSON row keeps the number (100.0) and lists those cells in `small_sample`; only text marks them " *"."""
    reply = answer("overview 2025-03 by region", ctx)
    data = render_json(reply)
    r = next(i for i, row in enumerate(data["rows"]) if row[0] == "Customer retention")
    assert data["rows"][r][2:] == [100.0] * 4
    assert all([r, c] in data["small_sample"] for c in range(2, 6))
    assert [r, 1] not in data["small_sample"]  # the total rests on 30 customers
    line = next(x for x in render_text(reply).splitlines() if x.startswith("Customer retention"))
    assert line.split() == ["Customer", "retention", "100.0%"] + ["100.0%", "*"] * 4


def test_targets_where_checks_one_segment(ctx):
    """Revenue target 1,800 in March 2025: North 1,600 misses it, South 2,000 meets it."""
    north = render_json(answer("targets 2025-03 where region=North", ctx))
    south = render_json(answer("targets 2025-03 where region=South", ctx))
    assert north["rows"][0][:4] == ["revenue", 1600.0, 1800, "missed"]
    assert south["rows"][0][:4] == ["revenue", 2000.0, 1800, "met"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("forecast revenue by region", "forecast one segment with `where`"),
        ("targets by region", "targets have no `by`"),
        ("digest by region", "has no `by`"),
        ("alerts where region=North", "`alerts` takes no `by` or `where`"),
        ("issues by region", "takes no `by` or `where`"),
        ("refresh where region=North", "takes no `by` or `where`"),
        ("risk last-month", "takes no period"),
        ("cohorts vs 2025-02", "no comparison period"),
    ],
)
def test_commands_that_cannot_split_or_filter_say_so(ctx, text, words):
    reply = answer(text, ctx)
    assert isinstance(reply, ErrorReply) and words in reply.message
