"""Benchmark: pushed-down questions on a DuckDB file of N orders (default 10 M), generated inside DuckDB so the rows
never pass through Python; Python's peak RSS is reported too.

Run: uv run python bench/warehouse_bench.py [--orders 10000000] [--file /tmp/bench.duckdb] [--memory]
`--memory` also answers the same questions through the in-memory path (reads every row; use a small --orders).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.context import Context
from bot.query import answer
from config import parse_settings
from sheets.warehouse.source import open_sql_workbook

QUESTIONS = ("revenue 2026-Q3", "nps 2026-Q3", "repeat 2026-Q3 by region", "aov 2026-10 where plan=Pro vs 2025-10")
OVERVIEW = ("revenue", "orders", "purchasers", "aov", "frequency", "repeat", "nps", "csat")


def generate(path: Path, orders: int) -> float:
    """customers = orders / 5, responses = orders / 10, dates over 2024-01-01 … 2026-11-15; seconds taken."""
    import duckdb

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    customers, answers = max(orders // 5, 1), max(orders // 10, 1)
    with duckdb.connect(str(path)) as con:
        con.execute(f"""
            CREATE TABLE customers AS SELECT 'C' || i AS customer_id, TIMESTAMP '2024-01-01' + INTERVAL (i % 1000) DAY
                AS signup_date, ['North', 'South', 'East', 'West'][1 + i % 4] AS region,
                ['Free', 'Pro', 'Team'][1 + i % 3] AS plan FROM range({customers}) t(i);
            CREATE TABLE orders AS SELECT 'O' || i AS order_id, 'C' || (hash(i) % {customers}) AS customer_id,
                TIMESTAMP '2024-01-01' + INTERVAL (hash(i * 7) % 1050) DAY AS order_date,
                CASE WHEN i % 50 = 0 THEN -10.0 ELSE round(5 + (hash(i * 13) % 20000) / 100.0, 2) END AS amount
                FROM range({orders}) t(i);
            CREATE TABLE responses AS SELECT TIMESTAMP '2024-01-01' + INTERVAL (hash(i * 3) % 1050) DAY AS date,
                CASE WHEN i % 2 = 0 THEN 'NPS' ELSE 'CSAT' END AS survey,
                CASE WHEN i % 2 = 0 THEN hash(i * 5) % 11 ELSE 1 + hash(i * 5) % 5 END AS score,
                'C' || (hash(i * 11) % {customers}) AS customer_id FROM range({answers}) t(i);
            CHECKPOINT;
        """)
    return time.perf_counter() - started


def context(path: Path, pushdown: bool) -> Context:
    settings = parse_settings({"source": {"kind": "sql", "url": f"duckdb://{path}", "pushdown": pushdown}})
    clock = lambda: datetime(2026, 11, 16, 12, tzinfo=UTC)  # noqa: E731
    return Context(settings, open_sql_workbook(settings), clock=clock, one_shot=True)


def timed(ctx: Context, *questions: str) -> float:
    """Seconds to answer the questions one after the other."""
    started = time.perf_counter()
    for q in questions:
        answer(q, ctx)
    return time.perf_counter() - started


def cpu() -> float:
    """CPU seconds (user + system) of this process so far, DuckDB's threads included: fairer than wall time on a
    shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def clv_summary(ctx: Context) -> None:
    """The BG/NBD + Gamma-Gamma per-customer summary computed by the warehouse (one GROUP BY), then the model
    fitted on it, each with its wall and CPU seconds."""
    from bot import pushed_series
    from metrics.clv import model_from_totals
    from sheets.warehouse.series import customer_totals

    with pushed_series.pushed(ctx) as p:
        assert p is not None, "the bench tables must be pushable"
        wall, used = time.perf_counter(), cpu()
        totals = customer_totals(p.wh, ctx.today())
        print(
            f"pushdown: CLV summary ({len(totals):,} customers): {time.perf_counter() - wall:.2f} s wall, "
            f"{cpu() - used:.2f} s CPU"
        )
        wall, used = time.perf_counter(), cpu()
        model = model_from_totals(totals, ctx.today(), ctx.options())
        print(
            f"pushdown: BG/NBD + Gamma-Gamma fit and predictions on it ({model.note or 'converged'}): "
            f"{time.perf_counter() - wall:.2f} s wall, {cpu() - used:.2f} s CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--file", default="/tmp/pulse-bench.duckdb")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--keep", action="store_true", help="reuse the file when it exists")
    parser.add_argument("--clv-only", action="store_true", help="only the CLV summary (after the source checks)")
    parser.add_argument("--no-clv", action="store_true", help="skip the CLV summary (100 M orders: 20 M customers)")
    args = parser.parse_args()
    path = Path(args.file)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    if not (args.keep and path.exists()):
        seconds = generate(path, args.orders)
        print(f"generate {args.orders:,} orders: {seconds:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
    for pushdown in (True, False) if args.memory else (True,):
        ctx = context(path, pushdown)
        label = "pushdown" if pushdown else "in memory"
        if args.clv_only:
            print(f"{label}: first question (checks, connection) {timed(ctx, 'orders 2025-Q1'):.2f} s")
            clv_summary(ctx)
            break
        print(f"{label}: first question (checks, connection) {timed(ctx, 'orders 2025-Q1'):.2f} s", flush=True)
        for q in QUESTIONS:
            print(f"{label}: {q}: {timed(ctx, q):.2f} s", flush=True)
        base = timed(ctx, "customers 2025-Q1")
        print(f"{label}: first customer question (the per-customer base, once per file version) {base:.2f} s")
        overview = [f"{m} 2026-Q2" for m in OVERVIEW]
        print(f"{label}: 8 headline metrics of 2026-Q2: {timed(ctx, *overview):.2f} s")
        used = cpu()
        print(f"{label}: overview last-quarter (13 metrics): {timed(ctx, 'overview last-quarter'):.2f} s wall", end="")
        print(f", {cpu() - used:.2f} s CPU; peak RSS so far {peak_mb():.0f} MB", flush=True)
        if pushdown and not args.no_clv:
            clv_summary(ctx)
    print(f"Python peak RSS {peak_mb():.0f} MB")


def peak_mb() -> float:
    """The process's peak resident set so far, DuckDB's buffers included (it runs in this process)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
