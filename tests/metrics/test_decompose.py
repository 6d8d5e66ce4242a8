"""Mix/rate decomposition: exact additivity (hypothesis), hand-computed cases, and Spearman correlations."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.decompose import Driver, Explanation, explanation, mix_rate, spearman_table


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
    # The sentence's parts: NPS fell 20 points, all of them South's own score (rate −20, mix 0).
    assert explanation(d) == Explanation("fell", pytest.approx(20), (Driver("South", pytest.approx(20), "own_value"),))


def test_explanation_names_the_largest_parts_moving_with_the_total_and_their_cause():
    # A: 50→20 answers, value 10 both times (its weight shrinks); B: 50→80 answers at 30 (its weight grows).
    # Before 0.5·10 + 0.5·30 = 20, after 0.2·10 + 0.8·30 = 26: rose 6, all of it mix. Centre 23:
    # A's mix (−0.3)(10 − 23) = +3.9 (its share shrank), B's mix (+0.3)(30 − 23) = +2.1 (its share grew).
    d = mix_rate(frame([("A", 50, 10), ("B", 50, 30)]), frame([("A", 20, 10), ("B", 80, 30)]))
    e = explanation(d)
    assert e.direction == "rose" and e.amount == pytest.approx(6)
    assert [(p.segment, p.cause) for p in e.drivers] == [("A", "share_shrank"), ("B", "share_grew")]
    assert [p.amount for p in e.drivers] == [pytest.approx(3.9), pytest.approx(2.1)]
    assert [p.segment for p in explanation(d, top=1).drivers] == ["A"]


def test_explanation_of_no_change_and_of_no_part_moving_with_the_total():
    assert explanation(mix_rate(frame([("A", 1, 10)]), frame([("A", 1, 10)]))) == Explanation("flat", 0.0)
    # Only unsegmented rows moved (the residual): no segment pulls the total, so no drivers.
    d = mix_rate(frame([("A", 1, 10)]), frame([("A", 1, 10)]), total_before=10.0, total_after=12.0)
    assert explanation(d) == Explanation("rose", pytest.approx(2.0), ())


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


def test_a_residual_of_float_noise_is_no_residual():
    # One segment of revenue 1,000,000 → 1,000,001 (weight 1), its own change 1.0. Summed in another order (a
    # warehouse's SUM, numpy's), the overall total can differ from the segments' in its last bits: after
    # 1,000,001 + 2e-9 leaves 2e-9 (2e-15 of the total) as residual — float noise, no row outside the segments.
    d = mix_rate(frame([("A", 1, 1_000_000.0)]), frame([("A", 1, 1_000_001.0)]), 1_000_000.0, 1_000_001.0 + 2e-9)
    assert d.residual == 0.0 and d.parts[0].total == 1.0
    # A real residual (one order of 0.01 outside every segment) stays: 1,000,001.01 − 1,000,000 − 1.0 = 0.01.
    d = mix_rate(frame([("A", 1, 1_000_000.0)]), frame([("A", 1, 1_000_001.0)]), 1_000_000.0, 1_000_001.01)
    assert d.residual == pytest.approx(0.01)
