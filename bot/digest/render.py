"""The digest as Slack blocks, plain text (terminal and Slack fallback) and JSON; text first, every number copyable."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
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
from bot.i18n import N_, _, babel_locale, current, is_english
from bot.render import format as fmt
from bot.render import safe
from bot.render.limits import MAX_BLOCKS, MAX_FALLBACK, MAX_HEADER, MAX_SECTION, MAX_TOTAL_CHARS
from metrics.clv.risk import churned_note
from metrics.result import MetricResult

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
        out.append((_("Headline KPIs"), [kpi_line(k, d.currency, s) for k in d.kpis if k.metric != "nps"]))
    targets = [target_line(k, d.currency, s) for k in d.kpis if k.trailing.target is not None]
    if targets:
        out.append((_("Targets — {trailing}", trailing=_(TRAILING_LABEL)), targets))
    nps = d.kpi("nps")
    survey = (
        [nps_line(_("Week"), nps.week, s), nps_line(_(TRAILING_LABEL).capitalize(), nps.trailing, s, trailing=True)]
        if nps
        else []
    )
    out.append((_("NPS and surveys"), survey + survey_lines(d)))
    if d.promoter_comments:
        out.append((_("Promoters say"), [comment_line(c, s) for c in d.promoter_comments]))
    if d.detractor_comments:
        out.append((_("Detractors say"), [comment_line(c, s) for c in d.detractor_comments]))
    if d.movers:
        out.append(
            (
                _("Biggest movers by segment — {trailing} vs the 13 before", trailing=_(TRAILING_LABEL)),
                [mover_line(m, s) for m in d.movers],
            )
        )
    if d.risk is not None:
        out.append((_("Churn risk"), risk_lines(d, s)))
    if d.what_moved:
        out.append((_("What moved"), [s.e(fmt.note(line)) for line in d.what_moved]))
    out.append(("", issues_lines(d) + [s.e(fmt.note(n)) for n in d.notes]))
    return out


TRAILING_LABEL = N_("13 weeks")


def _days(d: Digest) -> str:
    """ "16 Nov – 22 Nov 2026" (English), "11月16日 – 2026年11月22日" (Chinese): the digest week's days."""
    if is_english():
        return f"{d.week.start:%d %b} – {d.week.last_day:%d %b %Y}"
    from babel.dates import format_skeleton

    loc = babel_locale(current())
    return f"{format_skeleton('MMMd', d.week.start, locale=loc)} – {fmt.day(d.week.last_day)}"


def periods_line(d: Digest) -> str:
    return _(
        "Week {week} ({days}) and the {trailing}, each vs the period before",
        week=fmt.period(d.week),
        days=_days(d),
        trailing=fmt.period(d.trailing),
    )


def quiet_line(d: Digest) -> str:
    return _(
        "No new rows dated in {week} ({days}) — nothing changed since the last digest.",
        week=fmt.period(d.week),
        days=_days(d),
    )


def kpi_line(k: Kpi, currency: str, s: Style = SLACK) -> str:
    """`*Revenue* $12,345.00 ▲ $1,000.00 vs 2026-W46 · 13 weeks $150,000.00 ▲ … vs previous 13 weeks`."""
    week, trailing = k.week, k.trailing
    return (
        f"{s.b(s.e(_(k.label)))}  {_value(week, currency)} {fmt.change(week.previous, k.unit, currency)}"
        f" · {_(TRAILING_LABEL)} {_value(trailing, currency)} {_short_change(trailing, currency)}"
    )


def _value(r: MetricResult, currency: str) -> str:
    return fmt.number(r.value, r.unit, currency)


def _short_change(r: MetricResult, currency: str) -> str:
    if not r.previous:
        return ""
    if not is_english():  # the trailing window's comparison named as a whole, in the current language
        return fmt.change(
            replace(r.previous, period=replace(r.previous.period, label=_("the 13 before"))), r.unit, currency
        )
    return fmt.change(r.previous, r.unit, currency).replace(f" vs {r.previous.period.label}", " vs the 13 before")


def target_line(k: Kpi, currency: str, s: Style = SLACK) -> str:
    """`*NPS* +42 / target +40 ▰▰▰▰▰▰▰▰▰▰ 100% ✓ met (+2 pts)`; lower-is-better metrics: the bar is target / value."""
    r = k.trailing
    t = r.target
    bar = fmt.progress_bar(t.target, r.value) if k.lower_is_better else fmt.progress_bar(r.value, t.target)
    if k.lower_is_better and r.value == 0:
        bar = fmt.progress_bar(1, 1)
    target, distance = fmt.number(t.target, r.unit, currency), fmt.delta(t.distance, r.unit, currency)
    label, value = s.b(s.e(_(k.label))), _value(r, currency)
    if t.met:
        return _(
            "{label} {value} / target {target}  {bar}  ✓ met ({distance})",
            label=label,
            value=value,
            target=target,
            bar=bar,
            distance=distance,
        )
    return _(
        "{label} {value} / target {target}  {bar}  ✗ missed ({distance})",
        label=label,
        value=value,
        target=target,
        bar=bar,
        distance=distance,
    )


def nps_line(title: str, r: MetricResult, s: Style = SLACK, trailing: bool = False) -> str:
    """NPS with its margin, counts and whether the change beats the noise."""
    d = r.details
    heading = _("{title}:", title=title)
    line = f"{s.b(heading)} NPS {fmt.number(r.value, 'nps')}"
    if d.get("margin") is not None:
        line += f" ± {d['margin']:.1f}"
    if {"promoters", "passives", "detractors"} <= d.keys():
        line += _(
            " (n = {n}: {promoters} promoters · {passives} passives · {detractors} detractors)",
            n=fmt.count(r.n or 0),
            promoters=fmt.count(d["promoters"]),
            passives=fmt.count(d["passives"]),
            detractors=fmt.count(d["detractors"]),
        )
    line += f" {_short_change(r, '') if trailing else fmt.change(r.previous, 'nps')}"
    notes = [n for n in r.notes if n.startswith("small sample")]
    return line + (f" — {s.e(fmt.note(notes[0]))}" if notes else "")


def survey_lines(d: Digest) -> list[str]:
    rate = fmt.number(d.comment_rate, "percent")
    lines = [
        _(
            "Survey responses in {week}: {responses} · {commented} with a comment ({rate})",
            week=fmt.period(d.week),
            responses=fmt.count(d.responses),
            commented=fmt.count(d.commented),
            rate=rate,
        )
    ]
    if d.since is not None:
        lines.append(
            _(
                "Since {day}: {promoters} new promoters · {detractors} new detractors",
                day=fmt.day(d.since),
                promoters=fmt.count(d.new_promoters),
                detractors=fmt.count(d.new_detractors),
            )
        )
    return lines


def comment_line(c: Comment, s: Style = SLACK) -> str:
    """A quoted comment, escaped and shortened; attributed to the customer id only."""
    text = " ".join(c.text.split())
    if len(text) > MAX_COMMENT:
        text = text[: MAX_COMMENT - 1] + "…"
    who = _("customer {id}", id=s.e(c.customer_id)) if c.customer_id else _("anonymous")
    return _("• “{text}” — {who}, score {score}, {day}", text=s.e(text), who=who, score=c.score, day=fmt.day(c.date))


def mover_line(m: Mover, s: Style = SLACK) -> str:
    """ "• NPS, region = South: +40 → +28 (▼ 12 pts, n = 210, 95% CI +18 to +38, significant)"."""
    arrow = "▲" if m.change > 0 else ("▼" if m.change < 0 else "▶")
    extra = [_("95% CI {interval}", interval=ci) for ci in (fmt.interval(m.interval, m.unit),) if ci] + [
        x for x in (fmt.segment_flags(m),) if x
    ]
    sep = _(", ")
    return _(
        "• {label}, {dimension} = {segment}: {before} → {after} ({arrow} {size}, n = {n}{extra})",
        label=s.e(_(m.label)),
        dimension=s.e(m.dimension),
        segment=s.e(m.segment),
        before=fmt.number(m.previous, m.unit),
        after=fmt.number(m.value, m.unit),
        arrow=arrow,
        size=fmt.magnitude(abs(m.change), m.unit),
        n=fmt.count(m.n),
        extra="".join(f"{sep}{x}" for x in extra),
    )


def risk_lines(d: Digest, s: Style = SLACK) -> list[str]:
    r = d.risk
    lines = [
        _(
            "{n} customers likely to churn · {stake} at stake",
            n=fmt.count(r.at_risk),
            stake=fmt.number(r.value_at_stake, "money", d.currency),
        )
    ]
    for cid, p_alive, stake in r.top:
        lines.append(
            _(
                "• customer {id}: P(alive) {p_alive} · {stake} at stake",
                id=s.e(cid),
                p_alive=f"{p_alive:.2f}",
                stake=fmt.number(stake, "money", d.currency),
            )
        )
    gone = churned_note(r.already_churned)
    if gone:
        lines.append(fmt.note(gone))
    return lines


def issues_lines(d: Digest) -> list[str]:
    if not d.issues:
        return [_("Data issues: none")]
    return [_("Data issues: {n} — see /pulse issues or the Pulse Data Issues tab", n=fmt.count(d.issues))]


def render_text(d: Digest, s: Style = PLAIN) -> str:
    """Plain text for the terminal (no mrkdwn escapes or bold marks); with FALLBACK, escaped for Slack's `text`."""
    out = [s.e(title(d))]
    for heading, lines in sections(d, s):
        if heading:
            out.append(f"\n{heading}")
        out += lines
    out.append(fmt.as_of(d.data_as_of))
    return "\n".join(out)


def fallback_text(d: Digest) -> str:
    """The `text` of the Slack message (notifications, screen readers): the digest without bold marks, every sheet
    value escaped (Slack parses mentions and links in `text` too), shortened."""
    return cut(render_text(d, FALLBACK), MAX_FALLBACK)


def render_blocks(d: Digest) -> list[dict[str, Any]]:
    """Block Kit blocks within Slack's limits: ≤ 50 blocks, section text ≤ 3,000, header ≤ 150, total ≤ 12k chars."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(safe.plain(title(d)), MAX_HEADER), emoji=False))]
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
            elements=[MarkdownTextObject(text=_("{as_of} · `/pulse digest` to preview", as_of=fmt.as_of(d.data_as_of)))]
        )
    )
    return fit([b.to_dict() for b in blocks])


def title(d: Digest) -> str:
    """ "Weekly pulse — 2026-W47 · region=North" in the current language."""
    scope = "".join(f" · {k}={v}" for k, v in d.segment.items())
    return _("Weekly pulse — {week}{scope}", week=fmt.period(d.week), scope=scope)


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
    text = _("…{k} more parts left out to fit Slack's limits — see `pulse digest --dry-run`", k=k)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
