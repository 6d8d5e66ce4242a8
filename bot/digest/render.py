"""The digest as Slack blocks, plain text (terminal and Slack fallback) and JSON; text first, every number copyable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.digest.builder import Comment, Digest, Kpi, Mover
from bot.render import format as fmt
from bot.render import safe
from metrics.clv.risk import churned_note
from metrics.result import MetricResult

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_TOTAL_CHARS = 12000
MAX_FALLBACK = 3000
MAX_COMMENT = 280


def render_json(digest: Digest) -> dict[str, Any]:
    return digest.to_json()


@dataclass(frozen=True)
class Style:
    """Slack mrkdwn (escaped values, bold labels), the Slack `text` fallback (escaped, no bold) or terminal text."""

    slack: bool
    bold: bool = True

    def e(self, value: object) -> str:
        return fmt.escape(value) if self.slack else str(value)

    def b(self, text: str) -> str:
        return f"*{text}*" if self.slack and self.bold else text


SLACK, PLAIN, FALLBACK = Style(True), Style(False), Style(True, bold=False)


def sections(d: Digest, s: Style = SLACK) -> list[tuple[str, list[str]]]:
    """The digest as (heading, lines) in reading order; both renderers are built from this one list.
    In Slack style every value that can come from the sheet is escaped here."""
    if d.quiet:
        return [("", [quiet_line(d), *issues_lines(d)])]
    out: list[tuple[str, list[str]]] = [("", [periods_line(d)])]
    if d.kpis:
        out.append(("Headline KPIs", [kpi_line(k, d.currency, s) for k in d.kpis if k.metric != "nps"]))
    targets = [target_line(k, d.currency, s) for k in d.kpis if k.trailing.target is not None]
    if targets:
        out.append((f"Targets — {TRAILING_LABEL}", targets))
    nps = d.kpi("nps")
    survey = (
        [nps_line("Week", nps.week, s), nps_line(TRAILING_LABEL.capitalize(), nps.trailing, s, trailing=True)]
        if nps
        else []
    )
    out.append(("NPS and surveys", survey + survey_lines(d)))
    if d.promoter_comments:
        out.append(("Promoters say", [comment_line(c, s) for c in d.promoter_comments]))
    if d.detractor_comments:
        out.append(("Detractors say", [comment_line(c, s) for c in d.detractor_comments]))
    if d.movers:
        out.append(
            (f"Biggest movers by segment — {TRAILING_LABEL} vs the 13 before", [mover_line(m, s) for m in d.movers])
        )
    if d.risk is not None:
        out.append(("Churn risk", risk_lines(d, s)))
    if d.what_moved:
        out.append(("What moved", [s.e(line) for line in d.what_moved]))
    out.append(("", issues_lines(d) + [s.e(n) for n in d.notes]))
    return out


TRAILING_LABEL = "13 weeks"


def periods_line(d: Digest) -> str:
    days = f"{d.week.start:%d %b} – {d.week.last_day:%d %b %Y}"
    return f"Week {d.week.label} ({days}) and the {d.trailing.label}, each vs the period before"


def quiet_line(d: Digest) -> str:
    days = f"{d.week.start:%d %b} – {d.week.last_day:%d %b %Y}"
    return f"No new rows dated in {d.week.label} ({days}) — nothing changed since the last digest."


def kpi_line(k: Kpi, currency: str, s: Style = SLACK) -> str:
    """`*Revenue* $12,345.00 ▲ $1,000.00 vs 2026-W46 · 13 weeks $150,000.00 ▲ … vs previous 13 weeks`."""
    week, trailing = k.week, k.trailing
    return (
        f"{s.b(s.e(k.label))}  {_value(week, currency)} {fmt.change(week.previous, k.unit, currency)}"
        f" · {TRAILING_LABEL} {_value(trailing, currency)} {_short_change(trailing, currency)}"
    )


def _value(r: MetricResult, currency: str) -> str:
    return fmt.number(r.value, r.unit, currency)


def _short_change(r: MetricResult, currency: str) -> str:
    return (
        fmt.change(r.previous, r.unit, currency).replace(f" vs {r.previous.period.label}", " vs the 13 before")
        if r.previous
        else ""
    )


def target_line(k: Kpi, currency: str, s: Style = SLACK) -> str:
    """`*NPS* +42 / target +40 ▰▰▰▰▰▰▰▰▰▰ 100% ✓ met (+2 pts)`; lower-is-better metrics: the bar is target / value."""
    r = k.trailing
    t = r.target
    bar = fmt.progress_bar(t.target, r.value) if k.lower_is_better else fmt.progress_bar(r.value, t.target)
    if k.lower_is_better and r.value == 0:
        bar = fmt.progress_bar(1, 1)
    mark = "✓ met" if t.met else "✗ missed"
    target, distance = fmt.number(t.target, r.unit, currency), fmt.delta(t.distance, r.unit, currency)
    return f"{s.b(s.e(k.label))} {_value(r, currency)} / target {target}  {bar}  {mark} ({distance})"


def nps_line(title: str, r: MetricResult, s: Style = SLACK, trailing: bool = False) -> str:
    """NPS with its margin, counts and whether the change beats the noise."""
    d = r.details
    line = f"{s.b(title + ':')} NPS {fmt.number(r.value, 'nps')}"
    if d.get("margin") is not None:
        line += f" ± {d['margin']:.1f}"
    if {"promoters", "passives", "detractors"} <= d.keys():
        line += (
            f" (n = {r.n or 0:,}: {d['promoters']:,} promoters · {d['passives']:,} passives"
            f" · {d['detractors']:,} detractors)"
        )
    line += f" {_short_change(r, '') if trailing else fmt.change(r.previous, 'nps')}"
    notes = [n for n in r.notes if n.startswith("small sample")]
    return line + (f" — {s.e(notes[0])}" if notes else "")


def survey_lines(d: Digest) -> list[str]:
    rate = fmt.number(d.comment_rate, "percent")
    lines = [f"Survey responses in {d.week.label}: {d.responses:,} · {d.commented:,} with a comment ({rate})"]
    if d.since is not None:
        lines.append(
            f"Since {d.since.isoformat()}: {d.new_promoters:,} new promoters · {d.new_detractors:,} new detractors"
        )
    return lines


def comment_line(c: Comment, s: Style = SLACK) -> str:
    """A quoted comment, escaped and shortened; attributed to the customer id only."""
    text = " ".join(c.text.split())
    if len(text) > MAX_COMMENT:
        text = text[: MAX_COMMENT - 1] + "…"
    who = f"customer {s.e(c.customer_id)}" if c.customer_id else "anonymous"
    return f"• “{s.e(text)}” — {who}, score {c.score}, {c.date.isoformat()}"


def mover_line(m: Mover, s: Style = SLACK) -> str:
    """ "• NPS, region = South: +40 → +28 (▼ 12 pts, n = 210, 95% CI +18 to +38, significant)"."""
    arrow = "▲" if m.change > 0 else ("▼" if m.change < 0 else "▶")
    extra = [f"95% CI {ci}" for ci in (fmt.interval(m.interval, m.unit),) if ci] + [
        x for x in (fmt.segment_flags(m),) if x
    ]
    return (
        f"• {s.e(m.label)}, {s.e(m.dimension)} = {s.e(m.segment)}: "
        f"{fmt.number(m.previous, m.unit)} → {fmt.number(m.value, m.unit)} "
        f"({arrow} {fmt.magnitude(abs(m.change), m.unit)}, n = {m.n:,}" + "".join(f", {x}" for x in extra) + ")"
    )


def risk_lines(d: Digest, s: Style = SLACK) -> list[str]:
    r = d.risk
    lines = [f"{r.at_risk:,} customers likely to churn · {fmt.number(r.value_at_stake, 'money', d.currency)} at stake"]
    for cid, p_alive, stake in r.top:
        lines.append(
            f"• customer {s.e(cid)}: P(alive) {p_alive:.2f} · {fmt.number(stake, 'money', d.currency)} at stake"
        )
    gone = churned_note(r.already_churned)
    if gone:
        lines.append(gone)
    return lines


def issues_lines(d: Digest) -> list[str]:
    if not d.issues:
        return ["Data issues: none"]
    return [f"Data issues: {d.issues:,} — see /pulse issues or the Pulse Data Issues tab"]


def render_text(d: Digest, s: Style = PLAIN) -> str:
    """Plain text for the terminal (no mrkdwn escapes or bold marks); with FALLBACK, escaped for Slack's `text`."""
    out = [s.e(d.label)]
    for heading, lines in sections(d, s):
        if heading:
            out.append(f"\n{heading}")
        out += lines
    out.append(f"data as of {d.data_as_of:%Y-%m-%d %H:%M} UTC")
    return "\n".join(out)


def fallback_text(d: Digest) -> str:
    """The `text` of the Slack message (notifications, screen readers): the digest without bold marks, every sheet
    value escaped (Slack parses mentions and links in `text` too), shortened."""
    return cut(render_text(d, FALLBACK), MAX_FALLBACK)


def render_blocks(d: Digest) -> list[dict[str, Any]]:
    """Block Kit blocks within Slack's limits: ≤ 50 blocks, section text ≤ 3,000, header ≤ 150, total ≤ 12k chars."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(safe.plain(d.label), MAX_HEADER), emoji=False))]
    for i, (heading, lines) in enumerate(sections(d, SLACK)):
        if heading:
            blocks.append(DividerBlock())
        text = "\n".join(([f"*{fmt.escape(heading)}*"] if heading else []) + lines)
        if not heading and i == 0 and not d.quiet:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(text, MAX_SECTION))]))
        else:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(text, MAX_SECTION))))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"data as of {d.data_as_of:%Y-%m-%d %H:%M} UTC · `/pulse digest` to preview")
            ]
        )
    )
    return fit([b.to_dict() for b in blocks])


def cut(text: str, limit: int) -> str:
    """Shorten to `limit` characters with "…", never splitting an `&amp;` entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"


def size(blocks: list[dict[str, Any]]) -> int:
    """Characters Slack counts against the message: the serialised blocks."""
    return len(json.dumps(blocks, ensure_ascii=False))


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the header and the last context line; drop later sections (saying so) until the limits hold."""
    head, body, tail = blocks[:1], blocks[1:-1], blocks[-1:]
    dropped = 0
    while body and (
        len(head) + len(body) + len(tail) + (1 if dropped else 0) > MAX_BLOCKS
        or size(head + body + tail) + (200 if dropped else 0) > MAX_TOTAL_CHARS
    ):
        body.pop()
        dropped += 1
    return head + body + ([_left_out_note(dropped)] if dropped else []) + tail


def _left_out_note(k: int) -> dict[str, Any]:
    """The context line saying how many parts `fit` dropped."""
    text = f"…{k} more parts left out to fit Slack's limits — see `pulse digest --dry-run`"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
