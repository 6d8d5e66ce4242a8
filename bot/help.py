"""Help text: the commands, periods and examples, shared by Slack and the CLI."""

from __future__ import annotations

from bot.i18n import _
from bot.replies import TextReply
from config import Settings
from metrics.registry import CATALOGUE


def help_reply(settings: Settings) -> TextReply:
    """The `/pulse help` answer."""
    metrics = "\n".join(f"`{s.name}` — {_(s.help)}" for s in CATALOGUE.values())
    periods = (
        "`today` `yesterday` `this-week` `last-week` `this-month` `last-month` `this-quarter` `last-quarter` "
        "`this-year` `last-year` `ytd` `qtd` `mtd` `last-30-days` `last-8-weeks` `last-6-months` "
        "`2026` `2026-Q1` `2026-03` `2026-W10` `2026-01-01..2026-03-31` `since 2026-01-01` · "
        "本周 上周 本月 上月 本季度 上季度 今年 去年"
    )
    grammar = _("`/pulse <metric> [period] [by <dimension>] [where <dimension>=<value>] [vs <period>]`")
    examples = _(
        "`/nps last-quarter by region`\n"
        "`/pulse churn 2026-Q3 vs 2025-Q3`\n"
        "`/pulse revenue last-6-months where plan=Pro`\n"
        "`/pulse why nps last-quarter by region`\n"
        "`/pulse overview`\n"
        "`/pulse overview last-month by region`\n"
        "`/pulse risk where plan=Pro`"
    )
    umbrella = _(
        "`/pulse help` this text · `/pulse targets` targets and status · `/pulse issues` rows left out as invalid · "
        "`/pulse refresh` rewrite the summary tabs (admins) · `/pulse digest` preview the weekly digest · "
        "`/pulse alerts` alert rules and their state · `/pulse forecast <metric>` · `/pulse survival [by <dimension>]`"
    )
    defaults = _(
        "Rates default to `{rates}`, NPS/CSAT/CSI to `{surveys}`; dates are in {timezone}.",
        rates=settings.default_periods.rates,
        surveys=settings.default_periods.surveys,
        timezone=settings.timezone,
    )
    return TextReply(
        _("crm-pulse help"),
        [
            (_("Usage"), grammar),
            (_("Metrics"), metrics),
            (_("Periods"), periods),
            (_("Examples"), examples),
            (_("More"), umbrella),
            (_("Defaults"), defaults),
        ],
        markup=True,
    )
