"""BG/NBD expectations in the parameter corners where the 2F1 formula is ill-conditioned, against mpmath references.

Regression cases found by the property tests and a grid over the edges of their ranges (r 0.01–20, α 0.01–500,
a 0.01–20, b 0.01–50, t 0–1000): a within ~1e-4 of 1 at tiny t (the bracket of eq. 9 is O((a−1)·t) and was divided
by a−1 after cancelling), and r+x−a+1 within rounding of an integer at large t/α (scipy's hyp2f1 loses all digits
next to the degenerate case of its z → 1−z transformation and returned e.g. −41.2 or −2977 instead of 6.59 or 24.6).
"""

import numpy as np
import pytest

from metrics.clv import conditional_expected_purchases, expected_purchases, p_alive
from metrics.clv.bgnbd import expected_if_alive
from tests.metrics.clv.bgnbd_reference import expected_if_alive_by_integration, expected_if_alive_reference

# (r, α, a, b), t: each was negative, non-monotone or off by more than 1e-9 before the fix.
UNCONDITIONAL = [
    ((0.01, 0.01, 1.0, 50.0), 1e-10),  # was −5.5e-8; ≈ r·t/α = 1e-10 (first term of the series)
    ((0.01, 1.0, 0.999999, 50.0), 1e-10),  # was −5.5e-10
    ((15.370076438629178, 15.370076438629178, 0.99999, 4.491222539049662), 7.909746429168932e-08),  # Hypothesis
    ((15.370076438629178, 15.370076438629178, 0.99999, 4.491222539049662), 2.971094320985628e-168),  # was −2e-10
    ((0.01092784005107334, 135.08517418646002, 1.00000019815243, 8.008065030641854), 1.1450540652127327e-07),
    ((0.01, 0.01, 1.01, 50.0), 100.0),  # r − a + 1 = 0 up to rounding: was −41.2, is 6.59
    ((0.01, 0.01, 1.01, 50.0), 1000.0),  # was −635
    ((0.01, 0.01, 1.01, 20.0), 10.0),  # was 180.6
    ((0.10456820864760652, 0.4828688792035292, 1.1045682086476065, 46.05542874823272), 676.5242209873015),  # −2977
    ((2.01, 0.01, 1.01, 50.0), 100.0),  # r − a + 1 = 2: off by 6.5e-5
    ((0.010001, 0.01, 1.01, 50.0), 100.0),  # 1e-6 from the degenerate case: off by 1.5e-7
    ((1.0, 0.01, 1.0, 50.0), 500.0),  # a = 1 exactly at large t (0/0 in eq. 9)
    ((0.5, 1.0, 0.3, 0.7), 5.0),  # c = a + b − 1 = 0 up to rounding (pole of the 2F1, removable in eq. 9)
    ((0.5, 1.0, 0.2, 0.3), 50.0),  # c < 0
    ((0.243, 4.414, 0.793, 2.426), 39.0),  # CDNOW: the ordinary case stays right
]


@pytest.mark.parametrize("params, t", UNCONDITIONAL)
def test_expected_purchases_matches_high_precision_reference(params, t):
    expected = expected_if_alive_reference(*params, t)
    assert expected > 0
    assert float(expected_purchases(params, t)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("params, t", UNCONDITIONAL)
def test_reference_formula_agrees_with_integrating_the_model(params, t):
    """The two independent references (eq. 9 at 50 digits; numerical integration over p) agree to 1e-12."""
    assert expected_if_alive_by_integration(*params, t) == pytest.approx(
        expected_if_alive_reference(*params, t), rel=1e-12
    )


# (r, α, a, b), x, T, t for E[Y(t) | alive]: r + x − a + 1 an integer up to rounding, and a ≈ 1 with small t/(α+T).
CONDITIONAL = [
    ((0.01, 0.01, 1.01, 50.0), 3, 0.5, 500.0),
    ((0.10456820864760652, 0.4828688792035292, 1.1045682086476065, 46.05542874823272), 1, 2.0, 900.0),
    ((0.01, 1.0, 0.9999999, 50.0), 5, 10.0, 1e-9),
    ((4.260127563046554, 14.314301068360127, 1.000000000008627, 29.67664865450401), 1, 0.30465470761817265, 1.77e-08),
    ((0.243, 4.414, 0.793, 2.426), 2, 38.86, 39.0),
]


@pytest.mark.parametrize("params, x, T, t", CONDITIONAL)
def test_expected_if_alive_matches_high_precision_reference(params, x, T, t):
    expected = expected_if_alive_reference(*params, t, x, T)
    assert expected_if_alive_by_integration(*params, t, x, T) == pytest.approx(expected, rel=1e-12)
    assert float(expected_if_alive(params, t, x, T)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("params, t", UNCONDITIONAL)
def test_expected_purchases_nonnegative_and_nondecreasing_around_the_case(params, t):
    """A dense time grid around each case (and from 1e-12 to 1000): finite, ≥ 0, nondecreasing."""
    ts = np.unique(np.concatenate([t * np.geomspace(1e-3, 1e3, 61), np.geomspace(1e-12, 1e3, 61), [0.0]]))
    e = expected_purchases(params, ts)
    assert np.all(np.isfinite(e))
    assert np.all(e >= 0)
    assert np.all(np.diff(e) >= -1e-12 * (1 + np.abs(e[1:])))


@pytest.mark.parametrize("params, x, T, t", CONDITIONAL)
def test_conditional_expectation_nonnegative_and_nondecreasing_around_the_case(params, x, T, t):
    tx = T / 2
    ts = np.unique(np.concatenate([t * np.geomspace(1e-3, 1e3, 61), np.geomspace(1e-12, 1e3, 61), [0.0]]))
    e = conditional_expected_purchases(params, ts, x, tx, T)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)
    assert np.all(np.diff(e) >= -1e-12 * (1 + np.abs(e[1:])))
    alive = p_alive(params, x, tx, T)
    assert 0 < alive <= 1


def test_recomputed_rows_keep_their_place_in_a_vector():
    """Trusted, series and quadrature rows mixed in one call (with repeats) equal the same rows evaluated one by one."""
    params = (0.01, 0.01, 1.01, 50.0)  # r − a + 1 = 0 up to rounding: large t/(α+T) goes to quadrature
    x = np.array([3, 0, 3, 1, 0, 3])
    T = np.array([0.5, 0.5, 0.5, 20.0, 1e6, 0.5])
    t = np.array([500.0, 500.0, 500.0, 100.0, 1e-3, 500.0])
    together = expected_if_alive(params, t, x, T)
    one_by_one = [float(expected_if_alive(params, ti, xi, Ti)) for ti, xi, Ti in zip(t, x, T)]
    assert together.tolist() == one_by_one
    assert together[0] == together[2] == together[5]
    assert together[0] == pytest.approx(expected_if_alive_reference(*params, 500.0, 3, 0.5), rel=1e-9)
