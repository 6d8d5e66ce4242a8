"""Evaluate one alert rule: the metric over a trailing window vs the window before, against its condition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.i18n import _
from config import ConfigError, Settings
from config.settings import AlertRule, segment_filter
from metrics.engine import MetricError, compute, spec_for
from metrics.options import MetricOptions
from metrics.periods import Period, comparison_period, parse_period
from metrics.result import MetricResult
from metrics.tables import Tables


@dataclass(frozen=True)
class Evaluation:
    """A rule's condition on the current data: whether it holds, the numbers behind it, and why."""

    rule: AlertRule
    holds: bool
    result: MetricResult | None
    reason: str
    small_sample: bool
    error: str | None = None


def validate_rules(settings: Settings) -> None:
    """Check every rule at start-up: known metric, usable condition, well-formed segment, unique names."""
    problems = []
    names = set()
    for i, rule in enumerate(settings.alerts):
        where = f"config: alerts.{i} ({rule.name})"
        if rule.name in names:
            problems.append(f"{where}: duplicate alert name; names identify alert state")
        names.add(rule.name)
        try:
            spec_for(rule.metric)
        except MetricError as err:
            hint = f" — did you mean {err.suggestion}?" if err.suggestion else ""
            problems.append(f"{where}: metric = '{rule.metric}': {err}{hint}")
            continue
        if rule.condition == "crosses_target" and rule.metric not in settings.targets:
            problems.append(
                f"{where}: condition 'crosses_target' needs a target; add `{rule.metric} = …` under [targets]"
            )
        if rule.condition == "significant_change" and spec_for(rule.metric).kind == "value":
            problems.append(f"{where}: '{rule.metric}' has no noise model; use moves_points or moves_percent")
        try:
            segment_filter(rule.segment)
        except ValueError as err:
            problems.append(f"{where}: {err}")
    if problems:
        raise ConfigError("\n".join(problems))


def window(rule: AlertRule, today: date) -> Period:
    """The trailing `window_days` full days ending yesterday (the `last-N-days` period)."""
    return parse_period(f"last-{rule.window_days}-days", today)


def evaluate(rule: AlertRule, t: Tables, today: date, o: MetricOptions, min_n: int) -> Evaluation:
    """Whether `rule`'s condition holds now. A rule the data cannot answer (its segment names a column or value
    the sheet no longer has) is an Evaluation carrying that error, so the other rules still evaluate and post."""
    p = window(rule, today)
    try:
        r = compute(rule.metric, t, p, o, where=segment_filter(rule.segment), compare_to=comparison_period(p))
    except (MetricError, ValueError) as err:
        return unanswerable(rule, err)
    return judge(rule, r, min_n)


def unanswerable(rule: AlertRule, err: Exception) -> Evaluation:
    """The Evaluation of a rule the data cannot answer (its segment names a column or value the data lacks)."""
    hint = f" — did you mean {err.suggestion}?" if getattr(err, "suggestion", None) else ""
    return Evaluation(
        rule, False, None, "cannot evaluate", False, f"{err}{hint}; fix this rule's segment in the config"
    )


def judge(rule: AlertRule, r: MetricResult, min_n: int) -> Evaluation:
    """Whether `rule`'s condition holds for `r`, the metric over the rule's window compared with the window before
    (computed in memory or by the warehouse)."""
    c = r.previous
    small = r.n is not None and r.n < min_n
    holds, reason = False, _("no value")
    if r.value is None:
        return Evaluation(rule, False, r, _("no value in the window"), small)
    if rule.condition == "crosses_target":
        holds = bool(r.target and not r.target.met)
        reason = _("misses its target") if holds else _("meets its target")
    elif c is None or c.change is None:
        reason = _("no value in the previous window")
    elif rule.condition == "moves_points":
        holds = abs(c.change) > rule.threshold
        reason = _(
            "moved {change} points (threshold {threshold})", change=f"{c.change:+.1f}", threshold=f"{rule.threshold:g}"
        )
    elif rule.condition == "moves_percent":
        rel = abs(c.change) / abs(c.value) * 100 if c.value else float("inf")
        holds = rel > rule.threshold
        reason = _("moved {change}% (threshold {threshold}%)", change=f"{rel:.1f}", threshold=f"{rule.threshold:g}")
    elif rule.condition == "significant_change":
        holds = bool(c.significant)
        reason = _("changed beyond the noise") if holds else _("change within the noise")
    return Evaluation(rule, holds, r, reason, small)
