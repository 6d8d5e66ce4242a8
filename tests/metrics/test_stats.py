"""Interval and significance formulas against hand-computed and library values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from metrics import stats
from tests.metrics.builders_a import JAN


def test_wilson_all_failures_hand_value():
    # upper bound = z² / (n + z²) = 3.8416 / 13.8416 when k = 0
    low, high = stats.wilson(0, 10)
    assert low == 0.0
    assert high == pytest.approx(100 * 3.8416 / 13.8416, abs=1e-9)
    assert high == pytest.approx(27.754, abs=1e-3)


def test_wilson_all_successes_mirrors_all_failures():
    low, high = stats.wilson(10, 10)
    assert high == 100.0
    assert low == pytest.approx(100 - 100 * 3.8416 / 13.8416, abs=1e-9)


def test_wilson_half_matches_textbook():
    # centre 0.5, half-width 1.96·sqrt(0.025 + 0.009604) / 1.38416 = 0.263410 → 23.66 % .. 76.34 %
    low, high = stats.wilson(5, 10)
    assert low == pytest.approx(23.659, abs=1e-3)
    assert high == pytest.approx(76.341, abs=1e-3)
    ref = proportion_confint(5, 10, alpha=0.05, method="wilson")
    assert low == pytest.approx(100 * ref[0], abs=0.01)


def test_wilson_undefined_and_invalid():
    assert stats.wilson(0, 0) is None
    assert stats.wilson(12, 10) is None
    with pytest.raises(ValueError, match="non-negative"):
        stats.wilson(-1, 10)


def test_two_proportion_hand_value_and_statsmodels():
    # pooled 0.375, se = sqrt(0.375·0.625·0.02) = 0.068465, z = 0.15 / se = 2.19089 → p = 0.02846
    p = stats.two_proportion_test(45, 100, 30, 100)
    assert p == pytest.approx(0.028460, abs=1e-5)
    _, ref = proportions_ztest([45, 30], [100, 100])
    assert p == pytest.approx(ref, rel=1e-9)


def test_two_proportion_edges():
    assert stats.two_proportion_test(3, 10, 0, 0) is None
    assert stats.two_proportion_test(0, 10, 0, 20) == 1.0
    assert stats.two_proportion_test(10, 10, 20, 20) == 1.0
    assert stats.two_proportion_test(30, 10, 3, 10) is None
    assert stats.two_proportion_test(5, 10, 5, 10) == pytest.approx(1.0)


def test_nps_margin_of_metrics_md_example():
    # p = 0.7, d = 0.1: p + d − (p − d)² = 0.8 − 0.36 = 0.44; 1.96 · 100 · sqrt(0.44 / 100) = 13.0012
    assert stats.nps_margin(70, 10, 100) == pytest.approx(1.96 * 100 * math.sqrt(0.0044), rel=1e-12)
    assert stats.nps_margin(70, 10, 100) == pytest.approx(13.001, abs=1e-3)
    assert stats.nps_se(70, 10, 100) == pytest.approx(6.6332, abs=1e-4)
    assert stats.nps_margin(0, 0, 0) is None
    assert stats.nps_margin(5, 0, 5) == 0.0
    with pytest.raises(ValueError):
        stats.nps_margin(8, 5, 10)


def test_nps_change_rule():
    # NPS 60 vs 40: SE₁ = 100·sqrt(0.44/100) = 6.633, SE₂ = 100·sqrt((0.8 − 0.4²)/100) = 8.0,
    # threshold 1.96·sqrt(44 + 64) = 20.37 > Δ 20 → within noise; ten times the answers → 6.44 < 20
    assert stats.nps_se(60, 20, 100) == pytest.approx(8.0)
    assert stats.nps_change_significant((70, 10, 100), (60, 20, 100)) is False
    big = (700, 100, 1000), (600, 200, 1000)
    assert stats.nps_change_significant(*big) is True
    assert stats.nps_change_significant((1, 0, 1), (0, 0, 0)) is None


def test_mean_interval_and_welch_against_scipy():
    low, high = stats.mean_interval(4.0, 1.0, 25)
    assert (low, high) == pytest.approx((4.0 - 1.96 * 0.2, 4.0 + 1.96 * 0.2))
    assert stats.mean_interval(4.0, float("nan"), 1) is None
    p = stats.welch_p_value(4.2, 0.8, 40, 3.9, 1.0, 35)
    ref = sps.ttest_ind_from_stats(4.2, 0.8, 40, 3.9, 1.0, 35, equal_var=False).pvalue
    assert p == pytest.approx(ref, rel=1e-12)
    assert stats.welch_p_value(4.0, 0.0, 5, 3.0, 0.0, 5) is None
    assert stats.welch_p_value(4.0, 1.0, 1, 3.0, 1.0, 5) is None


def test_small_sample_note():
    assert stats.small_sample_note(12, 30) == "small sample: n = 12 < 30"
    assert stats.small_sample_note(30, 30) is None
    assert stats.small_sample_note(0, 30) is None


def test_proportion_result_fills_counts_interval_and_notes():
    r = stats.proportion_result("repeat", "Repeat-purchase rate", JAN, 3, 12, min_n=30, excluded_rows=2)
    assert r.value == pytest.approx(25.0)
    assert (r.numerator, r.denominator, r.n, r.excluded_rows) == (3, 12, 12, 2)
    assert (r.interval.low, r.interval.high) == pytest.approx(stats.wilson(3, 12))
    assert r.notes == ["small sample: n = 12 < 30"]
    empty = stats.proportion_result("repeat", "Repeat-purchase rate", JAN, 0, 0, min_n=30)
    assert empty.value is None and empty.interval is None and empty.n == 0


counts = st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=80)
@given(counts)
def test_wilson_contains_share_and_stays_in_bounds(kn):
    k, n = kn
    low, high = stats.wilson(k, n)
    assert 0.0 <= low <= 100 * k / n <= high <= 100.0
    assert (low == 0.0) == (k == 0) and (high == 100.0) == (k == n)


@settings(max_examples=60)
@given(counts, counts)
def test_two_proportion_p_value_is_a_probability_and_symmetric(a, b):
    p = stats.two_proportion_test(*a, *b)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(stats.two_proportion_test(*b, *a), abs=1e-12)


nps_counts = st.integers(min_value=1, max_value=2000).flatmap(
    lambda n: st.integers(0, n).flatmap(lambda pr: st.tuples(st.just(pr), st.integers(0, n - pr), st.just(n)))
)


@settings(max_examples=60)
@given(nps_counts)
def test_nps_margin_is_finite_and_at_most_196(pdn):
    m = stats.nps_margin(*pdn)
    assert 0.0 <= m <= 1.96 * 100
