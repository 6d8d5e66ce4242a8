"""JSON rendering of replies (`--json`, the add-on API)."""

from __future__ import annotations

from typing import Any

from bot.render.format import notes
from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from metrics.result import json_safe


def render_json(reply: Reply, currency: str = "USD") -> dict[str, Any]:
    """A reply as one JSON-ready object; a metric reply is `MetricResult.to_json()` plus `data_as_of`, its notes as
    shown (a predicted CLV worded in `currency`)."""
    if isinstance(reply, MetricReply):
        r = reply.result
        data = {**r.to_json(), "notes": notes(r, currency)}
        return {**data, "data_as_of": reply.data_as_of.isoformat(), "data_notes": reply.notes}
    if isinstance(reply, OverviewReply):
        return {
            "metric": "overview",
            "period": reply.period.to_json(),
            "results": [r.to_json() for r in reply.results],
            "data_as_of": reply.data_as_of.isoformat(),
            "data_notes": reply.notes,
        }
    if isinstance(reply, TableReply):
        return json_safe(
            {
                "title": reply.title,
                "columns": reply.columns,
                "rows": reply.rows,
                **reply.payload,
                **({"small_sample": [list(m) for m in reply.small_sample]} if reply.small_sample else {}),
                "data_as_of": reply.data_as_of.isoformat() if reply.data_as_of else None,
                "notes": reply.notes,
            }
        )
    if isinstance(reply, TextReply):
        return json_safe(
            {"title": reply.title, "sections": [{"heading": h, "body": b} for h, b in reply.sections], **reply.payload}
        )
    if isinstance(reply, ErrorReply):
        return {"error": reply.message, "suggestion": reply.suggestion}
    raise TypeError(f"cannot render {type(reply).__name__}")
