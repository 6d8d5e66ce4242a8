"""Slack Block Kit rendering of replies, built with slack_sdk's block models so Slack's limits are validated.

Every value that can come from the sheet (labels, segments, table cells, notes) goes through `fmt.escape`,
so a cell holding `<!channel>` renders as text and pings nobody.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.i18n import _, ngettext
from bot.render import format as fmt
from bot.render import safe
from bot.render.limits import (
    MAX_BLOCKS,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_SECTION,
    MAX_TOTAL_CHARS,
)
from bot.render.text import table
from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from metrics.result import MetricResult

SHARE_ACTION_ID = "share_in_channel"
TOP_MOVERS = 3


def render_blocks(
    reply: Reply,
    *,
    share_button: bool = True,
    command: str = "/pulse",
    text: str | None = None,
    currency: str = "USD",
) -> list[dict[str, Any]]:
    """Blocks for one reply; the share button (for answers, not errors) carries {command, text} to recompute it."""
    if isinstance(reply, MetricReply):
        body = metric_blocks(reply.result, currency) + _notes(result_notes(reply.result, currency) + reply.notes)
        tail = [_as_of(reply.data_as_of, command, reply.query)]
    elif isinstance(reply, OverviewReply):
        body = overview_blocks(reply, currency) + _notes(overview_notes(reply))
        tail = [_as_of(reply.data_as_of, command, reply.query)]
    elif isinstance(reply, TableReply):
        body = table_blocks(reply, currency) + _notes(reply.notes)
        tail = [_as_of(reply.data_as_of, command, reply.query)]
    elif isinstance(reply, TextReply):
        body = text_blocks(reply)
        tail = []
        share_button = False
    elif isinstance(reply, ErrorReply):
        return [b.to_dict() for b in error_blocks(reply)]
    else:
        raise TypeError(f"cannot render {type(reply).__name__}")
    if share_button:
        button = share_actions(command, reply.query if text is None else text)
        if button is not None:
            tail.append(button)
    return fit([b for b in body if b is not None], [b for b in tail if b is not None])


def metric_blocks(r: MetricResult, currency: str = "USD") -> list[Block]:
    """Header, headline with change, the facts as fields, and the top movers when broken down."""
    scope = "".join(f" · {k} = {v}" for k, v in r.where.items())
    blocks: list[Block] = [_header(f"{fmt.label(r)} — {fmt.period(r.period)}{scope}")]
    headline = f"*{fmt.escape(fmt.number(r.value, r.unit, currency))}*"
    margin = fmt.margin(r)
    if margin:
        headline += f"  {fmt.escape(margin)}"
    headline += f"\n{fmt.escape(fmt.change(r.previous, r.unit, currency))}"
    blocks.append(SectionBlock(text=_mrkdwn(headline), fields=_facts(r, currency) or None))
    if r.breakdown:
        blocks.append(movers_block(r, currency))
    return blocks


def result_notes(r: MetricResult, currency: str = "USD") -> list[str]:
    return [fmt.note(n) for n in fmt.notes(r, currency)] + (
        [fmt.left_out(r.excluded_rows, fmt.METRIC_TABS)] if r.excluded_rows else []
    )


def _facts(r: MetricResult, currency: str) -> list[MarkdownTextObject]:
    facts = []
    if r.previous is not None and not fmt.is_missing(r.previous.value):
        facts.append((fmt.period(r.previous.period), fmt.number(r.previous.value, r.unit, currency)))
    if r.n is not None:
        facts.append(("n", fmt.count(r.n)))
    if fmt.counts(r):
        facts.append((_("Counts"), fmt.counts(r)))
    if r.target is not None:
        facts.append((_("Target"), fmt.target_status(r, currency)))
    if fmt.quality(r):
        facts.append(fmt.quality(r))
    if r.unit == "nps" and {"promoters", "passives", "detractors"} <= r.details.keys():
        d = r.details
        facts.append(
            (
                _("Promoters / passives / detractors"),
                f"{fmt.count(d['promoters'])} / {fmt.count(d['passives'])} / {fmt.count(d['detractors'])}",
            )
        )
    return [_mrkdwn(f"*{fmt.escape(k)}*\n{fmt.escape(v)}", MAX_FIELD) for k, v in facts[:MAX_FIELDS]]


def top_movers(r: MetricResult, k: int = TOP_MOVERS) -> list:
    """The k segments that moved most against the comparison period — changes beyond the noise first, then
    those on enough data — else the k largest values."""
    with_change = [s for s in r.breakdown if not fmt.is_missing(s.change)]
    if with_change:
        return sorted(with_change, key=lambda s: (s.significant is not True, s.small_sample, -abs(s.change)))[:k]
    with_value = [s for s in r.breakdown if not fmt.is_missing(s.value)]
    return sorted(with_value, key=lambda s: s.value, reverse=True)[:k]


def movers_block(r: MetricResult, currency: str = "USD") -> SectionBlock:
    movers = top_movers(r)
    moved = any(not fmt.is_missing(s.change) for s in movers)
    by = fmt.escape(r.by)
    title = _("*Top movers by {by}*", by=by) if moved else _("*Top {k} by {by}*", k=len(movers), by=by)
    if moved and all(s.significant is False for s in movers if not fmt.is_missing(s.change)):
        title = _("*Largest changes by {by}* (none beyond the noise)", by=by)
    lines = []
    for s in movers:
        ci = fmt.interval(s.interval, r.unit, currency)
        value = fmt.escape(fmt.number(s.value, r.unit, currency))
        if ci:
            line = _(
                "• {segment}: {value} (n = {n}, 95% CI {interval})",
                segment=fmt.escape(s.segment),
                value=value,
                n=fmt.count(s.n),
                interval=fmt.escape(ci),
            )
        else:
            line = _("• {segment}: {value} (n = {n})", segment=fmt.escape(s.segment), value=value, n=fmt.count(s.n))
        if not fmt.is_missing(s.change):
            arrow = "▲" if s.change > 0 else ("▼" if s.change < 0 else "▶")
            line += f" {arrow} {fmt.escape(fmt.magnitude(abs(s.change), r.unit, currency))}"
        flags = fmt.segment_flags(s)
        if flags:
            line += f", {flags}"
        lines.append(line)
    rest = len(r.breakdown) - len(movers)
    if rest > 0:
        lines.append(ngettext("…and {n} more segment", "…and {n} more segments", rest))
    return SectionBlock(text=_mrkdwn("\n".join([title, *lines])))


def overview_blocks(reply: OverviewReply, currency: str = "USD") -> list[Block]:
    """One field per metric (value and change), ten fields per section."""
    blocks: list[Block] = [_header(_("Overview — {period}", period=fmt.period(reply.period)))]
    fields = []
    for r in reply.results:
        line = f"*{fmt.escape(fmt.label(r))}*\n{fmt.escape(fmt.number(r.value, r.unit, currency))}"
        if r.previous is not None:
            line += f"  {fmt.escape(fmt.change(r.previous, r.unit, currency))}"
        if r.target is not None:
            line += f"\n{fmt.escape(fmt.target(r, currency))}"
        fields.append(_mrkdwn(line, MAX_FIELD))
    for i in range(0, len(fields), MAX_FIELDS):
        blocks.append(SectionBlock(fields=fields[i : i + MAX_FIELDS]))
    return blocks


def overview_notes(reply: OverviewReply) -> list[str]:
    return [_("{label}: {note}", label=fmt.label(r), note=fmt.note(n)) for r in reply.results for n in r.notes] + [
        fmt.note(n) for n in reply.notes
    ]


def table_blocks(reply: TableReply, currency: str = "USD") -> list[Block]:
    """A preformatted table, split across sections and cut with "…and N more rows" when too long."""
    blocks: list[Block] = [_header(reply.title)]
    lines = table(reply.columns, reply.rows, reply.units, reply.row_units, currency, reply.small_sample)
    header, rows = lines[0], lines[1:]
    budget = MAX_TOTAL_CHARS // 2
    chunk: list[str] = []
    used = 0
    shown = 0
    for line in rows:
        line = safe.code(line)
        if used + len(line) > budget:
            break
        if sum(len(x) + 1 for x in chunk) + len(line) + len(header) + 10 > MAX_SECTION:
            blocks.append(_pre(safe.code(header), chunk))
            chunk = []
        chunk.append(line)
        used += len(line) + 1
        shown += 1
    if chunk or not rows:
        blocks.append(_pre(safe.code(header), chunk))
    if shown < len(rows):
        blocks.append(ContextBlock(elements=[_mrkdwn(_("…and {n} more rows", n=len(rows) - shown))]))
    return blocks


def _pre(header: str, lines: list[str]) -> SectionBlock:
    return SectionBlock(text=_mrkdwn("```" + "\n".join([header, *lines]) + "```"))


def text_blocks(reply: TextReply) -> list[Block]:
    blocks: list[Block] = [_header(reply.title)]
    for heading, body in reply.sections:
        body = safe.markup(body) if reply.markup else fmt.escape(body)
        blocks.append(SectionBlock(text=_mrkdwn(f"*{fmt.escape(heading)}*\n{body}")))
    return blocks


def error_blocks(reply: ErrorReply) -> list[Block]:
    message = fmt.note(reply.message)
    text = f":warning: {safe.markup(message)}"  # our wording (with `examples`), shown only to the asker
    blocks: list[Block] = [SectionBlock(text=_mrkdwn(text))]
    if reply.suggestion and "did you mean" not in message and _("did you mean") not in message:
        hint = _(
            "Did you mean `{suggestion}`? · `/pulse help` lists commands and periods",
            suggestion=fmt.escape(reply.suggestion),
        )
        blocks.append(ContextBlock(elements=[_mrkdwn(hint)]))
    else:
        blocks.append(ContextBlock(elements=[_mrkdwn(_("`/pulse help` lists commands, periods and examples"))]))
    return blocks


def share_actions(command: str, text: str) -> ActionsBlock | None:
    """The "Share in channel" button; None when the query is too long to carry in a button value."""
    value = json.dumps({"command": command, "text": text}, ensure_ascii=False)
    if len(value) > MAX_BUTTON_VALUE:
        return None
    return ActionsBlock(
        block_id="share",
        elements=[ButtonElement(text=_("Share in channel"), action_id=SHARE_ACTION_ID, value=value)],
    )


def shared_by_block(user_id: str) -> dict[str, Any]:
    """A context line naming who shared an answer (the id comes from Slack's payload, not the sheet)."""
    who = f"<@{user_id}>" if user_id.isalnum() else fmt.escape(user_id)
    return ContextBlock(elements=[_mrkdwn(_("Shared by {who}", who=who))]).to_dict()


def _as_of(as_of: datetime | None, command: str, query: str) -> ContextBlock | None:
    parts = []
    if as_of is not None:
        parts.append(fmt.as_of(as_of))
    asked = f"{command} {query}".strip()
    parts.append(f"`{fmt.escape(asked)}`")
    return ContextBlock(elements=[_mrkdwn(" · ".join(parts))])


def _notes(notes: list[str]) -> list[Block]:
    if not notes:
        return []
    shown = notes[: MAX_CONTEXT_ELEMENTS - 1]
    elements = [_mrkdwn(f":information_source: {fmt.escape(n)}", MAX_FIELD) for n in shown]
    if len(notes) > len(shown):
        elements.append(_mrkdwn(_("…and {n} more notes", n=len(notes) - len(shown))))
    return [ContextBlock(elements=elements)]


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=_cut(safe.plain(text), MAX_HEADER), emoji=True))


def _mrkdwn(text: str, limit: int = MAX_SECTION) -> MarkdownTextObject:
    return MarkdownTextObject(text=_cut(text, limit))


def _cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters without splitting an `&amp;` entity or leaving a code block open."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 4]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ("…```" if cut.count("```") % 2 else "…")


def fit(body: list[Block], tail: list[Block]) -> list[dict[str, Any]]:
    """Validate and serialise; drop trailing body blocks (saying how many) to stay within Slack's message limits."""
    tail_dicts = [b.to_dict() for b in tail]
    budget = MAX_TOTAL_CHARS - _size(tail_dicts) - 100
    kept: list[dict[str, Any]] = []
    for i, block in enumerate(body):
        d = block.to_dict()
        if len(kept) + len(tail_dicts) + 2 > MAX_BLOCKS or _size(kept) + _size([d]) > budget:
            more = len(body) - i
            cut = ngettext(
                "…and {n} more part left out to fit Slack's limits",
                "…and {n} more parts left out to fit Slack's limits",
                more,
            )
            kept.append(ContextBlock(elements=[_mrkdwn(cut)]).to_dict())
            break
        kept.append(d)
    return kept + tail_dicts


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))
