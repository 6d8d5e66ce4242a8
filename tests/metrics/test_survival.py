"""Survival input censoring rules and Kaplan–Meier results on hand-built cases."""

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from metrics.options import MetricOptions
from metrics.survival import kaplan_meier, restricted_mean_lifetime_years, survival_input
from tests.metrics.builders_b import tables

AS_OF = date(2026, 1, 1)


def explicit_case():
    t = tables(
        customers=[
            ("A", "2025-01-01", "2025-04-11"),  # churned after 100 days → event
            ("B", "2025-01-01", "2025-07-20"),  # churned after 200 days → event
            ("C", "2025-01-01", None),  # active → censored at 365
            ("D", "2025-12-01", None),  # active → censored at 31
            ("E", "2026-02-01", None),  # signed up after the as-of date → excluded
            ("F", "2025-01-01", "2025-03-01"),  # churned, then reactivated by an order → censored at 365
        ],
        orders=[("F", "2025-06-01", 20.0), ("A", "2025-01-05", 10.0)],
    )
    plans = pd.Series(["Pro", "Pro", "Basic", "Basic", "Basic", "Pro"], dtype="string")
    customers = t.customers.assign(plan=plans.values)
    return replace(t, customers=customers, dimensions=("plan",))


def test_explicit_censoring_rules():
    data = survival_input(explicit_case(), AS_OF, MetricOptions(churn_mode="explicit")).set_index("customer_id")
    assert "E" not in data.index
    assert data.loc["A"].tolist() == [100.0, 1]
    assert data.loc["B"].tolist() == [200.0, 1]
    assert data.loc["C"].tolist() == [365.0, 0]
    assert data.loc["D"].tolist() == [31.0, 0]
    assert data.loc["F"].tolist() == [365.0, 0]


def test_inactivity_censoring_rules():
    t = tables(
        customers=[("G", "2025-01-01", None), ("H", "2025-10-15", None), ("I", None, None)],
        orders=[("G", "2025-03-01", 10.0), ("H", "2025-12-01", 10.0)],
    )
    data = survival_input(t, AS_OF, MetricOptions(churn_mode="inactivity", churn_after_days=90)).set_index("customer_id")
    assert data.loc["G"].tolist() == [59.0 + 90.0, 1]  # last order day 59, churned 90 days later
    assert data.loc["H"].tolist() == [78.0, 0]
    assert "I" not in data.index  # neither signup nor order: not counted


def test_kaplan_meier_hand_computed():
    # At 100 days 4 at risk (D censored at 31) → S = 3/4; at 200 days 3 at risk → S = 3/4 · 2/3 = 1/2.
    r = kaplan_meier(explicit_case(), AS_OF, MetricOptions(churn_mode="explicit"), by="plan")
    curve = dict(zip(r.overall.days, r.overall.survival))
    assert curve[100.0] == pytest.approx(0.75)
    assert curve[200.0] == pytest.approx(0.5)
    assert r.overall.median_days == pytest.approx(200.0)
    assert r.overall.n == 5 and r.overall.events == 2
    assert {c.segment for c in r.segments} == {"Pro", "Basic"}
    pro = next(c for c in r.segments if c.segment == "Pro")
    assert pro.events == 2 and pro.n == 3
    assert r.logrank_p is not None and 0 < r.logrank_p < 1


def test_restricted_mean_lifetime():
    # Area under S: 1·100 + 0.75·100 + 0.5·(365−200) = 257.5 days up to the last observation (365).
    years = restricted_mean_lifetime_years(explicit_case(), AS_OF, MetricOptions(churn_mode="explicit", clv_max_lifetime_years=1.0))
    assert years == pytest.approx((100 + 75 + 0.5 * (365.25 - 200)) / 365.25, rel=1e-6)
