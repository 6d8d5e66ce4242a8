"""Monthly signup cohorts: the share of each cohort with an order k months after its signup month.

A customer belongs to the cohort of its signup month (metrics.customers: signup_date, else first
order). Cell (cohort, k) counts cohort members with at least one non-refund order in calendar month
signup month + k; orders before the signup month are ignored. Cells after the month of `as_of`
(default: `last_month`) cannot be observed yet and are NaN, as is every cell of an empty cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from metrics.customers import customer_state, distinct
from metrics.options import MetricOptions
from metrics.tables import Tables


@dataclass(frozen=True)
class CohortTable:
    """Cohort labels (YYYY-MM), sizes, buyer counts and shares (0–100, NaN = not observable) by month k."""

    cohorts: list[str]
    sizes: np.ndarray
    buyers: np.ndarray
    shares: np.ndarray
    max_k: int


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _months_of_days(days: np.ndarray) -> np.ndarray:
    """int day numbers (valid dates only) → months since 1970-01."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


def cohort_table(
    t: Tables, first_month: date, last_month: date, o: MetricOptions, as_of: date | None = None
) -> CohortTable:
    """Signup cohorts from the month of `first_month` through the month of `last_month`, observed to `as_of`."""
    m0, n_cohorts, width, observed = cohort_shape(first_month, last_month, as_of)
    m1, max_k = m0 + n_cohorts - 1, width - 1

    state = customer_state(t)
    signup_month = np.full(len(state.ids), -1, dtype=np.int64)
    dated = state.dated
    signup_month[dated] = _months_of_days(state.signup[dated])
    cohort = np.where(dated & (signup_month >= m0) & (signup_month <= m1), signup_month - m0, -1)
    sizes = np.bincount(cohort[cohort >= 0], minlength=n_cohorts)[:n_cohorts]

    code = state.order_code
    k = _months_of_days(state.order_day) - signup_month[code]
    keep = (cohort[code] >= 0) & (k >= 0) & (k <= max_k)
    pairs = distinct(code[keep] * width + k[keep], len(state.ids) * width)
    cells = cohort[pairs // width] * width + pairs % width
    buyers = np.bincount(cells, minlength=n_cohorts * width)[: n_cohorts * width].reshape(n_cohorts, width)

    return cohort_finish(m0, sizes, buyers, observed)


def cohort_finish(m0: int, sizes: np.ndarray, buyers: np.ndarray, observed: int) -> CohortTable:
    """The cohort table from its counts — cohort sizes from month index `m0` on and buyers per (cohort, k) — with
    the cells after month `observed` and the empty cohorts NaN: the finishing part shared with the warehouse."""
    n_cohorts, width = buyers.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = 100.0 * buyers / sizes[:, None]
    future = (m0 + np.arange(n_cohorts)[:, None] + np.arange(width)[None, :]) > observed
    shares[future | (sizes[:, None] == 0)] = np.nan
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(m0, m0 + n_cohorts)]
    return CohortTable(cohorts=labels, sizes=sizes, buyers=buyers, shares=shares, max_k=width - 1)


def cohort_shape(first_month: date, last_month: date, as_of: date | None = None) -> tuple[int, int, int, int]:
    """(first cohort's month index, number of cohorts, columns k = 0…, month observed to) of a cohort table."""
    m0, m1 = month_index(first_month), month_index(last_month)
    observed = month_index(as_of or last_month)
    return m0, max(m1 - m0 + 1, 0), max(observed - m0, 0) + 1, observed
