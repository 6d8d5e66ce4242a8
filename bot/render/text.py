"""Plain-text rendering of replies: the terminal output and the Slack `text` fallback."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from bot.i18n import _, is_english
from bot.render import format as fmt
from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from metrics.result import MetricResult


def render_text(reply: Reply, currency: str = "USD") -> str:
    """One reply as readable plain text."""
    if isinstance(reply, MetricReply):
        return "\n".join(metric_lines(reply.result, currency) + _footer(reply.data_as_of, reply.notes))
    if isinstance(reply, OverviewReply):
        lines = [_("Overview — {period}", period=fmt.period(reply.period))]
        width = max(_width(fmt.label(r)) for r in reply.results) if reply.results else 0
        for r in reply.results:
            value = _pad(headline(r, currency), 14, right=True)
            lines.append(f"  {_pad(fmt.label(r), width)}  {value}  {fmt.change(r.previous, r.unit, currency)}")
            extra = " · ".join(x for x in (fmt.quality_line(r), fmt.target(r, currency), *map(fmt.note, r.notes)) if x)
            if extra:
                lines.append(f"  {'':<{width}}  {'':>14}  {extra}")
        return "\n".join(lines + _footer(reply.data_as_of, reply.notes))
    if isinstance(reply, TableReply):
        lines = table(reply.columns, reply.rows, reply.units, reply.row_units, currency, reply.small_sample)
        return "\n".join([reply.title, *lines, *_footer(reply.data_as_of, reply.notes)])
    if isinstance(reply, TextReply):
        parts = [reply.title]
        for heading, body in reply.sections:
            parts.append(f"\n{heading}\n{body}")
        return "\n".join(parts)
    if isinstance(reply, ErrorReply):
        message = fmt.note(reply.message)
        if reply.suggestion and not _suggests(message):
            return _("error: {message} — did you mean {suggestion}?", message=message, suggestion=reply.suggestion)
        return _("error: {message}", message=message)
    raise TypeError(f"cannot render {type(reply).__name__}")


def headline(r: MetricResult, currency: str = "USD") -> str:
    return fmt.number(r.value, r.unit, currency)


def metric_lines(r: MetricResult, currency: str = "USD") -> list[str]:
    """Headline, comparison, n, interval, target, breakdown and notes of one result."""
    title = _(
        "{label} — {period}{scope}: {value}",
        label=fmt.label(r),
        period=fmt.period(r.period),
        scope=fmt.scope(r.where),
        value=headline(r, currency),
    )
    lines = [f"{title} {fmt.margin(r)}".rstrip()]
    lines.append(f"  {fmt.change(r.previous, r.unit, currency)}")
    counts = f"n = {fmt.count(r.n)}" if r.n is not None else ""
    if fmt.counts(r):
        counts = fmt.counts(r) + (f" · {counts}" if counts and r.n != r.denominator else "")
    if counts:
        lines.append(f"  {counts}")
    if fmt.quality_line(r):
        lines.append(f"  {fmt.quality_line(r)}")
    if r.target:
        lines.append(f"  {fmt.target(r, currency)}")
    if r.breakdown:
        lines.append("  " + _("by {dimension}:", dimension=r.by))
        rows = [
            [
                s.segment,
                fmt.number(s.value, r.unit, currency),
                fmt.interval(s.interval, r.unit, currency) or None,
                fmt.count(s.n),
                fmt.number(s.previous, r.unit, currency),
                _seg_change(s.change, r.unit, currency),
                fmt.segment_flags(s),
            ]
            for s in r.breakdown
        ]
        columns = [_("segment"), _("value"), _("95% CI"), "n", _("previous"), _("change"), ""]
        lines += ["  " + line for line in table(columns, rows)]
    if r.excluded_rows:
        lines.append(f"  {fmt.left_out(r.excluded_rows, fmt.METRIC_TABS)}")
    lines += ["  " + _("note: {note}", note=fmt.note(n)) for n in fmt.notes(r, currency)]
    return lines


def _seg_change(c: float | None, unit: str, currency: str = "USD") -> str:
    return "–" if fmt.is_missing(c) else fmt.delta(c, unit, currency)


def table(
    columns: list[str],
    rows: list[list],
    units: list[str | None] | None = None,
    row_units: list[str] | None = None,
    currency: str = "USD",
    small_sample: list[tuple[int, int]] | None = None,
) -> list[str]:
    """A fixed-width text table; `units` and `row_units` (see TableReply) put each number in its unit, and each
    (row, column) in `small_sample` is marked " *"."""
    units, row_units, marked = list(units or []), list(row_units or []), set(small_sample or [])
    cells = [
        [
            fmt.cell(v, fmt.column_unit(units, i, row_units[r] if r < len(row_units) else None), currency)
            + (" *" if (r, i) in marked else "")
            for i, v in enumerate(row)
        ]
        for r, row in enumerate(rows)
    ]
    widths = [max([_width(c)] + [_width(r[i]) for r in cells if i < len(r)]) for i, c in enumerate(columns)]
    out = ["  ".join(_pad(c, w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    out += ["  ".join(_pad(v, w) for v, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    return out


def _width(text: str) -> int:
    """Columns `text` takes in a terminal or code block: East Asian wide characters (汉字, full-width ：) take two."""
    if is_english():  # English output stays exactly as before, whatever the sheet's values hold
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (`str.ljust`/`rjust` for wide characters)."""
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _suggests(message: str) -> bool:
    """Whether an error message already offers its suggestion ("did you mean …", "是否想输入 …")."""
    return "did you mean" in message or _("did you mean") in message


def _footer(as_of: datetime | None, notes: list[str]) -> list[str]:
    out = [_("note: {note}", note=fmt.note(n)) for n in notes]
    if as_of is not None:
        out.append(fmt.as_of(as_of))
    return out
