"""Charts for the analyses (PNG bytes): survival curves, forecast, cohort heat map, sized to stay readable on a phone.

matplotlib's default font (DejaVu Sans) has no CJK glyphs and the server has no CJK font, so a chart carries words —
title, axis labels, legend words — only in English (`words()`); in another language it is drawn language-neutral
(numbers, period labels, segment names, `M0…Mk`) and its title goes into the Slack message it is posted with
(bot.slack.charts)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.i18n import is_english
from metrics.survival import Curve, SurvivalResult

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 6.4, 120  # 960 × 768 px
OVERALL_COLOR = "#222222"
SEGMENT_COLORS = ("#3b6ea8", "#c0392b", "#2e8b57", "#d68910", "#7d3c98", "#17a589", "#a04000", "#5d6d7e")
MAX_SEGMENTS = len(SEGMENT_COLORS)


def words() -> bool:
    """Whether charts drawn now carry words (titles, axis labels): only in English, the one language the font has."""
    return is_english()


def survival_chart(result: SurvivalResult) -> bytes:
    """One PNG: the overall curve and up to 8 segment curves, each with its 95% band and its median marked."""
    # Figure (not pyplot) keeps no global state, so server threads can draw concurrently.
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    segments = result.segments[:MAX_SEGMENTS]
    _curve(ax, result.overall, OVERALL_COLOR, width=3.0 if not segments else 2.0, overall=result.overall.segment)
    for curve, color in zip(segments, SEGMENT_COLORS, strict=False):
        _curve(ax, curve, color, width=2.5)
    ax.axhline(0.5, color="#999999", linestyle=":", linewidth=1.2)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(labelsize=12)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=12, frameon=True, framealpha=0.9)
    if not words():
        return _png(fig)
    ax.set_xlabel("Days since signup", fontsize=14)
    ax.set_ylabel("Still a customer", fontsize=14)
    title = "Customer survival" + (f" by {result.by}" if result.by else "")
    subtitle = f"Kaplan–Meier, as of {result.as_of.isoformat()} · shaded: 95% band · ● median"
    if result.logrank_p is not None:
        subtitle += f" · log-rank p = {result.logrank_p:.2g}"
    fig.suptitle(title, fontsize=18, fontweight="bold")
    ax.set_title(subtitle, fontsize=11, color="#555555")
    if len(result.segments) > MAX_SEGMENTS:
        ax.annotate(
            f"showing {MAX_SEGMENTS} of {len(result.segments)} segments",
            (1, 0),
            xycoords="axes fraction",
            ha="right",
            va="bottom",
            fontsize=10,
            color="#555555",
        )
    return _png(fig)


def _curve(ax, c: Curve, color: str, *, width: float, overall: str = "") -> None:
    median = "–" if c.median_days is None else f"{c.median_days:,.0f} d"
    # without words: segment names are data; the overall curve ("all customers") is Σ
    name = c.segment if words() or c.segment != overall else "Σ"
    label = f"{c.segment} (n={c.n:,}, median {median})" if words() else f"{name} (n={c.n:,})"
    ax.step(c.days, c.survival, where="post", color=color, linewidth=width, label=label)
    ax.fill_between(c.days, c.low, c.high, step="post", color=color, alpha=0.12, linewidth=0)
    if c.median_days is not None:
        ax.plot([c.median_days], [0.5], marker="o", markersize=9, color=color, markeredgecolor="white", zorder=5)


def forecast_chart(title: str, history: dict[str, float], points: list[tuple[str, float, float, float]]) -> bytes:
    """One PNG: the monthly history and the forecast months with their 80% interval shaded."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN * 0.75), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    labels = list(history) + [p[0] for p in points]
    xs = range(len(labels))
    ax.plot(
        list(xs)[: len(history)],
        list(history.values()),
        color=OVERALL_COLOR,
        linewidth=2.5,
        marker="o",
        markersize=4,
        label="actual",
    )
    if points:
        start = len(history) - 1 if history else 0
        fx = (
            [start] + [len(history) + i for i in range(len(points))]
            if history
            else [len(history) + i for i in range(len(points))]
        )
        fy = ([list(history.values())[-1]] if history else []) + [p[1] for p in points]
        ax.plot(
            fx, fy, color=SEGMENT_COLORS[0], linewidth=2.5, linestyle="--", marker="o", markersize=5, label="forecast"
        )
        px = [len(history) + i for i in range(len(points))]
        ax.fill_between(
            px,
            [p[2] for p in points],
            [p[3] for p in points],
            color=SEGMENT_COLORS[0],
            alpha=0.18,
            linewidth=0,
            label="80% interval",
        )
    step = max(1, len(labels) // 8)
    ax.set_xticks(list(xs)[::step], labels[::step], fontsize=11)
    ax.tick_params(labelsize=11)
    ax.grid(True, alpha=0.3)
    if words():
        ax.legend(loc="upper left", fontsize=11, frameon=True, framealpha=0.9)
        fig.suptitle(title, fontsize=16, fontweight="bold")
    return _png(fig)


def cohort_heatmap(title: str, cohorts: list[str], shares) -> bytes:
    """One PNG: cohorts (rows) × months since signup (columns), shaded by the share with an order (0–100%)."""
    import numpy as np

    data = np.asarray(shares, dtype=float)
    fig = Figure(figsize=(WIDTH_IN, max(3.0, 0.45 * len(cohorts) + 1.6)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(data), cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_yticks(range(len(cohorts)), cohorts, fontsize=10)
    ax.set_xticks(
        range(data.shape[1] if data.ndim == 2 else 0),
        [f"M{k}" for k in range(data.shape[1] if data.ndim == 2 else 0)],
        fontsize=10,
    )
    if words():
        ax.set_xlabel("Months since signup", fontsize=12)
    if data.ndim == 2 and data.size and data.shape[1] <= 13:
        for (i, k), v in np.ndenumerate(data):
            if v == v:
                ax.text(k, i, f"{v:.0f}", ha="center", va="center", fontsize=8, color="white" if v > 55 else "#222222")
    fig.colorbar(image, ax=ax, format=PercentFormatter(100, decimals=0), shrink=0.8)
    if words():
        fig.suptitle(title, fontsize=14, fontweight="bold")
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
