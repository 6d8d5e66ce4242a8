"""`/pulse alerts` and `pulse alerts --dry-run`: every rule with its current evaluation and stored state."""

from __future__ import annotations

from typing import Any

from bot.alerts.run import current_state, evaluations_as_of
from bot.context import Context
from bot.i18n import _
from bot.render import format as fmt
from bot.replies import TableReply, TextReply


def alerts_reply(cmd, ctx: Context) -> TableReply | TextReply:
    if not ctx.settings.alerts:
        return TextReply(
            "Alerts", [("No alert rules", "Add [[alerts]] rules to the config — see config/pulse.example.toml.")]
        )
    state = current_state(ctx)
    rows: list[list[Any]] = []
    units: list[str] = []  # each row's value unit: bot/render words the value ("$1,600.00", "42.0%")
    evaluations, as_of = evaluations_as_of(ctx)
    for ev in evaluations:
        r = ev.result
        if ev.error or r is None:
            rows.append([ev.rule.name, ev.rule.metric, ev.rule.condition, "n/a", None, f"Error: {ev.error}"])
            units.append("")
            continue
        stored = state.get(ev.rule.name, {})
        rows.append(
            [
                ev.rule.name,
                ev.rule.metric,
                ev.rule.condition,
                _("n/a") if fmt.is_missing(r.value) else r.value,
                r.n,
                status(ev.holds, bool(stored.get("active")), ev.reason)
                + (" (small sample)" if ev.small_sample else ""),
            ]
        )
        units.append(r.unit)
    return TableReply(
        "Alerts",
        ["rule", "metric", "condition", "value", "n", "status"],
        rows,
        as_of,
        query=getattr(cmd, "raw", "alerts"),
        units=[None, None, None, fmt.ROW, None, None],
        row_units=units,
    )


def status(holds: bool, posted: bool, reason: str) -> str:
    """One plain sentence from whether the condition holds now and whether its alert is standing (posted)."""
    if holds and posted:
        return f"Alert posted; {reason}"
    if holds:
        return f"{reason[:1].upper()}{reason[1:]}; the alert posts after the next refresh"
    if posted:
        return f"{reason[:1].upper()}{reason[1:]}; the back-to-normal message posts after the next refresh"
    return f"Normal: {reason}"
