"""Number and text formatting shared by every renderer: one rounding rule for each unit (METRICS.md, "Rounding")."""

from __future__ import annotations

import math
from datetime import datetime

from bot.render import safe
from metrics.result import Comparison, MetricResult

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}


def escape(text: object) -> str:
    """Escape a value for Slack mrkdwn so `<!channel>`, `<http://x|y>` or `*bold*` in a cell stays inert text."""
    return safe.mrkdwn(text)


def is_missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def left_out(count: int, scope: str) -> str:
    """The one count of invalid rows an answer states, and what it is the count of (METRICS.md, "Missing data"):
    "4 invalid rows in this metric's tabs were left out — see /pulse issues"."""
    rows = "row was" if count == 1 else "rows were"
    return f"{count:,} invalid {rows} left out of {scope} — see /pulse issues"


METRIC_TABS = "this metric's tabs"
WORKBOOK = "the whole workbook"


def number(value: float | None, unit: str, currency: str = "USD") -> str:
    """A value in its unit: percent 1 decimal, NPS integer, money 2 decimals with currency, ratio 1 decimal."""
    if is_missing(value):
        return "n/a"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "nps":
        return f"{value:+.0f}" if round(value) != 0 else "0"
    if unit == "money":
        symbol = CURRENCY_SYMBOLS.get(currency.upper())
        return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "ratio":
        return f"{value:.1f}:1"
    if unit == "score":
        return f"{value:.2f}"
    if unit in ("days", "years"):
        return f"{value:.1f} {unit}"
    return f"{value:,.2f}"


def change(c: Comparison | None, unit: str, currency: str = "USD") -> str:
    """"▲ 3.2 pts vs 2026-Q2 (significant)" — direction, size in the value's unit, and whether it beats the noise."""
    if c is None or is_missing(c.change):
        return "no comparison" if c is None else f"no value for {c.period.label}"
    arrow = "▲" if c.change > 0 else "▼"
    size = abs(c.change)
    if unit == "percent":
        amount = f"{size:.1f} pts"
    elif unit == "nps":
        amount = f"{size:.0f} pts"
    else:
        amount = number(size, unit, currency)
    if not any(ch in "123456789" for ch in amount.split(":")[0]):  # rounds to zero in its unit
        return f"no change vs {c.period.label}"
    note = ""
    if c.significant is True:
        note = " (significant)"
    elif c.significant is False:
        note = " (within noise)"
    return f"{arrow} {amount} vs {c.period.label}{note}"


def as_of(when: datetime) -> str:
    """"data as of 2026-11-02 09:30 UTC": when the numbers were read (every renderer says it the same way)."""
    return f"data as of {when:%Y-%m-%d %H:%M} UTC"


def margin(r: MetricResult) -> str:
    """"± 4.1" for NPS, "95% CI 81.2–86.0%" for rates, empty when there is no interval."""
    if r.interval is None:
        return ""
    if r.unit == "nps" and r.details.get("margin") is not None:
        return f"± {r.details['margin']:.1f}"
    return f"95% CI {number(r.interval.low, r.unit)}–{number(r.interval.high, r.unit)}"


def target(r: MetricResult, currency: str = "USD") -> str:
    """"target 40 ✓ met (+2)" or "target 5.0% ✗ missed (+1.2 pts)"."""
    t = r.target
    if t is None:
        return ""
    mark = "✓ met" if t.met else "✗ missed"
    return f"target {number(t.target, r.unit, currency)} {mark} ({t.distance:+.1f})"


def progress_bar(value: float | None, goal: float, width: int = 10) -> str:
    """A text progress bar toward a target, e.g. `▰▰▰▰▰▰▱▱▱▱ 60%` (copyable, no image)."""
    if is_missing(value) or goal == 0:
        return ""
    share = max(0.0, min(1.0, value / goal))
    filled = round(share * width)
    return "▰" * filled + "▱" * (width - filled) + f" {share * 100:.0f}%"


# What the k and n of a rate count, per metric: "{k} of {n} customers churned".
COUNT_WORDS = {
    "churn": "customers churned",
    "retention": "customers retained",
    "lapsed": "buyers lapsed",
    "csat": "responses satisfied",
    "csi": "responses satisfied",
    "repeat": "purchasers ordered again",
    "returning": "purchasers were returning customers",
    "refunds": "orders refunded",
    "resolution": "complaints resolved",
}


def counts(r: MetricResult) -> str:
    """The counts behind a rate as a sentence — "48 of 1,391 customers churned" — or empty when there are none."""
    if r.unit != "percent" or r.numerator is None or r.denominator is None:
        return ""
    words = COUNT_WORDS.get(r.metric, "")
    return f"{r.numerator:,.0f} of {r.denominator:,.0f} {words}".rstrip()


def interval(iv, unit: str, currency: str = "USD") -> str:
    """"44.4%–55.6%" (NPS "-73 to +100"): a breakdown row's 95% interval in the value's unit; "" without one."""
    if iv is None or is_missing(iv.low) or is_missing(iv.high):
        return ""
    sep = " to " if unit == "nps" else "–"
    return f"{number(iv.low, unit, currency)}{sep}{number(iv.high, unit, currency)}"


def noise(significant: bool | None) -> str:
    """"significant" only beyond the noise, "within noise" otherwise, "" where the noise is unknown."""
    return {True: "significant", False: "within noise"}.get(significant, "")


def segment_flags(s) -> str:
    """A breakdown row's verdict on its change and sample: "within noise · small sample"."""
    return " · ".join(x for x in (noise(s.significant) if not is_missing(s.change) else "", "small sample" if s.small_sample else "") if x)
