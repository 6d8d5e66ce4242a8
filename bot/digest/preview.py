"""`/pulse digest [week] [where dimension=value]`: the digest shown privately, as a text reply, before anyone gets it."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.context import Context
from bot.digest.builder import build_digest
from bot.digest.render import PLAIN, sections
from bot.replies import ErrorReply, Reply, TextReply
from metrics.periods import parse_period, week_start


def digest_reply(cmd, ctx: Context) -> Reply:
    """The digest for the last full week (or the ISO week named, e.g. `2026-W12` or `last-week`), optionally one segment."""
    monday = week_start(ctx.today()) - timedelta(days=7)
    text, where = _arguments(cmd)
    if text:
        period = parse_period(text, ctx.today(), ctx.settings.fiscal_year_start_month)
        if period.kind != "week" or period.partial:
            return ErrorReply(f"the digest covers one full ISO week; '{text}' is not one", "last-week")
        monday = period.start
    digest = build_digest(ctx, monday, where or None)
    parts = [(heading or "Summary", "\n".join(lines)) for heading, lines in sections(digest, PLAIN)]
    parts.append(("Preview", "Only you can see this. Scheduled digests go to: " + _targets(ctx)))
    return TextReply(digest.label, parts, payload={"digest": digest.to_json()}, query=getattr(cmd, "raw", ""))


def _arguments(cmd) -> tuple[str | None, dict[str, str]]:
    """The week text and `where` filter, from the parsed command or from its free arguments
    (`2026-W12`, `last week`, `where region=South`, `region = South`)."""
    where = dict(getattr(cmd, "where", None) or {})
    words: list[str] = []
    rest = " ".join(getattr(cmd, "args", ()) or ())
    for m in re.finditer(r"(?:\bwhere\s+)?([^\s=]+)\s*=\s*(\S+)|(\S+)", rest):
        if m.group(3) is not None:
            if m.group(3).lower() != "where":
                words.append(m.group(3))
        else:
            where[m.group(1)] = m.group(2)
    return getattr(cmd, "period", None) or (" ".join(words) or None), where


def _targets(ctx: Context) -> str:
    from bot.digest.schedule import destinations

    dests = destinations(ctx.settings)
    if not ctx.settings.digest.enabled or not dests:
        return "no channels configured (add [[digest.channels]] to the config)."
    return ", ".join(
        f"{d.channel or 'the incoming webhook'} ({d.day} {d.time} {d.timezone}{', ' + d.segment if d.segment else ''})" for d in dests
    )
