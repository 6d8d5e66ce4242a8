"""Mix/rate decomposition: exact additivity (hypothesis), hand-computed cases, and Spearman correlations."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.decompose import explain, mix_rate, spearman_table


def frame(rows):
    return pd.DataFrame(rows, columns=["segment", "weight", "value"])


def test_hand_computed_mix_and_rate():
    # Before: North 50 answers at NPS 40, South 50 at 20 → 30. After: North 50 at 40, South 50 at -20 → 10.
    d = mix_rate(frame([("North", 50, 40), ("South", 50, 20)]), frame([("North", 50, 40), ("South", 50, -20)]))
    assert d.total == pytest.approx(-20)
    south = next(p for p in d.parts if p.segment == "South")
    assert south.rate == pytest.approx(-20)  # (−20 − 20) × (0.5 + 0.5)/2
    assert south.mix == pytest.approx(0)
    assert d.parts[0].segment == "South"
    assert "fell 20.0 points" in explain("NPS", "points", d, "region")
    assert "South" in explain("NPS", "points", d, "region")


def test_pure_mix_shift():
    # Rates stay 10% and 30%, but weight moves from the 10% segment to the 30% one.
    d = mix_rate(frame([("A", 80, 10), ("B", 20, 30)]), frame([("A", 20, 10), ("B", 80, 30)]))
    assert d.before == pytest.approx(14) and d.after == pytest.approx(26)
    assert sum(p.rate for p in d.parts) == pytest.approx(0)
    assert sum(p.mix for p in d.parts) == pytest.approx(12)


def test_new_segment_is_all_mix_and_residual_absorbs_unsegmented_rows():
    d = mix_rate(frame([("A", 10, 50)]), frame([("A", 10, 50), ("B", 10, 70)]), total_before=50.0, total_after=61.0)
    b = next(p for p in d.parts if p.segment == "B")
    assert b.rate == 0 and b.value_before is None
    assert sum(p.total for p in d.parts) + d.residual == pytest.approx(d.total, abs=1e-12)
    assert d.residual == pytest.approx(61 - 60)


seg = st.sampled_from(["N", "S", "E", "W", "X"])
row = st.tuples(seg, st.floats(0, 1e4, allow_nan=False), st.floats(-100, 100, allow_nan=False))


@settings(max_examples=100, deadline=None)
@given(st.lists(row, min_size=1, max_size=5, unique_by=lambda r: r[0]), st.lists(row, min_size=1, max_size=5, unique_by=lambda r: r[0]))
def test_parts_sum_to_total_change(before, after):
    d = mix_rate(frame(before), frame(after))
    assert math.isclose(sum(p.total for p in d.parts) + d.residual, d.total, abs_tol=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(row, min_size=1, max_size=5, unique_by=lambda r: r[0]),
    st.lists(row, min_size=1, max_size=5, unique_by=lambda r: r[0]),
    st.floats(-100, 100, allow_nan=False),
    st.floats(-100, 100, allow_nan=False),
)
def test_parts_plus_residual_match_given_totals(before, after, tb, ta):
    d = mix_rate(frame(before), frame(after), total_before=tb, total_after=ta)
    assert math.isclose(sum(p.total for p in d.parts) + d.residual, ta - tb, abs_tol=1e-9)


def test_spearman_table():
    f = pd.DataFrame({"retention": [1, 2, 3, 4, 5], "nps": [2, 4, 6, 8, 10], "complaints": [5, 4, 3, 2, 1], "flat": [1, 1, 1, 1, 1]})
    rows = {c.metric: c for c in spearman_table(f, "retention", ["nps", "complaints", "flat"])}
    assert rows["nps"].rho == pytest.approx(1.0) and rows["nps"].n == 5
    assert rows["complaints"].rho == pytest.approx(-1.0)
    assert rows["flat"].rho is None
