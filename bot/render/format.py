"""Number and text formatting shared by every renderer: one rounding rule for each unit (METRICS.md, "Rounding").

The one rule for units: a value is `number` (percent 1 decimal with %, NPS an integer, money 2 decimals with the
currency, ratios "7.5:1", days and years named); a change is `delta` (rates and NPS in points, "pts"; money with
the currency; days named), signed. Text, Slack blocks, the digest, the add-on cards and every table (through
`cell` and a TableReply's `units`) use these, so no number is shown without its unit.
"""

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
    if unit in ("score", "probability"):
        return f"{value:.2f}"
    if unit in ("days", "years"):
        return f"{value:.1f} {unit}"
    return f"{value:,.2f}"


def magnitude(size: float, unit: str, currency: str = "USD") -> str:
    """The size of a change, unsigned, in its unit: "2.5 pts" (rates), "5 pts" (NPS), "$21,137.80", "1.2 days"."""
    if unit == "percent":
        return f"{size:.1f} pts"
    if unit == "nps":
        return f"{size:.0f} pts"
    if unit == "ratio":
        return f"{size:.1f}"
    return number(size, unit, currency)


def delta(value: float | None, unit: str, currency: str = "USD") -> str:
    """A signed change in its unit — "+2.5 pts", "-5 pts", "+$21,137.80", "+1.2 days" — "n/a" when undefined."""
    if is_missing(value):
        return "n/a"
    amount = magnitude(abs(value), unit, currency)
    if _is_zero(amount):
        return amount
    return ("+" if value > 0 else "-") + amount


def _is_zero(amount: str) -> bool:
    """Whether a formatted amount rounds to zero in its unit ("0.0 pts", "$0.00", "0")."""
    return not any(ch in "123456789" for ch in amount.split(":")[0])


CHANGE = "change:"  # a TableReply unit "change:percent" renders its column as changes (`delta`)


def cell(value, unit: str | None, currency: str = "USD") -> str:
    """One table cell: a number in its column's unit (`number`, or `delta` for "change:<unit>"); "–" when empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit and isinstance(value, (int, float)) and not isinstance(value, bool):
        return (
            delta(value, unit.removeprefix(CHANGE), currency)
            if unit.startswith(CHANGE)
            else number(value, unit, currency)
        )
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


ROW = "row"  # a TableReply unit "row" (or "change:row") takes each row's own unit from `row_units`


def column_unit(units: list[str | None], i: int, row_unit: str | None) -> str | None:
    """The unit of column i in one row: the column's unit, with ROW replaced by the row's own unit."""
    unit = units[i] if i < len(units) else None
    if unit and unit.removeprefix(CHANGE) == ROW:
        return None if row_unit is None else unit.removesuffix(ROW) + row_unit
    return unit


def change(c: Comparison | None, unit: str, currency: str = "USD") -> str:
    """ "▲ 3.2 pts vs 2026-Q2 (significant)" — direction, size in the value's unit, and whether it beats the noise.
    With a previous value but none now, it says the change is undefined rather than "no value" for the past."""
    if c is None:
        return "no comparison"
    if is_missing(c.change):
        if is_missing(c.value):
            return f"no value for {c.period.label}"
        return f"change undefined: no value for this period ({c.period.label}: {number(c.value, unit, currency)})"
    arrow = "▲" if c.change > 0 else "▼"
    amount = magnitude(abs(c.change), unit, currency)
    if _is_zero(amount):  # rounds to zero in its unit
        return f"no change vs {c.period.label}"
    note = ""
    if c.significant is True:
        note = " (significant)"
    elif c.significant is False:
        note = " (within noise)"
    return f"{arrow} {amount} vs {c.period.label}{note}"


def as_of(when: datetime) -> str:
    """ "data as of 2026-11-02 09:30 UTC": when the numbers were read (every renderer says it the same way)."""
    return f"data as of {when:%Y-%m-%d %H:%M} UTC"


def margin(r: MetricResult) -> str:
    """ "± 4.1" for NPS, "95% CI 81.2–86.0%" for rates, empty when there is no interval."""
    if r.interval is None:
        return ""
    if r.unit == "nps" and r.details.get("margin") is not None:
        return f"± {r.details['margin']:.1f}"
    return f"95% CI {number(r.interval.low, r.unit)}–{number(r.interval.high, r.unit)}"


def target(r: MetricResult, currency: str = "USD") -> str:
    """ "target 40 ✓ met (+2 pts)" or "target 5.0% ✗ missed (+1.2 pts)"; money with its currency."""
    t = r.target
    if t is None:
        return ""
    mark = "✓ met" if t.met else "✗ missed"
    return f"target {number(t.target, r.unit, currency)} {mark} ({delta(t.distance, r.unit, currency)})"


# The NPS bands of METRICS.md with the integer range each covers (boundaries belong to the higher band).
NPS_BANDS = {
    "needs immediate improvement": "below 0",
    "average": "0 to +29",
    "excellent": "+30 to +69",
    "world-class": "+70 or more",
}


def quality(r: MetricResult) -> tuple[str, str] | None:
    """What the value means, beyond --json: the NPS band, the CSAT/CSI mean score, the LTV:CAC health flag —
    ("Band", "excellent (+30 to +69)"), ("Mean score", "4.21 on 1–5, 95% CI 4.10–4.32"),
    ("Health", "healthy (3:1 or more)")."""
    d = r.details
    if r.unit == "nps" and d.get("band"):
        return "Band", f"{d['band']} ({NPS_BANDS.get(d['band'], '')})".replace(" ()", "")
    if r.metric in ("csat", "csi") and not is_missing(d.get("mean")):
        scale = d.get("scale") or {}
        on = f" on {scale['min']}–{scale['max']}" if {"min", "max"} <= scale.keys() else ""
        ci = d.get("mean_interval")
        return "Mean score", f"{d['mean']:.2f}{on}" + (f", 95% CI {ci[0]:.2f}–{ci[1]:.2f}" if ci else "")
    if r.metric == "ltv-cac" and d.get("healthy") is not None:
        bar = f"{d.get('healthy_from', 3):g}:1"
        return "Health", f"healthy ({bar} or more)" if d["healthy"] else f"below the healthy {bar}"
    return None


def quality_line(r: MetricResult) -> str:
    """`quality` as one phrase for text: "band: excellent (+30 to +69)"; empty when there is none."""
    q = quality(r)
    return f"{q[0].lower()}: {q[1]}" if q else ""


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
    """ "44.4%–55.6%" (NPS "-73 to +100"): a breakdown row's 95% interval in the value's unit; "" without one."""
    if iv is None or is_missing(iv.low) or is_missing(iv.high):
        return ""
    sep = " to " if unit == "nps" else "–"
    return f"{number(iv.low, unit, currency)}{sep}{number(iv.high, unit, currency)}"


def noise(significant: bool | None) -> str:
    """ "significant" only beyond the noise, "within noise" otherwise, "" where the noise is unknown."""
    return {True: "significant", False: "within noise"}.get(significant, "")


def segment_flags(s) -> str:
    """A breakdown row's verdict on its change and sample: "within noise · small sample"."""
    return " · ".join(
        x
        for x in (noise(s.significant) if not is_missing(s.change) else "", "small sample" if s.small_sample else "")
        if x
    )
