"""Customer survival (存活率): Kaplan–Meier curves of time from signup to churn, medians, log-rank tests.

Input rules: each customer signed up by the as-of date contributes one spell from signup to the churn
they are in on the as-of date (explicit `churned_on`, or last activity + `churn.after_days` in inactivity
mode) — an event; customers active on the as-of date (including reactivated ones) are censored there.
Customers who sign up after the as-of date are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from metrics.customers import churn_events
from metrics.options import MetricOptions
from metrics.tables import Tables

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Curve:
    """One Kaplan–Meier curve: survival by day since signup, its 95% band and the median lifetime."""

    segment: str
    n: int
    events: int
    days: list[float]
    survival: list[float]
    low: list[float]
    high: list[float]
    median_days: float | None
    median_low: float | None
    median_high: float | None


@dataclass
class SurvivalResult:
    """The overall curve, one curve per segment when `by` is given, and the log-rank test between them."""

    as_of: date
    overall: Curve
    by: str | None = None
    segments: list[Curve] = field(default_factory=list)
    logrank_p: float | None = None
    logrank_statistic: float | None = None


def survival_input(t: Tables, as_of: date, o: MetricOptions) -> pd.DataFrame:
    """customer_id, duration (days from signup to churn or to `as_of`) and event (1 = churned)."""
    return durations(churn_events(t, as_of, o), as_of)


def durations(ev: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """`survival_input` from a `churn_events` frame (the snapshot's, or one built from the warehouse's per-customer
    days): duration in days from signup to churn or to `as_of`, and event."""
    end = ev["churn_date"].fillna(pd.Timestamp(as_of))
    duration = (end - ev["signup"]).dt.days.clip(lower=0).astype(float)
    return pd.DataFrame(
        {"customer_id": ev["customer_id"], "duration": duration, "event": ev["churn_date"].notna().astype(int)}
    )


def _finite(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def _curve(segment: str, frame: pd.DataFrame) -> Curve:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter().fit(frame["duration"], frame["event"], label=segment)
    ci = kmf.confidence_interval_survival_function_
    median = _finite(kmf.median_survival_time_)
    mci = median_survival_times(kmf.confidence_interval_)
    return Curve(
        segment=segment,
        n=len(frame),
        events=int(frame["event"].sum()),
        days=[float(x) for x in kmf.survival_function_.index],
        survival=[float(x) for x in kmf.survival_function_.iloc[:, 0]],
        low=[float(x) for x in ci.iloc[:, 0]],
        high=[float(x) for x in ci.iloc[:, 1]],
        median_days=median,
        median_low=_finite(mci.iloc[0, 0]),
        median_high=_finite(mci.iloc[0, 1]),
    )


def kaplan_meier(t: Tables, as_of: date, o: MetricOptions, by: str | None = None) -> SurvivalResult:
    """Kaplan–Meier survival from signup to churn, overall and by `by` with a multivariate log-rank test."""
    data = survival_input(t, as_of, o)
    return kaplan_meier_of(data, as_of, by, data["customer_id"].map(t.dimension_of(by)) if by else None)


def kaplan_meier_of(
    data: pd.DataFrame, as_of: date, by: str | None = None, segments: pd.Series | None = None
) -> SurvivalResult:
    """`kaplan_meier` from survival input (customer_id, duration, event) and each row's segment of `by` (aligned
    with `data`; missing is "(blank)"): the finishing part shared with the warehouse."""
    if data.empty:
        raise ValueError("no customers signed up by the as-of date — survival needs Customers or Orders rows")
    result = SurvivalResult(as_of=as_of, overall=_curve("all customers", data), by=by)
    if by and segments is not None:
        from lifelines.statistics import multivariate_logrank_test

        groups = segments.fillna("(blank)").astype(str)
        result.segments = [_curve(g, data[groups == g]) for g in sorted(groups.unique())]
        if groups.nunique() > 1:
            test = multivariate_logrank_test(data["duration"], groups, data["event"])
            result.logrank_p = float(test.p_value)
            result.logrank_statistic = float(test.test_statistic)
    return result


def restricted_mean_lifetime_years(t: Tables, as_of: date, o: MetricOptions) -> float | None:
    """Restricted mean lifetime (area under the KM curve up to the cap `clv_max_lifetime_years`), in years."""
    return restricted_mean_of(survival_input(t, as_of, o), o)


def restricted_mean_of(data: pd.DataFrame, o: MetricOptions) -> float | None:
    """`restricted_mean_lifetime_years` from survival input (duration, event): the finishing part shared with the
    warehouse; None without a churn event."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    if data.empty or data["event"].sum() == 0:
        return None
    kmf = KaplanMeierFitter().fit(data["duration"], data["event"])
    horizon = o.clv_max_lifetime_years * DAYS_PER_YEAR
    return float(restricted_mean_survival_time(kmf, t=horizon)) / DAYS_PER_YEAR
