"""Benchmark, end to end (issue 16 item 5): what a user waits for, from the .xlsx, in fresh processes.

1. `pulse ask "overview last-quarter"` on the generated workbook in a cold process with an empty state dir:
   wall time, CPU time and peak RSS, beside DuckDB's `read_xlsx` of every tab in its own process (the reference;
   typed columns, no validation, no metrics), printed as ratios.
2. The same question again in a new process, the workbook unchanged: the parsed snapshot comes from the state dir.
3. `pulse ask` on a tiny workbook (the demo), cold.
4. A server's view: the snapshot loaded as `pulse serve` loads it at start (`bot.serve.preload`: the disk snapshot
   of step 2, the per-snapshot and per-segment arrays, the chart module), then a 50-question mix of `by`, `where`,
   `cohorts`, `risk`, `clv` and plain metrics answered one after another through `bot.query.answer` (the code
   behind Slack and the add-on, without HTTP): latency percentiles, every `by` breakdown, steady and peak RSS.

Run: uv run --with duckdb==1.4.4 --with duckdb-ext-excel==1.4.4.20260205 python bench/e2e_bench.py
         [--orders 1000000] [--xlsx PATH]
Without the DuckDB overlay its rows say why they did not run. Numbers are measured, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-25"
QUESTION = "overview last-quarter"
MIX = [
    "revenue last-quarter by plan",
    "nps last-quarter by region",
    "churn last-quarter by channel",
    "aov last-month by region",
    "retention last-quarter where plan=Pro",
    "revenue last-6-months where region=North",
    "cohorts",
    "risk",
    "risk where plan=Pro",
    "clv",
    "overview last-month",
    "csat last-quarter by plan",
    "complaints last-month by region",
    "repeat last-quarter by channel",
    "customers last-month where channel=Social",
    "orders 2026-10 by plan",
    "clv by plan",
]


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM)."""
    return _status("VmHWM")


def rss_mb() -> float:
    """This process's RSS now (VmRSS)."""
    return _status("VmRSS")


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ask(state: str, workbook: str, report: str) -> None:
    """`pulse ask QUESTION` in this process (its answer to /dev/null); peak RSS to `report`."""
    os.environ["PULSE_STATE_DIR"] = state
    sys.path.insert(0, str(ROOT))
    from bot.cli import main

    with open(os.devnull, "w") as null:
        sys.stdout = null
        code = main(["ask", QUESTION, "--workbook", workbook, "--today", TODAY])
        sys.stdout = sys.__stdout__
    Path(report).write_text(json.dumps({"code": code, "rss_mb": peak_rss_mb()}))


def child_serve(state: str, workbook: str, report: str) -> None:
    """Load as `pulse serve` does, then answer the mix; latencies and RSS to `report`."""
    os.environ["PULSE_STATE_DIR"] = state
    sys.path.insert(0, str(ROOT))
    from bot.context import build_context
    from bot.query import answer
    from bot.serve import preload
    from config import load_settings

    t0 = time.perf_counter()
    ctx = build_context(load_settings(None), workbook=workbook, today=date.fromisoformat(TODAY))
    preload(ctx).join()  # what `pulse serve` does at start: the snapshot, its arrays, the chart module
    ready = time.perf_counter() - t0
    loaded_rss = rss_mb()
    latencies: list[tuple[str, float, str]] = []
    for i in range(50):
        question = MIX[i % len(MIX)]
        t = time.perf_counter()
        reply = answer(question, ctx)
        latencies.append((question, time.perf_counter() - t, type(reply).__name__))
    Path(report).write_text(
        json.dumps(
            {
                "ready_s": ready,
                "loaded_rss_mb": loaded_rss,
                "rss_mb": rss_mb(),
                "peak_rss_mb": peak_rss_mb(),
                "latencies": latencies,
            }
        )
    )


def run(args: list[str]) -> tuple[float, float, dict]:
    """One child: wall seconds, CPU seconds (user + sys) and its report."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        report = f.name
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args, report], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        return wall, cpu, {"error": tail}
    data = json.loads(Path(report).read_text() or "{}")
    os.unlink(report)
    return wall, cpu, data


def duckdb(path: Path) -> tuple[float, float, dict]:
    """DuckDB's read_xlsx of every tab in its own process (bench/read_bench.py's reference reader)."""
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "read_bench.py"), "--child", "duckdb", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        return wall, cpu, {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return wall, cpu, json.loads(done.stdout.strip().splitlines()[-1])


def compile_bytecode() -> None:
    """Compile every installed and project module to .pyc first, as the Docker image does (UV_COMPILE_BYTECODE=1).

    Without it, a machine with PYTHONDONTWRITEBYTECODE=1 (this project's dev VMs) compiles every imported module
    from source in every process: about 2 s CPU per `pulse ask`, which no deployment pays."""
    paths = [sysconfig.get_paths()["purelib"], *(str(ROOT / p) for p in ("bot", "metrics", "sheets", "config"))]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *paths], capture_output=True, check=False)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the generated workbook")
    parser.add_argument("--xlsx", type=Path, help="use this workbook (written by bench/read_bench.py) instead")
    parser.add_argument("--child-ask", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ask:
        child_ask(*args.child_ask)
        return
    if args.child_serve:
        child_serve(*args.child_serve)
        return
    sys.path.insert(0, str(ROOT))
    from bench.read_bench import machine, workbook
    from sheets.demo import write_demo_workbook

    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        path = workbook(args.xlsx, args.orders, Path(tmp))
        tiny = write_demo_workbook(Path(tmp) / "demo.xlsx", date.fromisoformat(TODAY))
        state, tiny_state = Path(tmp) / "state", Path(tmp) / "tiny-state"
        me = str(Path(__file__).resolve())
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB · {machine()}\n", flush=True)

        cold = run([me, "--child-ask", str(state), str(path)])
        hit = run([me, "--child-ask", str(state), str(path)])
        ref = duckdb(path)
        small = run([me, "--child-ask", str(tiny_state), str(tiny)])
        serve = run([me, "--child-serve", str(state), str(path)])

        print("| what | wall s | CPU s | peak RSS MB | goal |")
        print("|---|---|---|---|---|")
        row = "| {} | {:.2f} | {:.2f} | {} | {} |"
        for label, (wall, cpu, data), goal in (
            (f'`pulse ask "{QUESTION}"`, cold process, empty state dir', cold, "≤ 5 s, ≤ 500 MB"),
            ("the same again, workbook unchanged (disk snapshot)", hit, "≤ 1 s"),
            ("DuckDB `read_xlsx` of every tab, cold process (reference)", ref, "—"),
            ("`pulse ask` on the demo workbook, cold", small, "≤ 0.7 s"),
        ):
            print(
                row.format(label, wall, cpu, f"{data['rss_mb']:.0f}" if "rss_mb" in data else data.get("error"), goal)
            )
        if "rss_mb" in ref and "rss_mb" in cold:
            print(
                f"\ncold ask vs DuckDB read_xlsx: wall {cold[0] / ref[0]:.2f}×, CPU {cold[1] / ref[1]:.2f}×, "
                f"peak RSS {cold[2]['rss_mb'] / ref[2]['rss_mb']:.2f}× (goal ≤ 1.5×)"
            )
        data = serve[2]
        if "latencies" not in data:
            print(f"\nserve: not run: {data.get('error')}")
            return
        times = [s for _, s, _ in data["latencies"]]
        by = [s for q, s, _ in data["latencies"] if " by " in q]
        print(
            f"\nserve: ready in {data['ready_s']:.2f} s (disk snapshot + per-snapshot and per-segment arrays); "
            f"RSS {data['loaded_rss_mb']:.0f} MB loaded, {data['rss_mb']:.0f} MB after 50 questions, "
            f"peak {data['peak_rss_mb']:.0f} MB (goal steady ≤ 800 MB)"
        )
        print(
            f"50 questions: p50 {percentile(times, 0.5) * 1000:.0f} ms, p95 {percentile(times, 0.95) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms (goal p95 ≤ 300 ms); `by` breakdowns: max {max(by) * 1000:.0f} ms, "
            f"median {percentile(by, 0.5) * 1000:.0f} ms (goal each ≤ 100 ms)"
        )
        slowest: dict[str, float] = {}
        for q, s, kind in data["latencies"]:
            slowest[f"{q} ({kind})"] = max(slowest.get(f"{q} ({kind})", 0.0), s)
        for q, s in sorted(slowest.items(), key=lambda kv: -kv[1]):
            print(f"  {s * 1000:8.0f} ms  {q}")


if __name__ == "__main__":
    main()
