"""`pulse alerts --dry-run`: evaluate the rules and print them; nothing is posted."""

from __future__ import annotations

import json

from bot.alerts.preview import alerts_reply
from bot.context import Context
from bot.render.json import render_json
from bot.render.text import render_text


def run_alerts_cli(ctx: Context, as_json: bool = False) -> int:
    reply = alerts_reply(None, ctx)
    print(
        json.dumps(render_json(reply), ensure_ascii=False, indent=2)
        if as_json
        else render_text(reply, ctx.settings.currency)
    )
    return 0
