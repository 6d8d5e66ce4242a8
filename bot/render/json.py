"""JSON rendering of replies (`--json`, the add-on API)."""

from __future__ import annotations

from typing import Any

from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from metrics.result import json_safe


def render_json(reply: Reply) -> dict[str, Any]:
    """A reply as one JSON-ready object; a metric reply is exactly `MetricResult.to_json()` plus `data_as_of`."""
    if isinstance(reply, MetricReply):
        return {**reply.result.to_json(), "data_as_of": reply.data_as_of.isoformat(), "data_notes": reply.notes}
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
