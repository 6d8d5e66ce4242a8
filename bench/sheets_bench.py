"""Benchmark, end to end from a Google Sheet (issue 16): `pulse ask` against the Sheets API fake over HTTP.

The generator's data (bench/dataset.py; 1M orders by default) is served by the Sheets API fake (tests/fakes) on
127.0.0.1 as read-only bulk tabs, each cell as an UNFORMATTED_VALUE read returns it (dates as serial numbers).
Every run is a fresh process with the real gspread client and a service-account key the fake signed:

1. `pulse ask "overview last-quarter" --sheet KEY`, empty state dir: bytes down, requests, wall, CPU, peak RSS.
2. The same again, the sheet unchanged: Drive `files.get` says so, nothing is downloaded.
3. The same after an edit (Drive's modifiedTime moves on): downloaded and read again.
4. The reference in the same run: the per-cell read + typing of the same download (the path before issue 16),
   in its own process (`load_snapshot(columnar=False)`), no metrics.

Run: uv run python bench/sheets_bench.py [--orders 1000000]
CPU time (user + sys of the child) is the figure to compare: the machines this runs on are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-25"
QUESTION = "overview last-quarter"
KEY = "1BenchSheetKey_abcdefghijklmnopqrstuvwxyz0"
EPOCH = date(1899, 12, 30)
# Imported once before measuring, so no measured run pays for compiling bytecode.
WARM = (
    "import bot.cli, bot.query, bot.context, sheets.google, sheets.google.workbook, sheets.snapshot_store, "
    "gspread, google.oauth2.service_account, google.auth.transport.requests, pyarrow, pyarrow.compute, "
    "metrics.engine, metrics.clv, bot.render, bot.render.text, scipy.stats"
)


def sheet_rows(orders: int) -> dict[str, list[list[Any]]]:
    """bench.dataset's data at `orders` orders as Sheets returns it unformatted: dates as serial day numbers,
    whole numbers as JSON integers, an empty cell as "" (trailing ones trimmed); all-empty columns left out."""
    import numpy as np
    import pandas as pd

    from bench.dataset import source_frames

    out = {}
    for name, frame in source_frames(date(2026, 11, 15), orders).items():
        columns = []
        for c in frame.columns:
            s = frame[c]
            if pd.api.types.is_datetime64_any_dtype(s):
                days = ((s - pd.Timestamp(EPOCH)).dt.days).astype("Int64")
                columns.append(["" if pd.isna(v) else int(v) for v in days])
            elif pd.api.types.is_float_dtype(s):
                values = s.to_numpy()
                whole = np.isfinite(values) & (values == np.floor(values))
                pairs = zip(values, whole, strict=True)
                columns.append(["" if np.isnan(v) else (int(v) if w else float(v)) for v, w in pairs])
            elif pd.api.types.is_integer_dtype(s):
                columns.append([int(v) for v in s])
            else:
                columns.append(["" if pd.isna(v) else str(v) for v in s])
        rows = [list(r) for r in zip(*columns, strict=True)]
        for row in rows:
            while row and row[-1] == "":
                row.pop()
        out[name] = [list(frame.columns), *rows]
    return out


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, report: str) -> None:
    """`pulse ask` (mode "ask") or the per-cell read of the sheet (mode "percell") in this process; with
    PULSE_BENCH_PROFILE set, under cProfile, its stats written to that path plus the run's number."""
    sys.path.insert(0, str(ROOT))
    profile = os.environ.get("PULSE_BENCH_PROFILE")
    if profile:
        import cProfile

        n = len(list(Path(profile).parent.glob(Path(profile).name + ".*")))
        cProfile.runctx("_child(mode, report)", globals(), {"mode": mode, "report": report}, f"{profile}.{n}")
        return
    _child(mode, report)


def _child(mode: str, report: str) -> None:
    if mode == "ask":
        from bot.cli import main

        with open(os.devnull, "w") as null:
            sys.stdout = null
            code = main(["ask", QUESTION, "--sheet", KEY, "--today", TODAY])
            sys.stdout = sys.__stdout__
        Path(report).write_text(json.dumps({"code": code, "rss_mb": peak_rss_mb()}))
        return
    from config import Settings
    from sheets.google import open_google_workbook
    from sheets.snapshot import load_snapshot

    settings = Settings()
    snap = load_snapshot(open_google_workbook(settings, KEY), settings, columnar=mode != "percell")
    rows = sum(len(f) for f in snap.frames.values())
    Path(report).write_text(json.dumps({"rows": rows, "rss_mb": peak_rss_mb()}))


def run(fake: Any, mode: str, env: dict[str, str]) -> dict[str, Any]:
    """One child process: wall, CPU (user + sys), peak RSS, the requests it sent and the bytes it was sent."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        report = f.name
    fake.clear_log()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, report], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out: dict[str, Any] = {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "bytes": fake.bytes_sent(),
        "kinds": fake.kinds(),
    }
    if done.returncode != 0:
        out["error"] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    else:
        out.update(json.loads(Path(report).read_text() or "{}"))
        if out.get("code"):
            out["error"] = f"pulse ask exited {out['code']}: {done.stderr.strip()[-300:]}"
    os.unlink(report)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the generated sheet")
    parser.add_argument("--cold-only", action="store_true", help="only the cold `pulse ask` (e.g. for profiling)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sys.path.insert(0, str(ROOT))
    from bench.read_bench import machine
    from tests.fakes.sheets_api import FakeSheets

    print(f"generating {args.orders:,} orders …", file=sys.stderr)
    tabs = sheet_rows(args.orders)
    with FakeSheets() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.add_spreadsheet(KEY, tabs={"Sheet1": []})
        for name, rows in tabs.items():
            fake.add_bulk_tab(KEY, name, rows)
        env = {
            **os.environ,
            "PULSE_SHEETS_API_URL": fake.url,
            "PULSE_STATE_DIR": str(Path(tmp) / "state"),
            "PULSE_GOOGLE_CREDENTIALS_JSON": json.dumps(fake.service_account()),
            "NO_PROXY": "127.0.0.1,localhost",
            "PULSE_SHEETS_TIMEOUT_SECONDS": "600",
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a deployed install has its bytecode; write it once here
        subprocess.run([sys.executable, "-c", WARM], cwd=ROOT, env=env, check=True)
        cells = sum(len(r) for rows in tabs.values() for r in rows)
        print(f"{args.orders:,} orders, {cells:,} cells in {len(tabs)} tabs · {machine()}\n", flush=True)
        cold = run(fake, "ask", env)
        if args.cold_only:
            print(json.dumps({k: v for k, v in cold.items() if k != "kinds"}))
            return
        hit = run(fake, "ask", env)
        fake.touch(KEY)
        changed = run(fake, "ask", env)
        ref = run(fake, "percell", {**env, "PULSE_STATE_DIR": str(Path(tmp) / "ref-state")})
        print("| what | MB down | requests | wall s | CPU s | peak RSS MB |")
        print("|---|---|---|---|---|---|")
        for label, r in (
            (f'`pulse ask "{QUESTION}"`, cold process, empty state dir', cold),
            ("the same again, sheet unchanged (Drive modifiedTime)", hit),
            ("the same after an edit (modifiedTime moved on)", changed),
            ("reference: per-cell read + typing of the sheet, no metrics (the path before)", ref),
        ):
            kinds = ", ".join(f"{k} ×{r['kinds'].count(k)}" for k in dict.fromkeys(r["kinds"]))
            rss = f"{r['rss_mb']:.0f}" if "rss_mb" in r else r.get("error", "?")
            print(f"| {label} | {r['bytes'] / 1e6:.1f} | {kinds} | {r['wall']:.2f} | {r['cpu']:.2f} | {rss} |")
            if "error" in r:
                print(f"  error: {r['error']}")
        print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
