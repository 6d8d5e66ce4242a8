"""Interval and significance formulas used by every metric and by the engine's period comparison."""

from __future__ import annotations

import math
from typing import Any

from metrics.periods import Period
from metrics.result import Interval, MetricResult

Z95 = 1.96


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes of n, in percent; None when n = 0 or k > n (not a proportion)."""
    _check_counts(k, n)
    if n == 0 or k > n:
        return None
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return 100 * low, 100 * high


def two_proportion_test(k1: float, n1: float, k2: float, n2: float) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when a side is empty or not a proportion.

    When both sides are all-successes or all-failures the proportions are equal and p = 1.
    """
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    if n1 == 0 or n2 == 0 or k1 > n1 or k2 > n2:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def nps_se(promoters: int, detractors: int, n: int) -> float | None:
    """Standard error of NPS in NPS points: 100·sqrt((p + d − (p − d)²) / n); None when n = 0."""
    _check_nps(promoters, detractors, n)
    if n == 0:
        return None
    p, d = promoters / n, detractors / n
    return 100 * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)


def nps_margin(promoters: int, detractors: int, n: int) -> float | None:
    """95% margin of error of NPS in NPS points (METRICS.md): 1.96 × SE; None when n = 0."""
    se = nps_se(promoters, detractors, n)
    return None if se is None else Z95 * se


def nps_change_significant(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool | None:
    """Whether NPS moved beyond the noise between two (promoters, detractors, n): |ΔNPS| > 1.96·sqrt(SE₁² + SE₂²)."""
    se_a, se_b = nps_se(*a), nps_se(*b)
    if se_a is None or se_b is None:
        return None
    delta = 100 * (a[0] - a[1]) / a[2] - 100 * (b[0] - b[1]) / b[2]
    return bool(abs(delta) > Z95 * math.sqrt(se_a**2 + se_b**2))


def mean_interval(mean: float, sd: float, n: int) -> tuple[float, float] | None:
    """mean ± 1.96·sd/√n; None when n < 2 or sd is unknown."""
    if n < 2 or sd is None or not math.isfinite(sd):
        return None
    half = Z95 * sd / math.sqrt(n)
    return mean - half, mean + half


def welch_p_value(m1: float, s1: float, n1: int, m2: float, s2: float, n2: int) -> float | None:
    """Two-sided p-value of Welch's t-test from summary statistics; None when a side has n < 2 or
    both sides have zero spread (the t statistic is undefined)."""
    if n1 < 2 or n2 < 2 or not all(map(math.isfinite, (m1, s1, m2, s2))):
        return None
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    se2 = v1 + v2
    if se2 == 0:
        return None
    t = (m1 - m2) / math.sqrt(se2)
    df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    from scipy.special import stdtr  # lazy: scipy costs ~0.5 s to import, and most answers never get here

    return float(2 * stdtr(df, -abs(t)))


def small_sample_note(n: int | None, min_n: int) -> str | None:
    """ "small sample: n = 12 < 30" when there is some data but fewer than `min_n` observations."""
    if n is None or n <= 0 or n >= min_n:
        return None
    return f"small sample: n = {n} < {min_n}"


def percent(k: float, n: float) -> float | None:
    """k / n × 100, or None when n = 0 (undefined, never 0 or inf)."""
    return None if n == 0 else 100 * k / n


def proportion_result(
    metric: str,
    label: str,
    period: Period,
    k: int,
    n: int,
    *,
    min_n: int,
    excluded_rows: int = 0,
    details: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> MetricResult:
    """A rate k / n × 100 with its counts, Wilson interval and small-sample note (value None when n = 0)."""
    k, n = int(k), int(n)
    ci = wilson(k, n)
    notes = list(notes or [])
    if k > n:
        notes.append(f"{k} of {n} is over 100%, so there is no interval")
    small = small_sample_note(n, min_n)
    if small:
        notes.append(small)
    return MetricResult(
        metric=metric,
        label=label,
        unit="percent",
        period=period,
        value=percent(k, n),
        n=n,
        numerator=k,
        denominator=n,
        interval=Interval(*ci) if ci else None,
        excluded_rows=int(excluded_rows),
        details=dict(details or {}),
        notes=notes,
    )


def _check_counts(k: float, n: float) -> None:
    if k < 0 or n < 0:
        raise ValueError(f"counts must be non-negative, got k = {k}, n = {n}")


def _check_nps(promoters: int, detractors: int, n: int) -> None:
    if min(promoters, detractors, n) < 0 or promoters + detractors > n:
        raise ValueError(f"need 0 ≤ promoters + detractors ≤ n, got {promoters} + {detractors} of {n}")
