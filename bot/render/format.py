"""Number and text formatting shared by every renderer: one rounding rule for each unit (METRICS.md, "Rounding").

The one rule for units: a value is `number` (percent 1 decimal with %, NPS an integer, money 2 decimals with the
currency, ratios "7.5:1", days and years named); a change is `delta` (rates and NPS in points, "pts"; money with
the currency; days named), signed. Text, Slack blocks, the digest, the add-on cards and every table (through
`cell` and a TableReply's `units`) use these, so no number is shown without its unit.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal

from bot.i18n import N_, _, babel_locale, current, is_english, ngettext, pgettext
from bot.render import safe
from metrics.periods import Period
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
    if scope == METRIC_TABS:
        return ngettext(
            "{n:,} invalid row was left out of this metric's tabs — see /pulse issues",
            "{n:,} invalid rows were left out of this metric's tabs — see /pulse issues",
            count,
        )
    return ngettext(
        "{n:,} invalid row was left out of the whole workbook — see /pulse issues",
        "{n:,} invalid rows were left out of the whole workbook — see /pulse issues",
        count,
    )


METRIC_TABS = "this metric's tabs"
WORKBOOK = "the whole workbook"


def number(value: float | None, unit: str, currency: str = "USD") -> str:
    """A value in its unit: percent 1 decimal, NPS integer, money 2 decimals with currency, ratio 1 decimal."""
    if is_missing(value):
        return _("n/a")
    if not is_english():
        return _localised(value, unit, currency)
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


def _decimal(value: float, pattern: str) -> str:
    """`value` in the current locale's digits and grouping with `pattern`'s decimals, rounded as Python rounds
    (the float is rounded first, so no locale changes a rounding: METRICS.md "Rounding")."""
    from babel.numbers import format_decimal

    places = len(pattern.partition(".")[2])
    return format_decimal(Decimal(f"{value:.{places}f}"), pattern, locale=babel_locale(current()))


def _localised(value: float, unit: str, currency: str) -> str:
    """`number` for a language other than English: Babel's digits, currency sign and unit words."""
    if unit == "percent":
        return _decimal(value, "0.0") + "%"
    if unit == "nps":
        return f"{value:+.0f}" if round(value) != 0 else "0"
    if unit == "money":
        from babel.numbers import format_currency

        return format_currency(Decimal(f"{value:.2f}"), currency.upper(), locale=babel_locale(current()))
    if unit == "count":
        return _decimal(value, "#,##0")
    if unit == "ratio":
        return f"{value:.1f}:1"
    if unit in ("score", "probability"):
        return _decimal(value, "0.00")
    if unit == "days":
        return _("{value} days", value=_decimal(value, "0.0"))
    if unit == "years":
        return _("{value} years", value=_decimal(value, "0.0"))
    return _decimal(value, "#,##0.00")


def count(n: int | float) -> str:
    """A whole count with thousands grouping in the current locale ("1,391")."""
    return f"{n:,.0f}" if is_english() else _decimal(n, "#,##0")


def magnitude(size: float, unit: str, currency: str = "USD") -> str:
    """The size of a change, unsigned, in its unit: "2.5 pts" (rates), "5 pts" (NPS), "$21,137.80", "1.2 days"."""
    if unit == "percent":
        return pgettext("percentage points", "{size} pts", size=f"{size:.1f}")
    if unit == "nps":
        return pgettext("NPS points", "{size} pts", size=f"{size:.0f}")
    if unit == "ratio":
        return f"{size:.1f}"
    return number(size, unit, currency)


def delta(value: float | None, unit: str, currency: str = "USD") -> str:
    """A signed change in its unit — "+2.5 pts", "-5 pts", "+$21,137.80", "+1.2 days" — "n/a" when undefined."""
    if is_missing(value):
        return _("n/a")
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
        return _("no comparison")
    label = period(c.period)
    if is_missing(c.change):
        if is_missing(c.value):
            return _("no value for {period}", period=label)
        return _(
            "change undefined: no value for this period ({period}: {value})",
            period=label,
            value=number(c.value, unit, currency),
        )
    arrow = "▲" if c.change > 0 else "▼"
    amount = magnitude(abs(c.change), unit, currency)
    if _is_zero(amount):  # rounds to zero in its unit
        return _("no change vs {period}", period=label)
    if c.significant is True:
        return _("{arrow} {amount} vs {period} (significant)", arrow=arrow, amount=amount, period=label)
    if c.significant is False:
        return _("{arrow} {amount} vs {period} (within noise)", arrow=arrow, amount=amount, period=label)
    return _("{arrow} {amount} vs {period}", arrow=arrow, amount=amount, period=label)


def as_of(when: datetime) -> str:
    """ "data as of 2026-11-02 09:30 UTC": when the numbers were read (every renderer says it the same way)."""
    return _("data as of {when} UTC", when=f"{when:%Y-%m-%d %H:%M}")


def day(d: date) -> str:
    """One date: ISO in English ("2026-10-05"), Babel's medium date elsewhere ("2026年10月5日")."""
    if is_english():
        return d.isoformat()
    from babel.dates import format_skeleton

    return format_skeleton("yMMMd", d, locale=babel_locale(current()))


def period(p: Period) -> str:
    """A period's name: its label in English ("2026-Q3", "last 30 days (…)"); in another language the same label
    with every date, month, quarter and week written the locale's way ("2026年第3季度", "2026年第41周")."""
    return period_name(p.label)


def period_name(label: str) -> str:
    """A period label as metrics writes it ("2026-10", "2026-W41") in the current language; as is in English."""
    return label if is_english() else period_label(label)


_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_QUARTER = re.compile(r"\b(FY)?(\d{4})-Q([1-4])\b")
_WEEK = re.compile(r"\b(\d{4})-W(\d{2})\b")
_MONTH = re.compile(r"\b(\d{4})-(\d{2})\b")
_FISCAL_YEAR = re.compile(r"\bFY(\d{4})\b")
_YEAR = re.compile(r"^(\d{4})$")
_COUNTED = re.compile(r"^(\d+) (day|days|week|weeks|month|months) \((.*)\)$")


def _quarter(m: re.Match[str]) -> str:
    """ "2026-Q3" → "2026年第3季度", "FY2026-Q1" → "2026财年第1季度"."""
    if m.group(1):
        return _("FY{year} Q{quarter}", year=m.group(2), quarter=m.group(3))
    return _("{year} Q{quarter}", year=m.group(2), quarter=m.group(3))


def period_label(label: str) -> str:
    """An English period label (metrics.periods) in the current language, part by part."""
    from babel.dates import format_skeleton

    loc = babel_locale(current())
    if label.endswith(" to date"):
        return _("{period} to date", period=period_label(label.removesuffix(" to date")))
    if label.endswith(" (today)"):
        return _("{period} (today)", period=period_label(label.removesuffix(" (today)")))
    if label.startswith("last "):
        return _("last {period}", period=period_label(label.removeprefix("last ")))
    if label.startswith("previous "):
        return _("previous {period}", period=period_label(label.removeprefix("previous ")))
    if label.startswith("since "):
        return _("since {period}", period=period_label(label.removeprefix("since ")))
    if m := _COUNTED.match(label):
        n, unit, inner = int(m.group(1)), m.group(2).rstrip("s"), period_label(m.group(3))
        if unit == "day":
            return ngettext("{n} day ({range})", "{n} days ({range})", n, range=inner)
        if unit == "week":
            return ngettext("{n} week ({range})", "{n} weeks ({range})", n, range=inner)
        return ngettext("{n} month ({range})", "{n} months ({range})", n, range=inner)
    label = _ISO_DAY.sub(lambda m: format_skeleton("yMMMd", date(*map(int, m.groups())), locale=loc), label)
    label = _QUARTER.sub(_quarter, label)
    label = _WEEK.sub(lambda m: _("{year} week {week}", year=m.group(1), week=int(m.group(2))), label)
    label = _MONTH.sub(lambda m: format_skeleton("yMMM", date(int(m.group(1)), int(m.group(2)), 1), locale=loc), label)
    label = _FISCAL_YEAR.sub(lambda m: _("FY{year}", year=m.group(1)), label)
    return _YEAR.sub(lambda m: _("{year} (year)", year=m.group(1)), label)


def margin(r: MetricResult) -> str:
    """ "± 4.1" for NPS, "95% CI 81.2–86.0%" for rates, empty when there is no interval."""
    if r.interval is None:
        return ""
    if r.unit == "nps" and r.details.get("margin") is not None:
        return f"± {r.details['margin']:.1f}"
    return _("95% CI {low}–{high}", low=number(r.interval.low, r.unit), high=number(r.interval.high, r.unit))


def target(r: MetricResult, currency: str = "USD") -> str:
    """ "target 40 ✓ met (+2 pts)" or "target 5.0% ✗ missed (+1.2 pts)"; money with its currency."""
    t = r.target
    if t is None:
        return ""
    return _("target {status}", status=target_status(r, currency))


def target_status(r: MetricResult, currency: str = "USD") -> str:
    """ "40 ✓ met (+2 pts)": the target, whether it is met and by how much; empty without a target."""
    t = r.target
    if t is None:
        return ""
    goal, distance = number(t.target, r.unit, currency), delta(t.distance, r.unit, currency)
    if t.met:
        return _("{goal} ✓ met ({distance})", goal=goal, distance=distance)
    return _("{goal} ✗ missed ({distance})", goal=goal, distance=distance)


def label(r: MetricResult) -> str:
    """A result's metric label in the current language ("Customer churn", "客户流失率"): the catalogue's labels
    (metrics/registry.py) are extracted into the message catalogues by `bot.i18n.extract_catalogue`."""
    return r.label if is_english() else _(r.label)


def scope(where: dict[str, str]) -> str:
    """A filter as typed after the label: " where region=North" (" 其中 region=North" in Chinese)."""
    word = _(" where ")
    return "".join(f"{word}{k}={v}" for k, v in where.items())


# The NPS bands of METRICS.md with the integer range each covers (boundaries belong to the higher band).
NPS_BANDS = {
    "needs immediate improvement": N_("below 0"),
    "average": N_("0 to +29"),
    "excellent": N_("+30 to +69"),
    "world-class": N_("+70 or more"),
}
# The band names (metrics.surveys writes them in English), for extraction.
BAND_NAMES = (N_("needs immediate improvement"), N_("average"), N_("excellent"), N_("world-class"))


def quality(r: MetricResult) -> tuple[str, str] | None:
    """What the value means, beyond --json: the NPS band, the CSAT/CSI mean score, the LTV:CAC health flag —
    ("Band", "excellent (+30 to +69)"), ("Mean score", "4.21 on 1–5, 95% CI 4.10–4.32"),
    ("Health", "healthy (3:1 or more)")."""
    d = r.details
    if r.unit == "nps" and d.get("band"):
        band, bounds = d["band"], NPS_BANDS.get(d["band"])
        text = _("{band} ({bounds})", band=_(band), bounds=_(bounds)) if bounds else _(band)
        return _("Band"), text
    if r.metric in ("csat", "csi") and not is_missing(d.get("mean")):
        scale = d.get("scale") or {}
        mean = f"{d['mean']:.2f}"
        if {"min", "max"} <= scale.keys():
            mean = _("{mean} on {low}–{high}", mean=mean, low=scale["min"], high=scale["max"])
        ci = d.get("mean_interval")
        if ci:
            mean = _("{mean}, 95% CI {low}–{high}", mean=mean, low=f"{ci[0]:.2f}", high=f"{ci[1]:.2f}")
        return _("Mean score"), mean
    if r.metric == "ltv-cac" and d.get("healthy") is not None:
        bar = f"{d.get('healthy_from', 3):g}:1"
        health = _("healthy ({bar} or more)", bar=bar) if d["healthy"] else _("below the healthy {bar}", bar=bar)
        return _("Health"), health
    return None


def quality_line(r: MetricResult) -> str:
    """`quality` as one phrase for text: "band: excellent (+30 to +69)"; empty when there is none."""
    q = quality(r)
    return _("{name}: {value}", name=q[0].lower(), value=q[1]) if q else ""


def progress_bar(value: float | None, goal: float, width: int = 10) -> str:
    """A text progress bar toward a target, e.g. `▰▰▰▰▰▰▱▱▱▱ 60%` (copyable, no image)."""
    if is_missing(value) or goal == 0:
        return ""
    share = max(0.0, min(1.0, value / goal))
    filled = round(share * width)
    return "▰" * filled + "▱" * (width - filled) + f" {share * 100:.0f}%"


# What the k and n of a rate count, per metric: "{k} of {n} customers churned".
COUNT_WORDS = {
    "churn": N_("{k} of {n} customers churned"),
    "retention": N_("{k} of {n} customers retained"),
    "lapsed": N_("{k} of {n} buyers lapsed"),
    "csat": N_("{k} of {n} responses satisfied"),
    "csi": N_("{k} of {n} responses satisfied"),
    "repeat": N_("{k} of {n} purchasers ordered again"),
    "returning": N_("{k} of {n} purchasers were returning customers"),
    "refunds": N_("{k} of {n} orders refunded"),
    "resolution": N_("{k} of {n} complaints resolved"),
}


def counts(r: MetricResult) -> str:
    """The counts behind a rate as a sentence — "48 of 1,391 customers churned" — or empty when there are none."""
    if r.unit != "percent" or r.numerator is None or r.denominator is None:
        return ""
    words = COUNT_WORDS.get(r.metric, N_("{k} of {n}"))
    return _(words, k=count(r.numerator), n=count(r.denominator))


def interval(iv, unit: str, currency: str = "USD") -> str:
    """ "44.4%–55.6%" (NPS "-73 to +100"): a breakdown row's 95% interval in the value's unit; "" without one."""
    if iv is None or is_missing(iv.low) or is_missing(iv.high):
        return ""
    low, high = number(iv.low, unit, currency), number(iv.high, unit, currency)
    return _("{low} to {high}", low=low, high=high) if unit == "nps" else f"{low}–{high}"


def noise(significant: bool | None) -> str:
    """ "significant" only beyond the noise, "within noise" otherwise, "" where the noise is unknown."""
    if significant is None:
        return ""
    return _("significant") if significant else _("within noise")


def segment_flags(s) -> str:
    """A breakdown row's verdict on its change and sample: "within noise · small sample"."""
    return " · ".join(
        x
        for x in (noise(s.significant) if not is_missing(s.change) else "", _("small sample") if s.small_sample else "")
        if x
    )


def notes(r: MetricResult, currency: str = "USD") -> list[str]:
    """A result's notes as shown, with its predicted CLV (`details["predicted"]`) worded in the answer's currency."""
    predicted = r.details.get("predicted")
    return [*r.notes, predicted_clv(predicted, currency, r.by)] if predicted else list(r.notes)


def predicted_clv(p: dict, currency: str = "USD", by: str | None = None) -> str:
    """ "predicted next 12 months: $1,234.00 across 1,900 customers (80% interval …), $0.65 each on average; top: …"."""
    band = ""
    if p.get("interval"):
        low, high = (number(v, "money", currency) for v in p["interval"])
        band = _(" ({level} interval {low}–{high})", level=f"{p['interval_level']:.0%}", low=low, high=high)
    tops = ", ".join(f"{c['customer_id']} {number(c['predicted_clv'], 'money', currency)}" for c in p["top"])
    text = _(
        "predicted next {months} months: {total} across {customers} customers{band}, {each} each on average; "
        "top: {tops}",
        months=p["horizon_months"],
        total=number(p["total"], "money", currency),
        customers=count(p["customers"]),
        band=band,
        each=number(p["per_customer"], "money", currency),
        tops=tops,
    )
    if by:
        text += _(" — the prediction is for all these customers together, not split by {by}", by=by)
    return text


def at_risk(n: int, threshold: float, stake: float, currency: str = "USD") -> str:
    """The churn-risk headline note: how many still-active customers are below the P(alive) threshold and the
    value at stake, in `currency`."""
    return _(
        "{n} still-active customers have P(alive) below {threshold} — {stake} at stake",
        n=count(n),
        threshold=f"{threshold:g}",
        stake=number(stake, "money", currency),
    )


def segment_at_risk(segment: str, n: int, stake: float, churned: int, currency: str = "USD") -> str:
    """One segment's churn-risk note: "North: 3 at risk, $1,200.00 at stake, 1 already churned"."""
    gone = _(", {n} already churned", n=count(churned)) if churned else ""
    return _(
        "{segment}: {n} at risk, {stake} at stake{gone}",
        segment=segment,
        n=count(n),
        stake=number(stake, "money", currency),
        gone=gone,
    )


def note(text: str) -> str:
    """A note or error in the current language: our own are built translated; the English ones metrics/ writes (it
    imports nothing of ours) are translated whole or, when they carry values, by one of `NOTE_PATTERNS`."""
    if is_english() or (translated := _(text)) != text:
        return text if is_english() else translated
    for pattern, message in NOTE_PATTERNS:
        if m := pattern.fullmatch(text):
            return _(message, **{k: _NOTE_VALUES.get(k, str)(v) for k, v in m.groupdict().items()})
    return text


def _reason(text: str) -> str:
    """A reason nested in a note ("…did not converge (reason)"): translated whole, or each "; "-part on its own."""
    whole = note(text)
    if whole != text or "; " not in text:
        return whole
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and text.startswith("; ", i):
            parts.append(text[start:i])
            start = i + 2
    parts.append(text[start:])
    out = note(parts[0])
    for part in parts[1:]:
        out = _("{first}; {rest}", first=out, rest=note(part))
    return out


# Named parts of a note that are themselves written the locale's way: a period label, a date, a metric's label, a
# list of columns, a nested reason (a fix joined to another by "; " or " or " is two notes).
_NOTE_VALUES = {
    "period": period_label,
    "day": lambda v: day(date.fromisoformat(v)),
    "label": lambda v: _(v),
    "columns": lambda v: pgettext("list separator", ", ").join(v.split(", ")),
    "reason": _reason,
    "first": note,
    "rest": note,
}

# Notes and errors metrics/ writes with values in them: the English pattern and the message it is translated as.
NOTE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), message)
    for p, message in (
        (r"small sample: n = (?P<n>\d+) < (?P<min>\d+)", N_("small sample: n = {n} < {min}")),
        (
            r"unknown period '(?P<text>.*)' — did you mean (?P<suggestion>.+)\? Accepted: (?P<forms>.*)",
            N_("unknown period '{text}' — did you mean {suggestion}? Accepted: {forms}"),
        ),
        (r"unknown period '(?P<text>.*)'\. Accepted: (?P<forms>.*)", N_("unknown period '{text}'. Accepted: {forms}")),
        (
            r"(?P<period>.+) has not started yet; today is (?P<day>\d{4}-\d{2}-\d{2})",
            N_("{period} has not started yet; today is {day}"),
        ),
        (
            r"period '(?P<text>.*)' ends \((?P<last>[\d-]+)\) before it starts \((?P<first>[\d-]+)\)",
            N_("period '{text}' ends ({last}) before it starts ({first})"),
        ),
        (r"empty period\. Accepted: (?P<forms>.*)", N_("empty period. Accepted: {forms}")),
        (
            r"period '(?P<text>.*)' is out of range: periods start on or after (?P<day>\d{4}-\d{2}-\d{2})",
            N_("period '{text}' is out of range: periods start on or after {day}"),
        ),
        (r"period '(?P<text>.*)' is out of range \((?P<why>.*)\)", N_("period '{text}' is out of range ({why})")),
        (
            r"period '(?P<text>.*)': quarter must be Q1–Q4, not Q(?P<quarter>\d+)",
            N_("period '{text}': quarter must be Q1–Q4, not Q{quarter}"),
        ),
        (
            r"period '(?P<text>.*)': (?P<year>\d{4}) has ISO weeks W01–W(?P<weeks>\d+), not W(?P<week>\d+)",
            N_("period '{text}': {year} has ISO weeks W01–W{weeks}, not W{week}"),
        ),
        (
            r"period '(?P<text>.*)': month must be 01–12, not (?P<month>\d+)",
            N_("period '{text}': month must be 01–12, not {month}"),
        ),
        (r"period '(?P<text>.*)': N must be at least 1", N_("period '{text}': N must be at least 1")),
        (
            r"period '(?P<text>.*)': (?P<date>[\d-]+) is not a valid date",
            N_("period '{text}': {date} is not a valid date"),
        ),
        (r"unknown metric '(?P<metric>.*)'", N_("unknown metric '{metric}'")),
        (
            r"unknown dimension '(?P<dimension>.*)'; the Customers tab has: (?P<choices>.*)",
            N_("unknown dimension '{dimension}'; the Customers tab has: {choices}"),
        ),
        (
            r"no customers with (?P<dimension>.*) = '(?P<value>.*)'; values: (?P<values>.*)",
            N_("no customers with {dimension} = '{value}'; values: {values}"),
        ),
        (r"(?P<first>add [^;]+); (?P<rest>add .+)", N_("{first}; {rest}")),
        (r"(?P<first>add [^;]+?) or (?P<rest>add [^;]+)", N_("{first}, or {rest}")),
        (r"add an? (?P<tab>\S+) tab with (?P<columns>[\w, ]+)", N_("add a {tab} tab with {columns}")),
        (
            r"add the columns? (?P<columns>[\w, ]+) to the (?P<tab>\S+) tab",
            N_("add the columns {columns} to the {tab} tab"),
        ),
        (r"add an? (?P<what>.+)", N_("add {what}")),
        (
            r"(?P<n>[\d,]+) customers? with neither a signup date nor an order not counted",
            N_("{n} customers with neither a signup date nor an order not counted"),
        ),
        (
            r"(?P<n>[\d,]+) orders? have no customer_id and count toward no purchaser",
            N_("{n} orders have no customer_id and count toward no purchaser"),
        ),
        (
            r"(?P<n>[\d,]+) contracts? ending in the period without a customer_id left out",
            N_("{n} contracts ending in the period without a customer_id left out"),
        ),
        (
            r"the Spend tab has no rows with (?P<scope>.+), so its spend counts as 0",
            N_("the Spend tab has no rows with {scope}, so its spend counts as 0"),
        ),
        (
            r"(?P<amount>[\d,.]+) of spend in (?P<period>.+) has no (?P<dimensions>.+) in the Spend tab: "
            r"unallocated, in no segment's CAC",
            N_("{amount} of spend in {period} has no {dimensions} in the Spend tab: unallocated, in no segment's CAC"),
        ),
        (
            r"the Spend tab has no '(?P<dimension>[^']*)' column, so (?P<label>.+) by (?P=dimension) is n/a"
            r" — add a '(?P=dimension)' column to Spend to split spend by (?P=dimension)",
            N_(
                "the Spend tab has no '{dimension}' column, so {label} by {dimension} is n/a — add a '{dimension}' "
                "column to Spend to split spend by {dimension}"
            ),
        ),
        (
            r"the Spend tab has no '(?P<dimension>[^']*)' column, so spend \(and CAC\) for (?P=dimension) = "
            r"(?P<value>.+) is n/a — add a '(?P=dimension)' column to Spend to split spend by (?P=dimension)",
            N_(
                "the Spend tab has no '{dimension}' column, so spend (and CAC) for {dimension} = {value} is n/a — "
                "add a '{dimension}' column to Spend to split spend by {dimension}"
            ),
        ),
        (
            r"customers with no (?P<dimension>.+) have no spend of their own, so their CAC is n/a",
            N_("customers with no {dimension} have no spend of their own, so their CAC is n/a"),
        ),
        (
            r"(?P<k>\d+) of (?P<n>\d+) is over 100%, so there is no interval",
            N_("{k} of {n} is over 100%, so there is no interval"),
        ),
        (
            r"(?P<n>[\d,]+) answers? left out: score not an integer on the survey's scale",
            N_("{n} answers left out: score not an integer on the survey's scale"),
        ),
        (
            r"no active customers on (?P<day>\d{4}-\d{2}-\d{2}), so no annual churn rate: set clv.lifetime_years",
            N_("no active customers on {day}, so no annual churn rate: set clv.lifetime_years"),
        ),
        (
            r"no churn over (?P<period>.+): lifetime capped at (?P<years>[\d.]+) years",
            N_("no churn over {period}: lifetime capped at {years} years"),
        ),
        (r"no orders in (?P<period>.+)", N_("no orders in {period}")),
        (r"no orders with a customer_id in (?P<period>.+)", N_("no orders with a customer_id in {period}")),
        (
            r"too few repeat customers to fit the model \((?P<n>\d+), need (?P<min>\d+)\); showing historical CLV",
            N_("too few repeat customers to fit the model ({n}, need {min}); showing historical CLV"),
        ),
        (
            r"purchase model did not converge \((?P<reason>.+)\); showing historical CLV",
            N_("purchase model did not converge ({reason}); showing historical CLV"),
        ),
        (
            r"spend model did not converge \((?P<reason>.+)\); showing historical CLV",
            N_("spend model did not converge ({reason}); showing historical CLV"),
        ),
        (
            r"parameter (?P<names>.+) ran to its bound: the model is not identified by these data",
            N_("parameter {names} ran to its bound: the model is not identified by these data"),
        ),
        (
            r"no stationary point reached \((?P<reason>.+); largest gradient (?P<gradient>\S+)\)",
            N_("no stationary point reached ({reason}; largest gradient {gradient})"),
        ),
        (
            r"a forecast needs at least (?P<min>\d+) past periods with values; this series has (?P<n>\d+)",
            N_("a forecast needs at least {min} past periods with values; this series has {n}"),
        ),
        (
            r"(?P<n>[\d,]+) customers? already churned, not listed",
            N_("{n} customers already churned, not listed"),
        ),
        (r"churn risk unavailable: (?P<why>.+)", N_("churn risk unavailable: {why}")),
        (
            r"no revenue in the comparison period \((?P<period>.+)\)",
            N_("no revenue in the comparison period ({period})"),
        ),
        (
            r"no customer revenue in the comparison period \((?P<period>.+)\)",
            N_("no customer revenue in the comparison period ({period})"),
        ),
        (
            r"(?P<n>\d+) complaints resolved before they were filed — left out of the median",
            N_("{n} complaints resolved before they were filed — left out of the median"),
        ),
        (
            r"spend was spread by days \((?P<k>\d+) monthly budgets? or date ranges? only partly in (?P<period>.+)\)",
            N_("spend was spread by days ({k} monthly budgets or date ranges only partly in {period})"),
        ),
    )
]
# Notes metrics/ writes word for word.
FIXED_NOTES = (
    N_("no contracts end in the period"),
    N_("no customer has an order before the end of the period"),
    N_("no acquisition spend in the period, so CAC is 0 and LTV:CAC is undefined"),
    N_("add a Subscriptions tab with customer_id, start_date, end_date to compute the renewal rate"),
    N_("add a Spend tab with date and amount to compute CAC"),
    N_("no active customers on the first day of the period"),
    N_("no new customers in the period"),
    N_("no churn events for a survival curve: lifetime from 1 / annual churn instead"),
    N_("model gave a non-finite CLV; showing historical CLV"),
    N_("too few repeat customers with positive spend"),
    N_("log-likelihood is not finite at the optimum"),
    N_("Hessian is not positive definite: the optimum is not a proper maximum"),
    N_("Newton finish from a sampled start"),
    N_("forecast horizon must be 1, 2 or 3 periods"),
    N_("no customers signed up by the as-of date — survival needs Customers or Orders rows"),
)
