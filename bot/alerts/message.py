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
from bot.render import format as fmt
from bot.render import safe

WHY_ACTION = "alert_why"


def why_query(ev: Evaluation) -> str | None:
    """The `/pulse why …` text that explains this alert's metric over the same windows, when one exists."""
    if ev.result.unit not in ("percent", "nps") and ev.rule.metric not in ("revenue", "orders", "customers", "new"):
        return None
    return f"why {ev.rule.metric} last-{ev.rule.window_days}-days"


def _facts(ev: Evaluation, currency: str) -> str:
    r = ev.result
    c = r.previous
    scope = f" for {fmt.escape(ev.rule.segment)}" if ev.rule.segment else ""
    value = fmt.number(r.value, r.unit, currency)
    lines = [f"*{fmt.escape(r.label)}*{scope} over the {r.period.label}: *{value}* {fmt.margin(r)}".rstrip()]
    lines.append(fmt.change(c, r.unit, currency))
    if r.target:
        lines.append(fmt.target(r, currency))
    n = f"n = {r.n:,}" if r.n is not None else ""
    if ev.small_sample:
        n += " — small sample, read with care"
    if n:
        lines.append(n)
    return "\n".join(lines)


def alert_message(ev: Evaluation, currency: str = "USD") -> tuple[list[dict], str]:
    """The message posted when the condition starts to hold."""
    title = f"🔔 {safe.plain(ev.rule.name)}"[:150]
    blocks = [
        HeaderBlock(text=title),
        SectionBlock(text=MarkdownTextObject(text=_facts(ev, currency))),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Rule: {fmt.escape(ev.rule.metric)} {fmt.escape(ev.reason)}; posted once until it recovers."
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
                        text="Why did it move?",
                        action_id=WHY_ACTION,
                        value=json.dumps({"command": "/pulse", "text": query}),
                    )
                ]
            )
        )
    value = fmt.number(ev.result.value, ev.result.unit, currency)
    text = f"{fmt.escape(ev.rule.name)}: {fmt.escape(ev.result.label)} {value} — {fmt.escape(ev.reason)}"
    return [b.to_dict() for b in blocks], text


def recovery_message(ev: Evaluation, currency: str = "USD") -> tuple[list[dict], str]:
    """The message posted once when the condition stops holding."""
    blocks = [
        HeaderBlock(text=f"✅ Back to normal: {safe.plain(ev.rule.name)}"[:150]),
        SectionBlock(text=MarkdownTextObject(text=_facts(ev, currency))),
    ]
    value = fmt.number(ev.result.value, ev.result.unit, currency)
    text = f"Back to normal: {fmt.escape(ev.rule.name)} — {fmt.escape(ev.result.label)} {value}"
    return [b.to_dict() for b in blocks], text
