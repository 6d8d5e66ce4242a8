"""`/pulse digest [week] [where dimension=value]`: the digest shown privately as a text reply, before anyone gets it."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.addon.views import digest_outcome
from bot.context import Context
from bot.digest.builder import build_digest
from bot.digest.post import post_now
from bot.digest.render import PLAIN, sections
from bot.digest.schedule import destinations
from bot.grammar import POST_WORDS
from bot.i18n import N_, _
from bot.replies import ErrorReply, Reply, TextReply
from metrics.periods import parse_period, week_start


def digest_reply(cmd, ctx: Context) -> Reply:
    """The digest for the last full week (or the ISO week named: `2026-W12`, `last-week`), optionally one segment."""
    if getattr(cmd, "post", False):
        return post_reply(cmd, ctx)
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


_POST_TITLES = {
    "posted": N_("Digest posted"),
    "already_posted": N_("Digest already posted"),
    "partial": N_("Digest partly posted"),
}


def post_reply(cmd, ctx: Context) -> Reply:
    """`/pulse digest post` (admins; Slack checks access first): post the last full week's digest to every
    configured destination now, and say what happened to each — the same sentences as the add-on's button."""
    extra = [a for a in getattr(cmd, "args", ()) if a.lower() not in POST_WORDS]
    if extra:
        return ErrorReply(
            f"`digest post` posts the last full week's digest to the configured channels and takes nothing else "
            f"(not '{' '.join(extra)}'); `/pulse digest {' '.join(extra)}` previews it privately",
            "digest post",
        )
    configured = bool(destinations(ctx.settings))
    outcome = digest_outcome(post_now(ctx) if configured else [], configured)
    title = _(_POST_TITLES.get(outcome["status"], N_("Digest not posted")))
    return TextReply(title, [(_("Outcome"), outcome["message"])], payload=outcome, query=getattr(cmd, "raw", ""))


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
    dests = destinations(ctx.settings)
    if not ctx.settings.digest.enabled or not dests:
        return "no channels configured (add [[digest.channels]] to the config)."
    return ", ".join(
        f"{d.channel or 'the incoming webhook'} ({d.day} {d.time} {d.timezone}{', ' + d.segment if d.segment else ''})"
        for d in dests
    )
