"""A seeded, realistic sample workbook (2,000 customers over two years) with a few deliberately bad rows."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REGIONS = ("North", "South", "East", "West")
PLANS = ("Basic", "Pro", "Enterprise")
CHANNELS = ("Organic", "Paid Search", "Social", "Referral")
SEASON = {1: 0.85, 2: 0.85, 3: 0.95, 4: 0.95, 5: 1.0, 6: 1.0, 7: 0.95, 8: 0.95, 9: 1.0, 10: 1.1, 11: 1.5, 12: 1.7}
ORDERS_PER_MONTH = {"Basic": 0.55, "Pro": 0.9, "Enterprise": 1.3}
ORDER_VALUE = {"Basic": 45.0, "Pro": 120.0, "Enterprise": 480.0}
CONTRACT_PRICE = {"Pro": 1200.0, "Enterprise": 6000.0}
RENEWAL_P = {"Pro": 0.78, "Enterprise": 0.88}
NPS_BASE = {"Basic": 7.7, "Pro": 8.3, "Enterprise": 8.7}
COST_PER_NEW = {"Organic": 0.0, "Paid Search": 900.0, "Social": 600.0, "Referral": 250.0}
DROP_REGION = "South"
COMPLAINT_CATEGORIES = ("物流", "产品质量", "账单", "服务")
SPECIAL_COMMENTS = ("<!channel> love it & <b>more</b>", '=HYPERLINK("http://x")')
GOOD = ("Love the product", "Fast delivery, great support", "Exactly what we needed", "Very reliable", "Great value")
MEH = ("It's fine", "Does the job", "Could be faster", "OK but pricey", "Setup took a while")
BAD = (
    "Delivery was late again",
    "Billing error on my invoice",
    "Support never answered",
    "Product broke",
    "Too expensive",
)

HEADERS = {
    "Customers": ["Customer ID", "Signup Date", "Churned On", "Region", "Plan", "Channel"],
    "Orders": ["Order ID", "Customer ID", "Order Date", "Amount", "Product Line"],
    "Responses": ["Date", "Survey", "Score", "Customer ID", "Comment"],
    "Complaints": ["日期", "客户ID", "订单号", "类别", "状态", "解决日期"],
    "Spend": ["Date", "Channel", "Amount"],
    "Subscriptions": ["Customer ID", "Start Date", "End Date", "Plan", "Amount"],
}


@dataclass
class _Customer:
    cid: str
    signup: date
    region: str
    plan: str
    channel: str
    stop: date | None = None
    churned_on: date | None = None
    mood: float = 0.0
    spend: float = 1.0
    orders: list[tuple[date, float]] = field(default_factory=list)
    complaints: list[date] = field(default_factory=list)


def write_demo_workbook(path: str | Path, today: date, seed: int = 7) -> Path:
    """Write the demo workbook to `path` (atomically) and return the path; same (today, seed) → same content."""
    tabs = build_demo_rows(today, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx.tmp", dir=path.parent)
    os.close(fd)
    try:
        _save(tabs, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def ensure_demo_workbook(path: str | Path, today: date) -> Path:
    """The demo workbook at `path`, created only when it does not exist yet."""
    path = Path(path)
    return path if path.exists() else write_demo_workbook(path, today)


def build_demo_rows(today: date, seed: int = 7) -> dict[str, list[list[Any]]]:
    """Every tab of the demo workbook as rows (header first)."""
    rng = np.random.default_rng(seed)
    customers = _customers(rng, today)
    subscriptions = _contracts(rng, customers, today)
    orders = _orders(rng, customers, today)
    complaints = _complaints(rng, customers, orders, today)
    responses = _responses(rng, customers, today)
    spend = _spend(rng, customers, today)
    tabs = {
        "Customers": [[c.cid, c.signup, c.churned_on, c.region, c.plan, c.channel] for c in customers],
        "Orders": orders,
        "Responses": responses,
        "Complaints": complaints,
        "Spend": spend,
        "Subscriptions": subscriptions,
    }
    _add_bad_rows(tabs)
    return {name: [HEADERS[name], *rows] for name, rows in tabs.items()}


def _customers(rng: np.random.Generator, today: date) -> list[_Customer]:
    n = 2000
    growth = np.where(rng.random(n) < 0.5, rng.random(n), np.sqrt(rng.random(n)))
    offsets = np.sort((growth * 729).astype(int))
    start = today - timedelta(days=730)
    regions = rng.choice(REGIONS, n, p=[0.3, 0.25, 0.25, 0.2])
    plans = rng.choice(PLANS, n, p=[0.6, 0.3, 0.1])
    channels = rng.choice(CHANNELS, n, p=[0.35, 0.3, 0.2, 0.15])
    moods = rng.normal(0, 1.0, n)
    # Each customer's typical basket varies around the plan's (an independent stream, so the other draws stay put).
    spends = np.random.default_rng([_entropy(rng) % 2**32, 7919]).gamma(4.0, 0.25, n)
    return [
        _Customer(
            f"C{i + 1:04d}",
            start + timedelta(days=int(offsets[i])),
            str(regions[i]),
            str(plans[i]),
            str(channels[i]),
            mood=float(moods[i]),
            spend=float(spends[i]),
        )
        for i in range(n)
    ]


def _contracts(rng: np.random.Generator, customers: list[_Customer], today: date) -> list[list[Any]]:
    """Annual contracts for Pro/Enterprise, renewed or cancelled (churned_on = contract end) at each anniversary;
    Basic customers close their account after an exponential lifetime (churned_on = the day they stop ordering)."""
    rows = []
    for c in customers:
        if c.plan == "Basic":
            months = rng.exponential(22.0)
            stop = c.signup + timedelta(days=int(months * 30.4))
            if stop < today:
                c.stop = c.churned_on = stop
            continue
        start = c.signup
        while start <= today:
            end = _add_year(start) - timedelta(days=1)
            price = round(CONTRACT_PRICE[c.plan] * float(rng.choice([1.0, 1.0, 0.9, 1.1])), 2)
            rows.append([c.cid, start, end, c.plan, price])
            if end >= today:
                break
            if rng.random() > RENEWAL_P[c.plan]:
                c.churned_on = end
                c.stop = end
                break
            start = end + timedelta(days=1)
    return rows


def _add_year(d: date) -> date:
    return d.replace(year=d.year + 1) if not (d.month == 2 and d.day == 29) else date(d.year + 1, 3, 1)


def _entropy(rng: np.random.Generator) -> int:
    """The integer seed entropy `rng` was made from (0 when it was not made from one integer)."""
    seq = rng.bit_generator.seed_seq
    entropy = seq.entropy if isinstance(seq, np.random.SeedSequence) else None
    return entropy if isinstance(entropy, int) else 0


def _orders(rng: np.random.Generator, customers: list[_Customer], today: date) -> list[list[Any]]:
    lines = ("Hardware", "Software", "Services", "Accessories")
    peak = max(SEASON.values())
    raw: list[tuple[date, str, float, str]] = []
    for c in customers:
        stop = min(c.stop or today, today)
        span = (stop - c.signup).days
        days = [0]
        if span > 0:
            n = rng.poisson(ORDERS_PER_MONTH[c.plan] * peak * span / 30.4)
            candidates = np.sort(rng.integers(0, span, n))
            keep = (
                rng.random(n) < np.array([SEASON[(c.signup + timedelta(days=int(d))).month] for d in candidates]) / peak
            )
            days += [int(d) for d in candidates[keep]]
        for d in days:
            when = c.signup + timedelta(days=d)
            bump = 1.1 if when.month in (11, 12) else 1.0
            amount = round(float(rng.lognormal(np.log(ORDER_VALUE[c.plan] * c.spend * bump), 0.4)), 2)
            c.orders.append((when, amount))
            raw.append((when, c.cid, amount, lines[int(rng.integers(0, len(lines)))]))
    raw.sort(key=lambda r: (r[0], r[1]))
    rows: list[list[Any]] = []
    refunds: list[list[Any]] = []
    for i, (when, cid, amount, line) in enumerate(raw):
        rows.append([f"O-{100001 + i}", cid, when, amount, line])
        if rng.random() < 0.015:
            back = when + timedelta(days=int(rng.integers(3, 21)))
            if back < today:
                refunds.append([f"O-{100001 + i}-R", cid, back, -amount, line])
    return sorted(rows + refunds, key=lambda r: r[2])


def _complaints(
    rng: np.random.Generator, customers: list[_Customer], orders: list[list[Any]], today: date
) -> list[list[Any]]:
    by_id = {c.cid: c for c in customers}
    rows = []
    for order_id, cid, when, amount, _ in orders:
        if amount < 0 or rng.random() >= 0.03 + 0.02 * (by_id[cid].mood < -1):
            continue
        day = when + timedelta(days=int(rng.integers(1, 10)))
        if day >= today:
            continue
        by_id[cid].complaints.append(day)
        age = (today - day).days
        status = str(rng.choice(["已解决", "已关闭", "处理中"], p=[0.85, 0.1, 0.05] if age > 30 else [0.4, 0.1, 0.5]))
        resolved = day + timedelta(days=int(rng.integers(1, 21))) if status != "处理中" else None
        if resolved is not None and resolved > today:
            resolved = today
        category = str(rng.choice(COMPLAINT_CATEGORIES, p=[0.4, 0.25, 0.2, 0.15]))
        rows.append([f"{day.year}年{day.month}月{day.day}日", cid, order_id, category, status, resolved])
    rows.sort(key=lambda r: _cjk_date(r[0]))
    return rows


def _cjk_date(text: str) -> date:
    y, rest = text.split("年")
    m, rest = rest.split("月")
    return date(int(y), int(m), int(rest.rstrip("日")))


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _responses(rng: np.random.Generator, customers: list[_Customer], today: date) -> list[list[Any]]:
    """NPS every ~3 months, CSAT after some orders, CSI yearly; complaints pull scores down, South drops lately."""
    drop_from = _quarter_start(_quarter_start(today) - timedelta(days=1))
    rows = []
    for c in customers:
        stop = min(c.stop or today, today)
        span = (stop - c.signup).days
        for k in range(span // 90 + 1):
            if rng.random() < 0.65:
                day = c.signup + timedelta(days=min(span, k * 90 + int(rng.integers(10, 90))))
                if day < today:
                    rows.append(_answer(rng, c, day, "NPS", drop_from))
        for when, amount in c.orders:
            if amount > 0 and rng.random() < 0.12:
                day = when + timedelta(days=int(rng.integers(1, 4)))
                if day < today:
                    rows.append(_answer(rng, c, day, "CSAT", drop_from))
        for k in range(span // 365 + 1):
            if rng.random() < 0.35:
                day = c.signup + timedelta(days=min(span, k * 365 + int(rng.integers(30, 365))))
                if day < today:
                    rows.append(_answer(rng, c, day, "CSI", drop_from))
    rows.sort(key=lambda r: (r[0], r[3] or ""))
    return rows


def _answer(rng: np.random.Generator, c: _Customer, day: date, survey: str, drop_from: date) -> list[Any]:
    recent = sum(1 for d in c.complaints if 0 <= (day - d).days <= 90)
    ever = any(d <= day for d in c.complaints)
    feel = NPS_BASE[c.plan] + 0.9 * c.mood - 2.2 * min(recent, 2) - 0.8 * ever
    if c.region == DROP_REGION and day >= drop_from:
        feel -= 1.0
    noise = float(rng.normal(0, 1.1))
    if survey == "NPS":
        score = _clip(round(feel + noise), 0, 10)
        tone = 2 if score >= 9 else 1 if score >= 7 else 0
    elif survey == "CSAT":
        score = _clip(round(1 + (feel + noise) * 0.45), 1, 5)
        tone = 2 if score >= 4 else 1 if score == 3 else 0
    else:
        score = _clip(round(feel + noise - 0.3), 1, 10)
        tone = 2 if score >= 8 else 1 if score >= 6 else 0
    pool = (BAD, MEH, GOOD)[tone]
    comment = pool[int(rng.integers(0, len(pool)))] if rng.random() < 0.35 else None
    cid = c.cid if rng.random() > 0.03 else None
    name = survey.lower() if rng.random() < 0.02 else survey
    return [day, name, score, cid, comment]


def _clip(value: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, value)))


def _spend(rng: np.random.Generator, customers: list[_Customer], today: date) -> list[list[Any]]:
    new: dict[tuple[int, int, str], int] = {}
    for c in customers:
        key = (c.signup.year, c.signup.month, c.channel)
        new[key] = new.get(key, 0) + 1
    first = customers[0].signup
    rows = []
    y, m = first.year, first.month
    while (y, m) <= (today.year, today.month):
        for ch in CHANNELS:
            base = 6000.0 if ch == "Organic" else 300.0
            amount = base + new.get((y, m, ch), 0) * COST_PER_NEW[ch] * float(rng.uniform(0.85, 1.15))
            rows.append([date(y, m, 1), ch, round(amount, 2)])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return rows


def _add_bad_rows(tabs: dict[str, list[list[Any]]]) -> None:
    """Eight deliberately bad rows (what `pulse check` reports) and the two comments that test escaping."""
    responses, orders, customers = tabs["Responses"], tabs["Orders"], tabs["Customers"]
    responses[3][4] = SPECIAL_COMMENTS[0]
    responses[7][4] = SPECIAL_COMMENTS[1]
    responses.insert(5, [responses[5][0], "NPS", 11, responses[5][3], "Best ever!!"])
    responses.insert(12, [responses[12][0], "CSAT", 3.5, responses[12][3], None])
    responses.insert(20, [responses[20][0], "NSP", 9, responses[20][3], None])
    orders.insert(8, ["O-900001", orders[8][1], orders[8][2], "abc", "Hardware"])
    orders.insert(15, ["O-900002", orders[15][1], "2026-13-45", 99.0, "Software"])
    orders.insert(22, ["O-900003", None, orders[22][2], 42.0, "Services"])
    orders.insert(30, ["O-100001", orders[30][1], orders[30][2], 10.0, "Accessories"])
    customers.insert(60, ["C0042", customers[60][1], None, "West", "Basic", "Social"])


def _save(tabs: dict[str, list[list[Any]]], path: str) -> None:
    from sheets.xlsx import write_xlsx

    write_xlsx(path, tabs)
