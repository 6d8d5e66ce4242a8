"""Result objects returned by every metric: value, unit, n, interval, comparison, target, breakdown."""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from metrics.periods import Period

Unit = Literal["percent", "nps", "score", "money", "count", "ratio", "days", "years"]


@dataclass(frozen=True)
class Interval:
    """A confidence interval around a value, in the value's unit."""

    low: float
    high: float
    level: float = 0.95


@dataclass(frozen=True)
class Comparison:
    """The same metric for the comparison period and whether the change exceeds the noise."""

    period: Period
    value: float | None
    change: float | None
    significant: bool | None = None
    p_value: float | None = None


@dataclass(frozen=True)
class TargetStatus:
    """Where the value stands against its configured target; `distance` is value - target."""

    target: float
    direction: Literal["higher", "lower"]
    met: bool
    distance: float


@dataclass(frozen=True)
class SegmentValue:
    """One row of a `by <dimension>` breakdown, with the headline's fields (METRICS.md "Breakdowns"): the 95%
    interval, the previous value and change, whether the change is beyond the noise (None where the noise
    is unknown) and `small_sample` when 0 < n < surveys.min_n."""

    segment: str
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    previous: float | None = None
    change: float | None = None
    interval: Interval | None = None
    significant: bool | None = None
    p_value: float | None = None
    small_sample: bool = False


@dataclass
class MetricResult:
    """One metric over one period. `value` is None when undefined (e.g. division by zero).

    Percentages are on a 0-100 scale. `details` holds metric-specific counts (promoters, |S|, |E| …);
    `notes` holds human warnings such as "small sample".
    """

    metric: str
    label: str
    unit: Unit
    period: Period
    value: float | None
    n: int | None = None
    numerator: float | None = None
    denominator: float | None = None
    interval: Interval | None = None
    previous: Comparison | None = None
    target: TargetStatus | None = None
    breakdown: list[SegmentValue] = field(default_factory=list)
    by: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    excluded_rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape: plain types, ISO dates, NaN/inf as null."""
        out: dict[str, Any] = {
            "metric": self.metric,
            "label": self.label,
            "unit": self.unit,
            "period": self.period.to_json(),
            "value": json_safe(self.value),
            "n": self.n,
        }
        if self.numerator is not None or self.denominator is not None:
            out["numerator"] = json_safe(self.numerator)
            out["denominator"] = json_safe(self.denominator)
        out["interval"] = json_safe(asdict(self.interval)) if self.interval else None
        out["previous"] = (
            {
                "period": self.previous.period.to_json(),
                "value": json_safe(self.previous.value),
                "change": json_safe(self.previous.change),
                "significant": self.previous.significant,
                "p_value": json_safe(self.previous.p_value),
            }
            if self.previous
            else None
        )
        out["target"] = json_safe(asdict(self.target)) if self.target else None
        if self.by:
            out["by"] = self.by
            out["breakdown"] = [json_safe(asdict(s)) for s in self.breakdown]
        if self.where:
            out["where"] = dict(self.where)
        out["excluded_rows"] = self.excluded_rows
        out["excluded_scope"] = "metric_tabs"  # what excluded_rows counts: this metric's tabs, not the workbook
        out["details"] = json_safe(self.details)
        out["notes"] = list(self.notes)
        return out


def json_safe(v: Any) -> Any:
    """JSON-safe copy: NaN/inf → None, numpy scalars → Python, dates → ISO strings."""
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v
