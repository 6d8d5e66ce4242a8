"""Benchmark: a burst of concurrent slash commands against `pulse serve` (issue 16: ack p95 ≤ 1 s, every answer).

`pulse serve` runs as its own process (the real uvicorn + FastAPI + slack-bolt app, `--no-scheduler`) on a workbook
written by the project's generator (bench/dataset.py through bench/read_bench.py; default 200,000 orders), with
the Slack Web API and the response_url receiver of tests/fakes on 127.0.0.1. Once the snapshot is loaded (one
warm-up command answered), `--commands` signed slash commands (default 200, a mix of `by`, `where`, `cohorts`, `risk`,
`clv` and plain metrics, one user each so the rate limit does not refuse them) are sent at once with httpx. Printed:
ack latency p50/p95/max (send → HTTP response, what Slack's 3 s limit is about), the time until every answer has
arrived (in the ack or at its response_url), the server's CPU time during the burst (user + sys, from /proc) and
the load average, since the machines this runs on are shared.

Run: uv run python bench/burst_bench.py [--orders 200000] [--commands 200] [--xlsx PATH]
Numbers are measured, never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.e2e_bench import MIX, TODAY, percentile  # noqa: E402
from bench.read_bench import machine, workbook  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI, ResponseUrlReceiver, wait_for  # noqa: E402
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_command_body  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + sys CPU seconds of process `pid` so far (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_server(path: Path, port: int, api: FakeSlackAPI, state: Path) -> subprocess.Popen:
    """`pulse serve --no-scheduler` on `path`, Slack pointed at the fake Web API; stderr to a log file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSE_")) and "proxy" not in k.lower()}
    env |= {
        "SLACK_BOT_TOKEN": api.token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.base_url,
        "PULSE_STATE_DIR": str(state),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    args = ["serve", "--workbook", str(path), "--today", TODAY, "--no-scheduler", "--host", "127.0.0.1"]
    code = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    log = open(state / "serve.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-c", code, *args, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def wait_idle(pid: int, timeout: float = 300.0) -> None:
    """Wait until process `pid` used under 0.05 CPU seconds in a whole second (its start-up work is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            return


def profile(pid: int, out: str) -> subprocess.Popen:
    """py-spy sampling `pid` (every thread that runs, with native frames off) until interrupted."""
    spy = subprocess.Popen(["py-spy", "record", "-p", str(pid), "-r", "100", "-f", "raw", "-o", out, "--nonblocking"])
    time.sleep(1.0)  # py-spy attaches before the burst starts
    return spy


def command(url: str, hooks: ResponseUrlReceiver, text: str, user: str) -> tuple[str, bytes, dict[str, str]]:
    """A signed `/pulse` command: its response_url, body and headers."""
    response_url = hooks.url()
    body = slash_command_body("/pulse", text, response_url=response_url, user_id=user)
    return response_url, body.encode(), signed_headers(body)


async def burst(url: str, requests: list[tuple[str, bytes, dict[str, str]]]) -> list[tuple[float, float, dict]]:
    """Send every request at once; per request: when it was sent, its ack latency, and the ack's JSON."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60, trust_env=False) as client:
        gate = asyncio.Event()

        async def one(body: bytes, headers: dict[str, str]) -> tuple[float, float, dict]:
            await gate.wait()
            sent = time.monotonic()
            response = await client.post("/slack/events", content=body, headers=headers)
            took = time.monotonic() - sent
            return sent, took, response.json() if response.content else {"status": response.status_code}

        tasks = [asyncio.create_task(one(body, headers)) for _, body, headers in requests]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200_000, help="orders in the generated workbook")
    parser.add_argument("--commands", type=int, default=200, help="slash commands sent at once")
    parser.add_argument("--xlsx", type=Path, help="use this workbook (written by bench/read_bench.py) instead")
    parser.add_argument("--text", help="send this one command text every time (e.g. `help`: the ack path's own cost)")
    parser.add_argument("--py-spy", metavar="PATH", help="sample the server with py-spy during the burst (raw output)")
    args = parser.parse_args()
    texts = [args.text] if args.text else MIX
    with tempfile.TemporaryDirectory() as tmp, FakeSlackAPI() as api, ResponseUrlReceiver() as hooks:
        path = workbook(args.xlsx, args.orders, Path(tmp))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        t0 = time.monotonic()
        server = start_server(path, port, api, Path(tmp))
        try:
            wait_for(lambda: _healthy(url), timeout=120, what="pulse serve's /healthz")
            warm = command(url, hooks, "revenue last-month", "U0WARM0001")
            ((_, _, ack),) = asyncio.run(burst(url, [warm]))
            if "Computing" in ack.get("text", ""):
                wait_for(lambda: hooks.to(warm[0]), timeout=600, interval=0.1, what="the warm-up answer")
            wait_idle(server.pid)  # the preload thread also imports the chart module after the snapshot
            ready = time.monotonic() - t0
            requests = [command(url, hooks, texts[i % len(texts)], f"U0LOAD{i:04d}") for i in range(args.commands)]
            spy = profile(server.pid, args.py_spy) if args.py_spy else None
            load_before = os.getloadavg()[0]
            cpu_before, start, mine = cpu_seconds(server.pid), time.monotonic(), time.process_time()
            acks = asyncio.run(burst(url, requests))
            client_cpu = time.process_time() - mine
            inline = {
                r[0] for r, (_, _, ack) in zip(requests, acks, strict=True) if "Computing" not in ack.get("text", "")
            }
            late = [r[0] for r in requests if r[0] not in inline]
            wait_for(lambda: all(hooks.to(u) for u in late), timeout=1800, interval=0.1, what="every answer")
            done = max([start + took for _, took, _ in acks] + [hooks.to(u)[0].at for u in late]) - start
            cpu = cpu_seconds(server.pid) - cpu_before
            load_after = os.getloadavg()[0]
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        took = [t for _, t, _ in acks]
        answers = [ack for _, _, ack in acks if "Computing" not in ack.get("text", "")]
        answers += [hooks.to(u)[0].payload for u in late]
        failed = [a for a in answers if "Sorry" in a.get("text", "") or "Computing" in a.get("text", "")]
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB · {machine()}")
        print(f"server ready (snapshot loaded, warm-up answered) after {ready:.1f} s\n")
        print(
            "| commands | ack p50 | ack p95 | ack max | answered in the ack | all answers after | server CPU s | load |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print(
            f"| {len(requests)} | {percentile(took, 0.5):.2f} s | {percentile(took, 0.95):.2f} s | {max(took):.2f} s "
            f"| {len(inline)} | {done:.1f} s | {cpu:.1f} | {load_before:.1f} → {load_after:.1f} |"
        )
        print(f"\nthis process (httpx client, Slack fakes): {client_cpu:.1f} CPU s while sending the burst")
        print(f"answers: {len(answers)} of {len(requests)}, {len(failed)} apologies or unanswered")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
