"""A Sheets-scale synthetic dataset built straight into normalized frames (no workbook), for benchmarks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from metrics.tables import Tables


def sheets_scale(
    today: date,
    customers: int = 200_000,
    orders: int = 1_000_000,
    answers: int = 300_000,
    complaints: int = 50_000,
    seed: int = 1,
) -> Tables:
    """Two years of data ending at `today` with regions, plans and channels, refunds and churn."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(today)
    start = end - pd.Timedelta(days=730)
    ids = pd.array([f"C{i:06d}" for i in range(customers)], dtype="string")
    signup = start + pd.to_timedelta(rng.integers(0, 700, customers), unit="D")
    churned = signup + pd.to_timedelta(rng.exponential(500, customers).astype(int), unit="D")
    churned = pd.Series(churned).where(churned < end)
    cust = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": signup,
            "churned_on": churned.values,
            "region": pd.array(rng.choice(["North", "South", "East", "West"], customers), dtype="string"),
            "plan": pd.array(rng.choice(["Basic", "Pro", "Enterprise"], customers, p=[0.6, 0.3, 0.1]), dtype="string"),
            "channel": pd.array(rng.choice(["Organic", "Paid Search", "Social", "Referral"], customers), dtype="string"),
        }
    )
    who = rng.integers(0, customers, orders)
    life = (cust["churned_on"].fillna(end) - cust["signup_date"]).dt.days.to_numpy().clip(1)
    offset = (rng.random(orders) * life[who]).astype(int)
    order_date = cust["signup_date"].to_numpy()[who] + offset.astype("timedelta64[D]")
    amount = rng.gamma(2.0, 40.0, orders).round(2)
    refund = rng.random(orders) < 0.02
    amount[refund] *= -1
    ords = pd.DataFrame(
        {
            "order_id": pd.array([f"O{i:07d}" for i in range(orders)], dtype="string"),
            "customer_id": ids[who],
            "order_date": pd.to_datetime(order_date).normalize(),
            "amount": amount,
            "gross_margin": np.nan,
        }
    )
    rwho = rng.integers(0, customers, answers)
    survey = rng.choice(["NPS", "CSAT", "CSI"], answers, p=[0.5, 0.35, 0.15])
    score = np.where(survey == "NPS", rng.integers(0, 11, answers), np.where(survey == "CSAT", rng.integers(1, 6, answers), rng.integers(1, 11, answers)))
    resp = pd.DataFrame(
        {
            "date": start + pd.to_timedelta(rng.integers(0, 730, answers), unit="D"),
            "survey": pd.array(survey, dtype="string"),
            "score": score.astype("int64"),
            "customer_id": ids[rwho],
            "comment": pd.array([None] * answers, dtype="string"),
        }
    )
    cwho = rng.integers(0, customers, complaints)
    cdate = start + pd.to_timedelta(rng.integers(0, 730, complaints), unit="D")
    comp = pd.DataFrame(
        {
            "date": cdate,
            "customer_id": ids[cwho],
            "order_id": pd.array([None] * complaints, dtype="string"),
            "category": pd.array(rng.choice(["Delivery", "Billing", "Quality"], complaints), dtype="string"),
            "status": pd.array(rng.choice(["resolved", "open"], complaints, p=[0.8, 0.2]), dtype="string"),
            "resolved_on": cdate + pd.to_timedelta(rng.integers(0, 20, complaints), unit="D"),
        }
    )
    months = pd.date_range(start, end, freq="MS")
    spend = pd.DataFrame(
        {
            "date": np.repeat(months, 4),
            "amount": rng.uniform(5_000, 50_000, len(months) * 4).round(2),
            "channel": pd.array(np.tile(["Organic", "Paid Search", "Social", "Referral"], len(months)), dtype="string"),
        }
    )
    return Tables.from_frames(
        {"customers": cust, "orders": ords, "responses": resp, "complaints": comp, "spend": spend},
        dimensions=("region", "plan", "channel"),
        missing=("subscriptions",),
    )


TAB_NAMES = {"customers": "Customers", "orders": "Orders", "responses": "Responses", "complaints": "Complaints",
             "spend": "Spend"}


def source_frames(today: date, orders: int) -> dict[str, pd.DataFrame]:
    """`sheets_scale` at `orders` orders (customers orders/5, answers 0.3×, complaints 0.05×) as the source tabs'
    frames by tab name, without the `row` column and without columns that are empty throughout."""
    tables = sheets_scale(today, customers=orders // 5, orders=orders, answers=int(orders * 0.3),
                          complaints=orders // 20)
    out = {}
    for key, name in TAB_NAMES.items():
        frame = getattr(tables, key)
        out[name] = frame[[c for c in frame.columns if c != "row" and not frame[c].isna().all()]]
    return out
