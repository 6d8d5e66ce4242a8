"""Benchmark: `overview` for one period and the whole `Pulse Summary` for 24 months on a Sheets-scale dataset.

Run: uv run python bench/metrics_bench.py [--small]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dataset import sheets_scale  # noqa: E402
from bot.context import warm  # noqa: E402
from bot.tabs import summary_months, summary_tab  # noqa: E402
from metrics.engine import compute  # noqa: E402
from metrics.options import MetricOptions  # noqa: E402
from metrics.periods import parse_period  # noqa: E402
from metrics.registry import OVERVIEW  # noqa: E402


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="a 10x smaller dataset for a quick look")
    args = parser.parse_args()
    scale = 10 if args.small else 1
    today = date(2026, 11, 25)
    t0 = time.perf_counter()
    t = sheets_scale(today, 200_000 // scale, 1_000_000 // scale, 300_000 // scale, 50_000 // scale)
    build = time.perf_counter() - t0
    o = MetricOptions()
    period = parse_period("last-month", today)
    months = summary_months(t, today)
    warmup = timed(lambda: warm(t), repeat=1)
    cold = timed(lambda: [compute(m, t, period, o) for m in OVERVIEW], repeat=1)
    overview = timed(lambda: [compute(m, t, period, o) for m in OVERVIEW])
    summary = timed(lambda: summary_tab(t, months, o), repeat=1)
    rows = [
        ("dataset", f"{len(t.customers):,} customers, {len(t.orders):,} orders, {len(t.responses):,} answers, {len(t.complaints):,} complaints"),
        ("build dataset (s)", f"{build:.2f}"),
        ("per-snapshot arrays, built once when a snapshot loads (s)", f"{warmup:.3f}"),
        ("overview, first call after loading (s)", f"{cold:.3f}  (target ≤ 1 s)"),
        ("overview, one period (s, best of 3)", f"{overview:.3f}  (target ≤ 1 s)"),
        (f"Pulse Summary, {len(months)} months (s)", f"{summary:.3f}  (target ≤ 5 s)"),
        ("machine", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
