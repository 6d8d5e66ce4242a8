"""`/pulse alerts` and `pulse alerts --dry-run`: every rule with its current evaluation and stored state."""

from __future__ import annotations

from bot.alerts.run import evaluate_all
from bot.alerts.state import load_state
from bot.context import Context
from bot.replies import TableReply, TextReply


def alerts_reply(cmd, ctx: Context) -> TableReply | TextReply:
    if not ctx.settings.alerts:
        return TextReply("Alerts", [("No alert rules", "Add [[alerts]] rules to the config — see config/pulse.example.toml.")])
    state = load_state()
    rows = []
    for ev in evaluate_all(ctx):
        r = ev.result
        stored = state.get(ev.rule.name, {})
        rows.append([
            ev.rule.name, ev.rule.metric, ev.rule.condition, r.value, r.n,
            "holds" if ev.holds else "ok", "firing" if stored.get("active") else "quiet", ev.reason + (" (small sample)" if ev.small_sample else ""),
        ])
    return TableReply(
        "Alerts", ["rule", "metric", "condition", "value", "n", "now", "state", "why"], rows,
        ctx.snapshot().snapshot.read_at, query=getattr(cmd, "raw", "alerts"),
    )
