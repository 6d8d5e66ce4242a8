"""Survey metrics from the Responses tab: NPS, and CSAT-style satisfaction (CSAT, CSI, any configured survey)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics import stats
from metrics.customers import per_tables
from metrics.options import MetricOptions, Scale
from metrics.periods import Period
from metrics.result import Interval, MetricResult
from metrics.tables import Tables

DEFAULT_SCALES = MetricOptions().scales
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6


def scale_for(survey: str, o: MetricOptions) -> Scale:
    """The configured scale of `survey` (names match case-insensitively), else the built-in default."""
    for scales in (o.scales, DEFAULT_SCALES):
        for name, scale in scales.items():
            if name.strip().casefold() == survey.strip().casefold():
                return scale
    raise ValueError(f"survey '{survey}' has no scale; configured surveys: {', '.join(o.scales) or 'none'}")


@dataclass(frozen=True)
class Answers:
    """The Responses tab as aligned arrays: trimmed case-folded survey name, day and numeric score (NaN if not)."""

    survey: np.ndarray
    day: np.ndarray
    score: np.ndarray


def all_answers(t: Tables) -> Answers:
    """The answers of `t`, built once per Tables object."""
    return per_tables(t, "survey_answers", _build_answers)


def _build_answers(t: Tables) -> Answers:
    r = t.responses
    return Answers(
        survey=r["survey"].astype("string").str.strip().str.casefold().fillna("").to_numpy(dtype=object),
        day=r["date"].to_numpy(dtype="datetime64[ns]"),
        score=pd.to_numeric(r["score"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan),
    )


def answers(t: Tables, p: Period, survey: str, scale: Scale) -> tuple[np.ndarray, int]:
    """Valid integer scores of `survey` in `p`, and how many of its answers in `p` were unusable
    (non-numeric, non-integer or outside the scale)."""
    a = all_answers(t)
    chosen = (
        (a.survey == survey.strip().casefold())
        & (a.day >= np.datetime64(p.start_ts))
        & (a.day < np.datetime64(p.end_ts))
    )
    score = a.score[chosen]
    with np.errstate(invalid="ignore"):
        valid = (score == np.round(score)) & (score >= scale.min) & (score <= scale.max)
    return score[valid].astype("int64"), int((~valid).sum())


def nps_band(value: float | None) -> str | None:
    """The METRICS.md band of an NPS, judged on the integer it is shown as (so "+30" never reads "average").

    Each boundary belongs to the higher band, as "≥ 70" does in the spec: <0, [0, 30), [30, 70), ≥70.
    """
    if value is None:
        return None
    shown = round(value)
    if shown < 0:
        return "needs immediate improvement"
    if shown < 30:
        return "average"
    if shown < 70:
        return "excellent"
    return "world-class"


def nps(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Net Promoter Score: 100 × (promoters − detractors) / n, with its 95% margin clipped to [−100, 100]."""
    scores, invalid = answers(t, p, "NPS", scale_for("NPS", o))
    return nps_of(scores, invalid, t.excluded.get("responses", 0), p, o)


def nps_of(scores: np.ndarray, invalid: int, excluded: int, p: Period, o: MetricOptions) -> MetricResult:
    """The same from the period's valid scores and unusable-answer count (in memory, or a warehouse's histogram);
    `excluded` counts the Responses rows validation rejected."""
    n = len(scores)
    promoters = int((scores >= PROMOTER_FROM).sum())
    detractors = int((scores <= DETRACTOR_UP_TO).sum())
    value = 100 * (promoters - detractors) / n if n else None
    margin = stats.nps_margin(promoters, detractors, n)
    interval = None
    if value is not None and margin is not None:
        interval = Interval(max(-100.0, value - margin), min(100.0, value + margin))
    return MetricResult(
        metric="nps",
        label="Net Promoter Score",
        unit="nps",
        period=p,
        value=value,
        n=n,
        interval=interval,
        excluded_rows=excluded + invalid,
        details={
            "promoters": promoters,
            "passives": n - promoters - detractors,
            "detractors": detractors,
            "n": n,
            "promoter_share": stats.percent(promoters, n),
            "detractor_share": stats.percent(detractors, n),
            "margin": margin,
            "band": nps_band(value),
        },
        notes=_notes(n, o, invalid),
    )


def satisfaction(t: Tables, p: Period, o: MetricOptions, survey: str, metric: str, label: str) -> MetricResult:
    """CSAT-style result: value = % of answers ≥ satisfied_from (Wilson interval); the mean score in details."""
    scores, invalid = answers(t, p, survey, scale_for(survey, o))
    return satisfaction_of(scores, invalid, t.excluded.get("responses", 0), p, o, survey, metric, label)


def satisfaction_of(
    scores: np.ndarray, invalid: int, excluded: int, p: Period, o: MetricOptions, survey: str, metric: str, label: str
) -> MetricResult:
    """The same from the period's valid scores and unusable-answer count (in memory, or a warehouse's histogram)."""
    scale = scale_for(survey, o)
    n = len(scores)
    satisfied = int((scores >= scale.satisfied_from).sum())
    mean = float(scores.mean()) if n else None
    sd = float(scores.std(ddof=1)) if n >= 2 else None
    ci = stats.mean_interval(mean, sd, n) if mean is not None and sd is not None else None
    return stats.proportion_result(
        metric,
        label,
        p,
        satisfied,
        n,
        min_n=o.min_n,
        excluded_rows=excluded + invalid,
        details={
            "satisfied": satisfied,
            "n": n,
            "mean": mean,
            "mean_interval": ci,
            "sd": sd,
            "scale": {"min": scale.min, "max": scale.max, "satisfied_from": scale.satisfied_from},
        },
        notes=_invalid_note(invalid),
    )


def csat(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Customer satisfaction (survey "CSAT"): share satisfied, mean score alongside."""
    return satisfaction(t, p, o, "CSAT", "csat", "CSAT")


def csi(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Customer satisfaction index (survey "CSI"), computed like CSAT on its own scale."""
    return satisfaction(t, p, o, "CSI", "csi", "CSI")


def survey_metric(name: str) -> Callable[[Tables, Period, MetricOptions], MetricResult]:
    """A CSAT-style metric for any survey named in `o.scales` (metric name = the survey name, lower case)."""

    def metric(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
        return satisfaction(t, p, o, name, name.strip().lower(), name.strip())

    metric.__name__ = name.strip().lower()
    metric.__doc__ = f"Share of satisfied answers in survey '{name}'."
    return metric


def _notes(n: int, o: MetricOptions, invalid: int) -> list[str]:
    small = stats.small_sample_note(n, o.min_n)
    return ([small] if small else []) + _invalid_note(invalid)


def _invalid_note(invalid: int) -> list[str]:
    return [f"{invalid} answers left out: score not an integer on the survey's scale"] if invalid else []
