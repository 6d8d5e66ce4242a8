"""NPS and CSAT-style survey metrics: METRICS.md's worked example, scales, invalid answers, properties."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import surveys as sv
from metrics.options import MetricOptions, Scale
from metrics.stats import wilson
from tests.metrics.builders_a import JAN, period, responses, scores, tables

O = MetricOptions()


def nps_example() -> pd.DataFrame:
    """METRICS.md: 100 answers, 70 promoters, 10 detractors (20 passives)."""
    return scores("NPS", "2026-01-10", [10] * 40 + [9] * 30 + [8] * 12 + [7] * 8 + [6] * 5 + [3] * 4 + [0])


def test_nps_worked_example():
    r = sv.nps(tables(responses=nps_example()), JAN, O)
    assert r.value == pytest.approx(60.0)
    assert (r.details["promoters"], r.details["passives"], r.details["detractors"], r.details["n"]) == (70, 20, 10, 100)
    # 1.96 · 100 · sqrt((0.7 + 0.1 − 0.6²) / 100) = 196 · sqrt(0.0044) = 13.0012
    margin = 196 * math.sqrt(0.0044)
    assert r.details["margin"] == pytest.approx(margin, rel=1e-12)
    assert margin == pytest.approx(13.0012, abs=1e-4)
    assert (r.interval.low, r.interval.high) == pytest.approx((60 - margin, 60 + margin))
    assert r.details["band"] == "excellent"
    assert r.unit == "nps" and r.n == 100 and r.notes == []


def test_nps_interval_is_clipped():
    # 9 promoters, 1 passive: NPS 90, margin 196·sqrt((0.9 − 0.81)/10) = 18.59 → upper end clipped to 100
    r = sv.nps(tables(responses=scores("NPS", "2026-01-02", [9] * 9 + [7])), JAN, O)
    assert r.value == pytest.approx(90.0)
    assert r.details["margin"] == pytest.approx(196 * math.sqrt(0.009))
    assert r.interval.high == 100.0
    assert r.interval.low == pytest.approx(90 - 196 * math.sqrt(0.009))
    assert r.notes == ["small sample: n = 10 < 30"]


def test_nps_value_keeps_full_precision():
    r = sv.nps(tables(responses=scores("NPS", "2026-01-02", [10, 10, 0])), JAN, O)
    assert r.value == pytest.approx(100 / 3)
    assert r.value != 33.0


@pytest.mark.parametrize(
    "value, band",
    [(-0.6, "needs immediate improvement"), (-0.4, "average"), (0.0, "average"), (29.4, "average"),
     (29.6, "excellent"), (30.0, "excellent"), (69.4, "excellent"), (70.0, "world-class"), (100.0, "world-class"),
     (None, None)],
)
def test_nps_band_boundaries(value, band):
    assert sv.nps_band(value) == band


def test_nps_band_from_data_boundary_belongs_to_higher_band():
    # 3 promoters, 7 passives → NPS 30 exactly
    r = sv.nps(tables(responses=scores("NPS", "2026-01-02", [9, 10, 9] + [8] * 7)), JAN, O)
    assert r.value == pytest.approx(30.0)
    assert r.details["band"] == "excellent"


def test_nps_empty_period():
    r = sv.nps(tables(responses=nps_example()), period("2026-02-01", "2026-03-01"), O)
    assert r.value is None and r.n == 0 and r.interval is None
    assert r.details["promoters"] == r.details["detractors"] == r.details["n"] == 0
    assert r.details["margin"] is None and r.details["band"] is None
    assert r.notes == []


def test_nps_ignores_other_surveys_and_matches_names_loosely():
    t = tables(
        responses=pd.concat(
            [scores("nps ", "2026-01-03", [10, 0]), scores("CSAT", "2026-01-03", [5, 5, 5]), scores("NPS", "2025-12-31", [0])],
            ignore_index=True,
        )
    )
    r = sv.nps(t, JAN, O)
    assert (r.n, r.value) == (2, 0.0)


def test_out_of_scale_and_non_integer_scores_are_excluded_and_counted():
    frame = scores("NPS", "2026-01-05", [10, 11, -1, 9, 0]).astype({"score": "float64"})
    frame.loc[len(frame)] = [pd.Timestamp("2026-01-05"), "NPS", 7.5, pd.NA, pd.NA]
    frame.loc[len(frame)] = [pd.Timestamp("2026-01-05"), "NPS", float("nan"), pd.NA, pd.NA]
    r = sv.nps(tables(responses=frame, excluded={"responses": 2}), JAN, O)
    assert r.n == 3  # 10, 9, 0
    assert r.value == pytest.approx(100 / 3)
    assert r.excluded_rows == 2 + 4
    assert "4 answers left out: score not an integer on the survey's scale" in r.notes


def test_csat_five_point_scale():
    answers = [5, 5, 4, 3, 2, 1, 4, 5, 3, 4]
    r = sv.csat(tables(responses=scores("CSAT", "2026-01-08", answers)), JAN, O)
    # satisfied (≥ 4): 5 5 4 4 5 4 → 6 of 10
    assert (r.numerator, r.denominator, r.value) == (6, 10, pytest.approx(60.0))
    assert (r.interval.low, r.interval.high) == pytest.approx(wilson(6, 10))
    # mean 3.6; squared deviations sum to 16.4 → sd = sqrt(16.4 / 9)
    sd = math.sqrt(16.4 / 9)
    assert r.details["mean"] == pytest.approx(3.6)
    assert r.details["sd"] == pytest.approx(sd)
    assert r.details["mean_interval"] == pytest.approx((3.6 - 1.96 * sd / math.sqrt(10), 3.6 + 1.96 * sd / math.sqrt(10)))
    assert r.details["scale"] == {"min": 1, "max": 5, "satisfied_from": 4}
    assert r.metric == "csat" and r.unit == "percent"


def test_csat_ten_point_scale_default_and_custom_threshold():
    answers = [10, 9, 9, 8, 8, 7, 5, 3]
    t = tables(responses=scores("CSAT", "2026-01-08", answers))
    ten = MetricOptions(scales={"CSAT": Scale(1, 10, 9)})
    r = sv.csat(t, JAN, ten)
    assert (r.numerator, r.denominator) == (3, 8)
    assert r.details["mean"] == pytest.approx(59 / 8)
    eight = MetricOptions(scales={"CSAT": Scale(1, 10, 8)})
    assert sv.csat(t, JAN, eight).numerator == 5
    # on the default 1–5 scale every answer above 5 is out of scale
    five = sv.csat(t, JAN, O)
    assert (five.numerator, five.denominator, five.excluded_rows) == (1, 2, 6)


def test_csi_uses_its_ten_point_scale():
    r = sv.csi(tables(responses=scores("CSI", "2026-01-08", [10, 9, 8, 1])), JAN, O)
    assert (r.metric, r.numerator, r.denominator) == ("csi", 2, 4)
    assert r.details["scale"] == {"min": 1, "max": 10, "satisfied_from": 9}


def test_csat_one_answer_and_empty():
    one = sv.csat(tables(responses=scores("CSAT", "2026-01-08", [4])), JAN, O)
    assert one.value == 100.0 and one.details["sd"] is None and one.details["mean_interval"] is None
    assert one.interval.high == 100.0 and one.interval.low == pytest.approx(wilson(1, 1)[0])
    empty = sv.csat(tables(), JAN, O)
    assert empty.value is None and empty.n == 0 and empty.details["mean"] is None


def test_generic_survey_metric():
    o = MetricOptions(scales={**MetricOptions().scales, "CES": Scale(1, 7, 5)})
    ces = sv.survey_metric("CES")
    r = ces(tables(responses=scores("CES", "2026-01-04", [7, 5, 4, 8])), JAN, o)
    assert (r.metric, r.label, r.numerator, r.denominator, r.excluded_rows) == ("ces", "CES", 2, 3, 1)
    with pytest.raises(ValueError, match="survey 'Effort' has no scale; configured surveys: NPS, CSAT, CSI"):
        sv.survey_metric("Effort")(tables(), JAN, O)


# ---- properties ----

answer = st.tuples(st.sampled_from(["NPS", "CSAT"]), st.integers(0, 11), st.integers(0, 60))


def frame_of(rows):
    return responses(*[(str(pd.Timestamp("2025-12-15") + pd.Timedelta(days=d))[:10], s, v) for s, v, d in rows])


@settings(max_examples=60, deadline=None)
@given(st.lists(answer, max_size=60), st.randoms(use_true_random=False))
def test_survey_invariants_and_row_order(rows, rnd):
    frame = frame_of(rows)
    shuffled = frame.sample(frac=1.0, random_state=rnd.randint(0, 2**31 - 1))
    in_jan = [(s, v) for s, v, d in rows if 17 <= d < 48]
    nps_scores = [v for s, v in in_jan if s == "NPS" and v <= 10]
    csat_scores = [v for s, v in in_jan if s == "CSAT" and 1 <= v <= 5]
    for f in (frame, shuffled):
        n = sv.nps(tables(responses=f), JAN, O)
        c = sv.csat(tables(responses=f), JAN, O)
        assert n.n == len(nps_scores)
        assert c.n == len(csat_scores)
        if nps_scores:
            expected = 100 * (sum(v >= 9 for v in nps_scores) - sum(v <= 6 for v in nps_scores)) / len(nps_scores)
            assert n.value == pytest.approx(expected)
            assert -100.0 <= n.interval.low <= n.value <= n.interval.high <= 100.0
        if csat_scores:
            assert 0.0 <= c.interval.low <= c.value <= c.interval.high <= 100.0
            assert c.value == pytest.approx(100 * sum(v >= 4 for v in csat_scores) / len(csat_scores))
        assert n.excluded_rows == sum(1 for s, v in in_jan if s == "NPS" and v > 10)
