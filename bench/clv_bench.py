"""Benchmark: BG/NBD + Gamma-Gamma fits on CDNOW and a simulated 200,000-customer set, next to lifetimes.

Run: uv run python bench/clv_bench.py            (ours only, unless lifetimes is installed)
     uv run --with lifetimes python bench/clv_bench.py   (adds the lifetimes library in a throwaway overlay)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from metrics.clv import BetaGeoFitter, GammaGammaFitter  # noqa: E402
from metrics.clv.simulate import simulate_bgnbd, simulate_spend  # noqa: E402

BG = (0.243, 4.414, 0.793, 2.426)
GG = (6.25, 3.74, 15.44)


def cdnow() -> pd.DataFrame:
    raw = pd.read_csv(ROOT / "tests" / "data" / "cdnow_summary.csv")
    return pd.DataFrame({"frequency": raw["x"], "recency": raw["t_x"], "T": raw["T"], "monetary": raw["zbar"]})


def simulated(n: int, seed: int, days: bool) -> pd.DataFrame:
    """n customers from the published CDNOW parameters, 26–39 weeks old; `days` rounds times to whole days."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(26, 39, n)
    d = simulate_bgnbd(*BG, T, rng)
    if days:
        d["T"] = np.round(d["T"] * 7) / 7
        d["recency"] = np.minimum(np.round(d["recency"] * 7) / 7, d["T"])
    d["monetary"] = np.round(simulate_spend(*GG, d["frequency"], rng), 2)
    return d


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def ours(d: pd.DataFrame) -> dict[str, float]:
    bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    gg = GammaGammaFitter().fit(d["frequency"], d["monetary"])
    assert bg.converged and gg.converged, (bg.message, gg.message)
    return {**bg.params, **gg.params, "loglik": bg.loglik}


def theirs(d: pd.DataFrame) -> dict[str, float]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    rep = (d["frequency"] > 0) & (d["monetary"] > 0)
    gg = GammaGammaFitter().fit(d["frequency"][rep], d["monetary"][rep])
    ll = -bg._negative_log_likelihood_ * len(d)
    return {
        **{k: float(v) for k, v in bg.params_.items()},
        **{"gamma" if k == "v" else k: float(v) for k, v in gg.params_.items()},
        "loglik_scaled_time": ll,
    }


def lifetimes_status() -> str | None:
    try:
        import lifetimes  # noqa: F401
    except Exception as exc:  # any import failure is reported, not raised
        return f"{type(exc).__name__}: {exc}"
    return None


def same_3_sig(a: float, b: float) -> bool:
    return float(f"{a:.3g}") == float(f"{b:.3g}") or abs(a - b) <= 5e-4 * max(abs(a), abs(b))


def machine() -> str:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return "n/a"

    return "\n".join(
        [
            f"nproc: {sh('nproc')}",
            sh("lscpu | head -n 15"),
            f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}",
            f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000, help="simulated customers (default 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs for our fits")
    args = parser.parse_args()
    why_not = lifetimes_status()
    sets = [
        ("CDNOW (2,357, weeks)", cdnow()),
        (f"simulated {args.n:,}, times in days", simulated(args.n, 1, days=True)),
        (f"simulated {args.n:,}, continuous times", simulated(args.n, 2, days=False)),
    ]
    names = ["r", "alpha", "a", "b", "p", "q", "gamma"]
    print(
        f"BG/NBD + Gamma-Gamma fit wall time in seconds (best of {args.repeat} runs; lifetimes one run on the large sets)"
    )
    print(machine())
    if why_not:
        print(f"lifetimes not importable: {why_not}")
    print()
    print("| data | distinct rows | ours s | lifetimes s | speed-up | params equal to 3 sig. digits |")
    print("|---|---|---|---|---|---|")
    detail = []
    for label, d in sets:
        distinct = len(d[["frequency", "recency", "T"]].drop_duplicates())
        t_ours, p_ours = best_of(lambda: ours(d), args.repeat)
        if why_not:
            print(f"| {label} | {distinct:,} | {t_ours:.3f} | – | – | – |")
            detail.append((label, p_ours, None))
            continue
        t_theirs, p_theirs = best_of(lambda: theirs(d), args.repeat if len(d) < 10_000 else 1)
        equal = all(same_3_sig(p_ours[k], p_theirs[k]) for k in names)
        print(
            f"| {label} | {distinct:,} | {t_ours:.3f} | {t_theirs:.2f} | {t_theirs / t_ours:.0f}× | {'yes' if equal else 'NO'} |"
        )
        detail.append((label, p_ours, p_theirs))
    print()
    print("| data | fit | " + " | ".join(names) + " | BG/NBD loglik |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for label, p_ours, p_theirs in detail:
        print(f"| {label} | ours | " + " | ".join(f"{p_ours[k]:.4f}" for k in names) + f" | {p_ours['loglik']:.1f} |")
        if p_theirs:
            print(
                f"| {label} | lifetimes | " + " | ".join(f"{p_theirs[k]:.4f}" for k in names) + " | (rescaled time) |"
            )


if __name__ == "__main__":
    main()
