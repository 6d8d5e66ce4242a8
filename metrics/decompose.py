"""What moved a metric: a mix/rate split of its change by segment, and how retention moves with other metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SegmentPart:
    """One segment's share of a change: `mix` from its weight moving, `rate` from its own value moving."""

    segment: str
    weight_before: float
    weight_after: float
    value_before: float | None
    value_after: float | None
    mix: float
    rate: float

    @property
    def total(self) -> float:
        return self.mix + self.rate


@dataclass
class Decomposition:
    """The change of a metric between two periods, split so that Σ parts + residual == total exactly."""

    before: float
    after: float
    parts: list[SegmentPart] = field(default_factory=list)
    residual: float = 0.0

    @property
    def total(self) -> float:
        return self.after - self.before


# How far apart, relative to the totals, two sums of the same numbers added in another order can be (a few thousand
# ulps): a smaller residual is rounding, not rows outside the segments.
NOISE = 1e-12


def mix_rate(
    before: pd.DataFrame,
    after: pd.DataFrame,
    total_before: float | None = None,
    total_after: float | None = None,
) -> Decomposition:
    """Split the change of a weighted average Σ wᵢ·vᵢ into per-segment mix and rate effects.

    `before`/`after` have columns segment, weight (e.g. the rate's denominator) and value (the segment's
    metric). The symmetric split  Δᵢ = (w₁−w₀)((v₀+v₁)/2 − V̄) + (v₁−v₀)(w₀+w₁)/2, V̄ the mean of the two
    overall averages, adds up exactly (Σ (w₁−w₀) = 0); a weight shift between equal segments is no mix.
    A segment missing from one period takes its other period's value (all of its change is mix).
    When the overall values are given and differ from Σ wᵢ·vᵢ (rows that belong to no segment), the
    difference is reported as `residual`, so the parts always add up to the total change; a difference within
    float rounding of the totals (NOISE: the same sums added in another order, by numpy or a warehouse) is none.
    """
    b = _weights(before)
    a = _weights(after)
    both = b.join(a, how="outer", lsuffix="_0", rsuffix="_1")
    w0 = both["w_0"].fillna(0.0).to_numpy()
    w1 = both["w_1"].fillna(0.0).to_numpy()
    v0 = both["value_0"].to_numpy(dtype=float)
    v1 = both["value_1"].to_numpy(dtype=float)
    v0f = np.where(np.isnan(v0), np.where(np.isnan(v1), 0.0, v1), v0)
    v1f = np.where(np.isnan(v1), v0f, v1)
    explained_before = float(np.sum(w0 * v0f))
    explained_after = float(np.sum(w1 * v1f))
    # Shares sum to 1 in both periods, so Σ Δwᵢ = 0 and measuring values from the average keeps the sum
    # exact while weight moving between segments of equal value counts as no mix at all.
    centre = (explained_before + explained_after) / 2 if np.isclose(w0.sum(), 1) and np.isclose(w1.sum(), 1) else 0.0
    mix = (w1 - w0) * ((v0f + v1f) / 2 - centre)
    rate = (v1f - v0f) * (w0 + w1) / 2
    tb = explained_before if total_before is None else float(total_before)
    ta = explained_after if total_after is None else float(total_after)
    parts = [
        SegmentPart(str(seg), float(w0[i]), float(w1[i]), _num(v0[i]), _num(v1[i]), float(mix[i]), float(rate[i]))
        for i, seg in enumerate(both.index)
    ]
    parts.sort(key=lambda p: -abs(p.total))
    residual = (ta - tb) - float(np.sum(mix) + np.sum(rate))
    if abs(residual) <= NOISE * (abs(ta) + abs(tb)):  # the totals summed in another order: no row outside the parts
        residual = 0.0
    return Decomposition(before=tb, after=ta, parts=parts, residual=residual)


def _weights(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.set_index(frame["segment"].astype(str))
    weight = f["weight"].astype(float).clip(lower=0)
    total = weight.sum()
    share = weight / total if total > 0 else weight * 0.0
    return pd.DataFrame({"w": share, "value": f["value"].astype(float)})


def _num(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


Direction = Literal["rose", "fell", "flat"]
# Why a segment moved the total: its own value moved, or its share of the weight grew or shrank.
Cause = Literal["own_value", "share_grew", "share_shrank"]


@dataclass(frozen=True)
class Driver:
    """One segment the what-moved sentence names: the size of its part of the change (≥ 0) and its cause."""

    segment: str
    amount: float
    cause: Cause


@dataclass(frozen=True)
class Explanation:
    """The parts of the what-moved sentence as data (bot/render words them): the direction and size (≥ 0) of the
    change and the largest parts pulling the same way; no drivers means no single segment stands out."""

    direction: Direction
    amount: float
    drivers: tuple[Driver, ...] = ()


def explanation(d: Decomposition, top: int = 2) -> Explanation:
    """The largest `top` parts of `d` that move the same way as its total, each with its cause, e.g. NPS fell 6
    points: 4 from South (its own value moved) and 1 from West (its share grew)."""
    change = d.total
    if abs(change) < 1e-9:
        return Explanation("flat", 0.0)
    same_sign = [p for p in d.parts if p.total * change > 0][:top]
    drivers = tuple(Driver(p.segment, abs(p.total), _cause(p)) for p in same_sign)
    return Explanation("rose" if change > 0 else "fell", abs(change), drivers)


def _cause(p: SegmentPart) -> Cause:
    """Rate when the segment's own value moved at least as much as its weight did, else which way its share went."""
    if abs(p.rate) >= abs(p.mix):
        return "own_value"
    return "share_grew" if p.weight_after > p.weight_before else "share_shrank"


@dataclass(frozen=True)
class Correlation:
    """Spearman correlation between retention and another metric across months × segments."""

    metric: str
    rho: float | None
    p_value: float | None
    n: int


def spearman_table(frame: pd.DataFrame, target: str, others: list[str]) -> list[Correlation]:
    """Correlate column `target` with each column in `others` (rows = month × segment observations)."""
    from scipy.stats import spearmanr  # lazy: scipy.stats costs ~0.9 s to import; only `why` needs it

    out = []
    for name in others:
        pair = frame[[target, name]].dropna()
        if len(pair) < 3 or pair[target].nunique() < 2 or pair[name].nunique() < 2:
            out.append(Correlation(name, None, None, len(pair)))
            continue
        rho, p = spearmanr(pair[target], pair[name])
        out.append(Correlation(name, float(rho), float(p), len(pair)))
    return out
