"""Plain-text rendering of replies: the terminal output and the Slack `text` fallback."""

from __future__ import annotations

from datetime import datetime

from bot.render import format as fmt
from bot.replies import ErrorReply, MetricReply, OverviewReply, Reply, TableReply, TextReply
from metrics.result import MetricResult


def render_text(reply: Reply, currency: str = "USD") -> str:
    """One reply as readable plain text."""
    if isinstance(reply, MetricReply):
        return "\n".join(metric_lines(reply.result, currency) + _footer(reply.data_as_of, reply.notes))
    if isinstance(reply, OverviewReply):
        lines = [f"Overview — {reply.period.label}"]
        width = max(len(r.label) for r in reply.results) if reply.results else 0
        for r in reply.results:
            lines.append(
                f"  {r.label:<{width}}  {headline(r, currency):>14}  {fmt.change(r.previous, r.unit, currency)}"
            )
            extra = " · ".join(x for x in (fmt.quality_line(r), fmt.target(r, currency), *r.notes) if x)
            if extra:
                lines.append(f"  {'':<{width}}  {'':>14}  {extra}")
        return "\n".join(lines + _footer(reply.data_as_of, reply.notes))
    if isinstance(reply, TableReply):
        lines = table(reply.columns, reply.rows, reply.units, reply.row_units, currency)
        return "\n".join([reply.title, *lines, *_footer(reply.data_as_of, reply.notes)])
    if isinstance(reply, TextReply):
        parts = [reply.title]
        for heading, body in reply.sections:
            parts.append(f"\n{heading}\n{body}")
        return "\n".join(parts)
    if isinstance(reply, ErrorReply):
        hint = (
            f" — did you mean {reply.suggestion}?" if reply.suggestion and "did you mean" not in reply.message else ""
        )
        return f"error: {reply.message}{hint}"
    raise TypeError(f"cannot render {type(reply).__name__}")


def headline(r: MetricResult, currency: str = "USD") -> str:
    return fmt.number(r.value, r.unit, currency)


def metric_lines(r: MetricResult, currency: str = "USD") -> list[str]:
    """Headline, comparison, n, interval, target, breakdown and notes of one result."""
    scope = "".join(f" where {k}={v}" for k, v in r.where.items())
    lines = [f"{r.label} — {r.period.label}{scope}: {headline(r, currency)} {fmt.margin(r)}".rstrip()]
    lines.append(f"  {fmt.change(r.previous, r.unit, currency)}")
    counts = f"n = {r.n:,}" if r.n is not None else ""
    if fmt.counts(r):
        counts = fmt.counts(r) + (f" · {counts}" if counts and r.n != r.denominator else "")
    if counts:
        lines.append(f"  {counts}")
    if fmt.quality_line(r):
        lines.append(f"  {fmt.quality_line(r)}")
    if r.target:
        lines.append(f"  {fmt.target(r, currency)}")
    if r.breakdown:
        lines.append(f"  by {r.by}:")
        rows = [
            [
                s.segment,
                fmt.number(s.value, r.unit, currency),
                fmt.interval(s.interval, r.unit, currency) or None,
                f"{s.n:,}",
                fmt.number(s.previous, r.unit, currency),
                _seg_change(s.change, r.unit, currency),
                fmt.segment_flags(s),
            ]
            for s in r.breakdown
        ]
        lines += ["  " + line for line in table(["segment", "value", "95% CI", "n", "previous", "change", ""], rows)]
    if r.excluded_rows:
        lines.append(f"  {fmt.left_out(r.excluded_rows, fmt.METRIC_TABS)}")
    lines += [f"  note: {n}" for n in fmt.notes(r, currency)]
    return lines


def _seg_change(c: float | None, unit: str, currency: str = "USD") -> str:
    return "–" if fmt.is_missing(c) else fmt.delta(c, unit, currency)


def table(
    columns: list[str],
    rows: list[list],
    units: list[str | None] | None = None,
    row_units: list[str] | None = None,
    currency: str = "USD",
) -> list[str]:
    """A fixed-width text table; `units` and `row_units` (see TableReply) put each number in its unit."""
    units, row_units = list(units or []), list(row_units or [])
    cells = [
        [
            fmt.cell(v, fmt.column_unit(units, i, row_units[r] if r < len(row_units) else None), currency)
            for i, v in enumerate(row)
        ]
        for r, row in enumerate(rows)
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells if i < len(r)]) for i, c in enumerate(columns)]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    return out


def _footer(as_of: datetime | None, notes: list[str]) -> list[str]:
    out = [f"note: {n}" for n in notes]
    if as_of is not None:
        out.append(fmt.as_of(as_of))
    return out
