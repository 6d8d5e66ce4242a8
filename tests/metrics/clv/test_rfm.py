"""RFM: quintile scores by rank and the segment grid (also quoted in docs/clv.md)."""

import re
from pathlib import Path

import pandas as pd
import pytest

from metrics.clv import SEGMENT_GRID, SEGMENTS, rfm_segments
from metrics.clv.rfm import quintile_score
from tests.metrics.clv.conftest import ORDERS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "clv.md"


@pytest.mark.parametrize(
    "values, higher, scores",
    [
        ([10, 20, 30, 40, 50], True, [1, 2, 3, 4, 5]),
        ([1, 2, 3, 4, 5], False, [5, 4, 3, 2, 1]),
        ([1, 1, 1, 1, 2], True, [2, 2, 2, 2, 5]),  # ties share the average rank 2.5: ⌈5·2/5⌉ = 2
        ([7, 7, 7], True, [3, 3, 3]),
        ([4.0], True, [3]),
    ],
)
def test_quintile_scores(values, higher, scores):
    assert quintile_score(pd.Series(values, dtype=float), higher).tolist() == scores


def test_grid_is_complete_and_uses_exactly_the_named_segments():
    assert sorted(SEGMENT_GRID) == [1, 2, 3, 4, 5]
    assert all(len(row) == 5 for row in SEGMENT_GRID.values())
    assert {s for row in SEGMENT_GRID.values() for s in row} == set(SEGMENTS)


def test_docs_table_matches_code():
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*R\s*=\s*(\d)\s*\|(.*)\|\s*$", line)
        if m:
            rows[int(m.group(1))] = tuple(cell.strip() for cell in m.group(2).split("|"))
    assert rows == SEGMENT_GRID


def test_from_orders_by_hand():
    """As of 2026-02-28: c1 last bought Feb 2 (26 days), 3 purchase days, net 15+20+30−5 = 60; c2 47 days, 1, 50;
    c4 0 days, 1, 7. Mid-ranks (r − ½)/3 → R = 3, 1, 5; F = 5, 2, 2 (tie at rank 1.5); M = 5, 3, 1;
    FM = ⌈(F+M)/2⌉ = 5, 3, 2."""
    out = rfm_segments(ORDERS, "2026-02-28")
    assert out.loc[["c1", "c2", "c4"], "recency"].tolist() == [26, 47, 0]
    assert out.loc[["c1", "c2", "c4"], "frequency"].tolist() == [3, 1, 1]
    assert out.loc[["c1", "c2", "c4"], "monetary"].tolist() == pytest.approx([60.0, 50.0, 7.0])
    assert out[["R", "F", "M"]].loc["c1"].tolist() == [3, 5, 5]
    assert out[["R", "F", "M"]].loc["c2"].tolist() == [1, 2, 3]
    assert out[["R", "F", "M"]].loc["c4"].tolist() == [5, 2, 1]
    assert out["segment"].tolist() == ["Loyal", "At risk", "Potential"]


def test_from_summary(cdnow):
    out = rfm_segments(cdnow)
    assert len(out) == 2357
    assert out["R"].between(1, 5).all() and out["F"].between(1, 5).all() and out["M"].between(1, 5).all()
    assert set(out["segment"]) <= set(SEGMENTS)
    assert out.loc["0001", "recency"] == pytest.approx(38.86 - 30.43)


def test_orders_need_as_of():
    with pytest.raises(ValueError, match="as_of"):
        rfm_segments(ORDERS)
