"""Alert and recovery messages in Block Kit, with plain-text fallbacks."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.alerts.rules import Evaluation
from bot.i18n import _
from bot.render import format as fmt
from bot.render import safe
from bot.render.limits import MAX_HEADER

WHY_ACTION = "alert_why"


def why_query(ev: Evaluation) -> str | None:
    """The `/pulse why …` text that explains this alert's metric over the same windows, when one exists."""
    if ev.result.unit not in ("percent", "nps") and ev.rule.metric not in ("revenue", "orders", "customers", "new"):
        return None
    return f"why {ev.rule.metric} last-{ev.rule.window_days}-days"


def _facts(ev: Evaluation, currency: str) -> str:
    r = ev.result
    c = r.previous
    scope = _(" for {segment}", segment=fmt.escape(ev.rule.segment)) if ev.rule.segment else ""
    value = fmt.number(r.value, r.unit, currency)
    head = _(
        "*{label}*{scope} over the {period}: *{value}*",
        label=fmt.escape(fmt.label(r)),
        scope=scope,
        period=fmt.period(r.period),
        value=value,
    )
    lines = [f"{head} {fmt.margin(r)}".rstrip()]
    lines.append(fmt.change(c, r.unit, currency))
    if r.target:
        lines.append(fmt.target(r, currency))
    n = f"n = {fmt.count(r.n)}" if r.n is not None else ""
    if ev.small_sample:
        n += _(" — small sample, read with care")
    if n:
        lines.append(n)
    return "\n".join(lines)


def alert_message(ev: Evaluation, currency: str = "USD") -> tuple[list[dict], str]:
    """The message posted when the condition starts to hold."""
    title = f"🔔 {safe.plain(ev.rule.name)}"[:MAX_HEADER]
    blocks = [
        HeaderBlock(text=title),
        SectionBlock(text=MarkdownTextObject(text=_facts(ev, currency))),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=_(
                        "Rule: {metric} {reason}; posted once until it recovers.",
                        metric=fmt.escape(ev.rule.metric),
                        reason=fmt.escape(ev.reason),
                    )
                )
            ]
        ),
    ]
    query = why_query(ev)
    if query:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=_("Why did it move?"),
                        action_id=WHY_ACTION,
                        value=json.dumps({"command": "/pulse", "text": query}),
                    )
                ]
            )
        )
    value = fmt.number(ev.result.value, ev.result.unit, currency)
    text = _(
        "{name}: {label} {value} — {reason}",
        name=fmt.escape(ev.rule.name),
        label=fmt.escape(fmt.label(ev.result)),
        value=value,
        reason=fmt.escape(ev.reason),
    )
    return [b.to_dict() for b in blocks], text


def recovery_message(ev: Evaluation, currency: str = "USD") -> tuple[list[dict], str]:
    """The message posted once when the condition stops holding."""
    blocks = [
        HeaderBlock(text=_("✅ Back to normal: {name}", name=safe.plain(ev.rule.name))[:MAX_HEADER]),
        SectionBlock(text=MarkdownTextObject(text=_facts(ev, currency))),
    ]
    value = fmt.number(ev.result.value, ev.result.unit, currency)
    text = _(
        "Back to normal: {name} — {label} {value}",
        name=fmt.escape(ev.rule.name),
        label=fmt.escape(fmt.label(ev.result)),
        value=value,
    )
    return [b.to_dict() for b in blocks], text
