"""A simple question imports no heavy module it does not need (issue 16 item 3): `pulse ask` on a tiny workbook
must not pay ~0.9 s for scipy.stats (nor ~0.3 s CPU for the rest of scipy, which only the CLV fitters need),
nor matplotlib, statsmodels or lifelines, before answering."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.workbooks import write_source_workbook

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "statsmodels", "lifelines", "matplotlib", "slack_bolt", "slack_sdk", "fastapi", "gspread", "openpyxl")

CHILD = """
import contextlib, io, json, sys
import bot.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = bot.cli.main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "loaded": sorted(m for m in sys.modules)}))
"""


def _tiny_workbook(path: Path) -> Path:
    """Ten NPS answers in October 2026: 5 promoters (9–10), 3 passives (7–8), 2 detractors (0–6)."""
    scores = [10, 9, 10, 9, 9, 8, 7, 7, 3, 6]
    rows = [["date", "survey", "score"], *[[f"2026-10-{i + 1:02d}", "NPS", s] for i, s in enumerate(scores)]]
    return write_source_workbook(path, {"Responses": rows})


def _ask(tmp_path: Path, text: str) -> dict:
    book = _tiny_workbook(tmp_path / "tiny.xlsx")
    argv = ["ask", text, "--json", "--workbook", str(book), "--today", "2026-11-15"]
    env = {**os.environ, "PULSE_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(loaded: list[str]) -> list[str]:
    return [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_nps_question_imports_no_heavy_module(tmp_path):
    child = _ask(tmp_path, "nps 2026-10")
    assert child["code"] == 0
    answer = json.loads(child["out"])
    assert answer["value"] == 30.0  # 100 × (5 promoters − 2 detractors) / 10 answers
    assert answer["n"] == 10
    assert _heavy(child["loaded"]) == []


def test_nps_breakdown_with_comparison_imports_no_scipy_stats(tmp_path):
    """A comparison's significance is a normal-tail test (math.erfc), not scipy.stats."""
    child = _ask(tmp_path, "nps 2026-10 vs 2026-09")
    assert child["code"] == 0
    assert json.loads(child["out"])["value"] == 30.0
    assert _heavy(child["loaded"]) == []
