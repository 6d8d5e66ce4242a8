"""The sentences of `/pulse why` and the digest's "What moved", worded from metrics' data in the current language."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from bot.i18n import N_, _, pgettext
from metrics.decompose import Correlation, Explanation

CAUSES = {
    "own_value": N_("its own value moved"),
    "share_grew": N_("its share grew"),
    "share_shrank": N_("its share shrank"),
}


def amount(x: float) -> str:
    """|x| to one decimal, or to two significant digits when one decimal would show 0.0.

    One decimal is rounded half up from |x| to 12 significant digits, as by hand: a sum of cents such as 32,497.05
    reads the same whether numpy (32,497.050000000017) or a warehouse (32,497.049999999843) added it up."""
    x = abs(x)
    if x < 0.05 or not math.isfinite(x):
        return f"{x:.2g}"
    return f"{Decimal(f'{x:.12g}').quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,.1f}"


def unit_word(unit: str, currency: str = "") -> str:
    """What a change of the metric is counted in: points for rates and NPS, the currency for money, else nothing."""
    return _("points") if unit in ("percent", "nps") else currency if unit == "money" else ""


def what_moved(label: str, unit: str, currency: str, e: Explanation, dimension: str) -> str:
    """The what-moved sentence, e.g. "NPS fell 6.0 points; 4.0 from South (its own value moved) and 1.0 from West
    (its share grew)."."""
    name = _(label)
    if e.direction == "flat":
        return _("{metric} did not change.", metric=name)
    params = {"metric": name, "amount": amount(e.amount), "unit": unit_word(unit, currency)}
    head = (
        _("{metric} rose {amount} {unit}", **params)
        if e.direction == "rose"
        else _("{metric} fell {amount} {unit}", **params)
    )
    if not e.drivers:
        return head.rstrip() + _("; no single {dimension} stands out.", dimension=dimension)
    bits = [
        _("{amount} from {segment} ({cause})", amount=amount(p.amount), segment=p.segment, cause=_(CAUSES[p.cause]))
        for p in e.drivers
    ]
    return _("{head}; {parts}.", head=head.rstrip(), parts=_(" and ").join(bits))


def correlation_note(corr: list[Correlation], dimension: str | None) -> str | None:
    """The correlations table in one line for the text and Slack answers (None when no correlation is defined)."""
    shown = [
        _("{metric} ρ = {rho} (p = {p})", metric=c.metric, rho=f"{c.rho:+.2f}", p=f"{c.p_value:.2g}")
        for c in corr
        if c.rho is not None
    ]
    if not shown:
        return None
    n, pairs = max(c.n for c in corr), pgettext("list separator", ", ").join(shown)
    if dimension:
        return _(
            "Spearman correlation with retention ({n} month × {dimension} values): {pairs}",
            n=n,
            dimension=dimension,
            pairs=pairs,
        )
    return _("Spearman correlation with retention ({n} monthly values): {pairs}", n=n, pairs=pairs)
