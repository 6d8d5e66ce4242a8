"""The digest's one combined trend chart (PNG bytes): 13 weekly points of revenue, NPS and churn, sized for a phone."""

from __future__ import annotations

import io
import math

from bot.digest.builder import Digest, TrendPoint
from bot.render.format import CURRENCY_SYMBOLS

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 9.6, 120  # 960 × 1152 px: wide enough to stay sharp when a phone scales it down
PANELS = {
    "revenue": ("Revenue per week", "bar", "#3b6ea8"),
    "nps": ("NPS (± 95% margin)", "line", "#2e8b57"),
    "churn": ("Churn % per week", "line", "#c0392b"),
}


def render_chart(digest: Digest) -> bytes | None:
    """One PNG with a panel per trend metric; None when the digest has no trend (a quiet week)."""
    points = digest.trend
    metrics = [m for m in PANELS if any(p.values.get(m) is not None for p in points)]
    if not points or not metrics:
        return None
    # matplotlib is imported here, not at module level: it costs ~0.5 s and only a digest with a trend draws.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure (not pyplot) keeps no global state, so scheduler threads can draw concurrently.
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(metrics), 1, sharex=True, squeeze=False)[:, 0]
    labels = [p.week.label.split("-")[-1] for p in points]
    x = list(range(len(points)))
    for ax, metric in zip(axes, metrics, strict=True):
        _panel(ax, metric, points, x, digest.currency)
    axes[-1].set_xticks(x, labels, rotation=0, fontsize=11)
    scope = "".join(f" · {k}={v}" for k, v in digest.segment.items())
    fig.suptitle(f"Last {len(points)} weeks to {digest.week.label}{scope}", fontsize=17, fontweight="bold")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _panel(ax, metric: str, points: list[TrendPoint], x: list[int], currency: str) -> None:
    from matplotlib.ticker import FuncFormatter

    title, kind, color = PANELS[metric]
    values = [p.values.get(metric) for p in points]
    ys = [math.nan if v is None else v for v in values]
    if kind == "bar":
        ax.bar(x, [0 if math.isnan(v) else v for v in ys], color=color, width=0.7)
    else:
        if metric == "nps":
            low = [
                math.nan if (v is None or p.nps_margin is None) else max(-100, v - p.nps_margin)
                for v, p in zip(values, points, strict=True)
            ]
            high = [
                math.nan if (v is None or p.nps_margin is None) else min(100, v + p.nps_margin)
                for v, p in zip(values, points, strict=True)
            ]
            ax.fill_between(x, low, high, color=color, alpha=0.15, linewidth=0)
        ax.plot(x, ys, color=color, marker="o", linewidth=2.5, markersize=6)
    ax.set_title(title, loc="left", fontsize=15)
    ax.margins(y=0.18)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _short(v, metric, currency, axis=True)))
    ax.tick_params(axis="y", labelsize=12)
    ax.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    last = next((v for v in reversed(values) if v is not None), None)
    if last is not None:
        ax.annotate(
            _short(last, metric, currency),
            (x[len(values) - 1 - values[::-1].index(last)], last),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=13,
            fontweight="bold",
            color=color,
        )


def _short(v: float, metric: str, currency: str, axis: bool = False) -> str:
    """Compact labels: $75.4k, +18, 0.2%."""
    if metric == "revenue":
        symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= size:
                return f"{symbol}{v / size:.{0 if axis else 1}f}{suffix}"
        return f"{symbol}{v:,.0f}"
    if metric == "nps":
        return f"{v:+.0f}" if round(v) else "0"
    return f"{v:.{2 if axis else 1}f}%"
