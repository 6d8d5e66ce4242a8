"""Benchmark: reading a generated .xlsx into a typed snapshot, per-cell (old) vs columnar (new), DuckDB as reference.

Each reader runs in its own child process, which reports its CPU time (user + sys) and peak RSS; CPU time is
quoted rather than wall time because the machines this runs on are shared. DuckDB's `read_xlsx` (excel extension,
from the `duckdb-ext-excel` wheel, no network) reads the same sheets into typed columns without our validation.
That wheel exists for DuckDB 1.4.4 only (the project itself depends on a newer DuckDB), so overlay both:

Run: uv run --with duckdb==1.4.4 --with duckdb-ext-excel==1.4.4.20260205 python bench/read_bench.py
         [--orders 200000] [--xlsx PATH] [--repeat 2]
Without the overlay the DuckDB row says why it did not run (its excel extension would be downloaded at run time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABS = ("Customers", "Orders", "Responses", "Complaints", "Spend")
MODES = {
    "imports only (pandas, pyarrow, fastexcel, calamine, config)": "imports",
    "per-cell read + typing (old)": "old",
    "columnar read + typing (new)": "new",
    "DuckDB read_xlsx, all tabs (reference, no validation)": "duckdb",
}


def write_dataset(path: Path, orders: int) -> None:
    """bench.dataset's Sheets-scale data at `orders` orders (customers = orders/5, answers 0.3×, complaints 0.05×)."""
    import pandas as pd

    from bench.dataset import source_frames
    from sheets.xlsx import write_xlsx

    tabs = {}
    for name, frame in source_frames(date(2026, 11, 15), orders).items():
        columns = []
        for c in frame.columns:
            s = frame[c]
            if pd.api.types.is_datetime64_any_dtype(s):
                columns.append([None if pd.isna(v) else v.date() for v in s])
            else:
                columns.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in s])
        tabs[name] = [list(frame.columns), *map(list, zip(*columns))]
    write_xlsx(str(path), tabs)


def child(mode: str, path: str) -> None:
    """Run one reader in this process and print its rows read, CPU seconds and peak RSS as JSON."""
    sys.path.insert(0, str(ROOT))
    start = time.process_time()
    import fastexcel  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import python_calamine  # noqa: F401

    from config import Settings
    from sheets.local import LocalWorkbook
    from sheets.snapshot import load_snapshot

    rows = 0
    if mode in ("old", "new"):
        snap = load_snapshot(LocalWorkbook(path), Settings(), columnar=mode == "new")
        rows = sum(len(f) for f in snap.frames.values())
    elif mode == "duckdb":
        import importlib.metadata as md

        import duckdb

        try:
            dist = md.distribution("duckdb-ext-excel")
        except md.PackageNotFoundError:
            sys.exit(f"duckdb {duckdb.__version__} without the duckdb-ext-excel wheel (see the docstring's Run line)")
        ext = next(f for f in dist.files if str(f).endswith(".duckdb_extension"))
        con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
        con.execute("SET enable_progress_bar = false")
        con.execute(f"LOAD '{ext.locate()}'")
        for tab in TABS:
            rows += con.sql(f"SELECT * FROM read_xlsx('{path}', sheet = '{tab}')").fetch_arrow_table().num_rows
    print(json.dumps({"rows": rows, "cpu": time.process_time() - start, "rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry the parent's peak over the fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, path: Path) -> dict | str:
    """One child run: its report, or why it could not run."""
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def workbook(given: Path | None, orders: int, tmp: Path) -> Path:
    """The workbook to measure: `given`, else one generated in `tmp` with `orders` orders."""
    if given is not None:
        return given
    path = tmp / f"bench-{orders}.xlsx"
    print(f"writing {path.name} …", file=sys.stderr)
    write_dataset(path, orders)
    return path


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200_000, help="orders in the generated workbook (default 200000)")
    parser.add_argument("--xlsx", type=Path, help="read this workbook instead of generating one")
    parser.add_argument("--repeat", type=int, default=2, help="runs per reader; the lowest CPU time is shown")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = workbook(args.xlsx, args.orders, Path(tmp))
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB · {machine()}\n")
        print("| reader | rows | CPU s (user+sys) | peak RSS MB | CPU vs columnar |")
        print("|---|---|---|---|---|")
        results = {}
        for label, mode in MODES.items():
            runs = [measure(mode, path) for _ in range(args.repeat)]
            ok = [r for r in runs if isinstance(r, dict)]
            results[mode] = min(ok, key=lambda r: r["cpu"]) if ok else runs[0]
        base = results["new"]["cpu"] if isinstance(results.get("new"), dict) else None
        for label, mode in MODES.items():
            r = results[mode]
            if not isinstance(r, dict):
                print(f"| {label} | – | not run: {r} | – | – |")
                continue
            ratio = f"{r['cpu'] / base:.2f}×" if base else "–"
            print(f"| {label} | {r['rows']:,} | {r['cpu']:.2f} | {r['rss_mb']:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
