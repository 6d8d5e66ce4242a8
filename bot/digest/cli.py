"""`pulse digest --dry-run | --post [--json]`: print the digest (and save its chart), or post it now."""

from __future__ import annotations

import json
import sys

from bot.context import Context
from bot.digest.builder import build_digest
from bot.digest.chart import render_chart
from bot.digest.post import post_now
from bot.digest.render import render_text
from bot.digest.schedule import destinations, last_full_week
from config import state_dir, write_state_file


def run_digest_cli(ctx: Context, post: bool, as_json: bool) -> int:
    """Exit code 0 when everything printed or posted (or was already posted), 1 when a post failed."""
    if post:
        return _post(ctx, as_json)
    dests = destinations(ctx.settings) or [None]
    payload = []
    for dest in dests:
        monday = last_full_week(ctx.now(), dest.timezone if dest else ctx.settings.timezone)
        digest = build_digest(ctx, monday, dest.segment if dest else None)
        chart = render_chart(digest)
        path = None
        if chart is not None:
            path = state_dir() / f"digest-{digest.week.label}{'-' + dest.key if dest else ''}.png"
            write_state_file(path, chart)
        if as_json:
            payload.append(
                {"destination": dest.key if dest else None, **digest.to_json(), "chart": str(path) if path else None}
            )
        else:
            if dest is not None:
                print(f"── to {dest.channel or 'incoming webhook'} ──")
            print(render_text(digest))
            if path:
                print(f"chart: {path}")
            print()
    if as_json:
        print(json.dumps(payload if len(payload) > 1 else payload[0], ensure_ascii=False, indent=2))
    return 0


def _post(ctx: Context, as_json: bool) -> int:
    if not destinations(ctx.settings):
        print(
            "error: no digest destinations: add [[digest.channels]] (or digest.webhook_url_env) to the config",
            file=sys.stderr,
        )
        return 2
    results = post_now(ctx)
    if as_json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(r.describe())
    return 0 if all(r.ok for r in results) else 1
