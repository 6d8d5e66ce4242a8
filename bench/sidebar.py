"""The add-on's sidebar (sheets/addon/Sidebar.html) in headless Chromium at the width Google Sheets gives it (300 px),
with `google.script.run` stubbed in the page: the browser test drives it, and this script takes the README's
screenshot with the same code.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages ending in NUL on
file descriptors 3 and 4) — no WebDriver, no websocket, no Python package, and the page file is loaded unchanged.

Run: uv run python -m bench.sidebar [--out docs/img/sidebar.png]   (needs Chromium: apt-get install chromium)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIDEBAR = ROOT / "sheets" / "addon" / "Sidebar.html"
WIDTH = 300  # Google Sheets' sidebar is 300 px wide

# google.script.run as Apps Script gives it to a sidebar: each call records its function and arguments and waits
# until the test (or the screenshot) answers it with __run.succeed(data) or __run.fail(message), oldest first.
STUB = """
window.__run = {calls: [], pending: []};
__run.succeed = function (data) { var c = __run.pending.shift(); setTimeout(function () { c.success(data); }, 0); };
__run.fail = function (message) {
  var c = __run.pending.shift();
  setTimeout(function () { c.failure(new Error(message)); }, 0);
};
function __runner(success, failure) {
  return new Proxy({}, {get: function (_, name) {
    if (name === 'withSuccessHandler') return function (f) { return __runner(f, failure); };
    if (name === 'withFailureHandler') return function (f) { return __runner(success, f); };
    return function () {
      __run.calls.push({name: name, args: Array.prototype.slice.call(arguments)});
      __run.pending.push({success: success || function () {}, failure: failure || function () {}});
    };
  }});
}
window.google = {script: {get run() { return __runner(null, null); }}};
"""


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary: `PULSE_CHROMIUM` (None when it names no program), else the first of the usual
    names on PATH."""
    named = os.environ.get("PULSE_CHROMIUM")
    if named:
        return shutil.which(named)
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next((found for found in map(shutil.which, names) if found), None)


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, died, or did not answer in time."""


class Chromium:
    """One headless Chromium with one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, binary: str, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.TemporaryDirectory(prefix="pulse-chromium-")
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()
        flags = [
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={self.profile.name}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
        ]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox (CI runs as root)
        # The protocol pipe must be fds 3 (commands in) and 4 (replies out) in Chromium: bash moves ours there (its
        # redirections take descriptors above 9, unlike dash's; no preexec_fn, which is unsafe with threads running).
        spare = [fd for fd in range(10, 20) if fd not in (to_browser, from_browser)][:2]  # no clash on the way
        script = (
            f'exec "$0" "$@" {spare[0]}<&{to_browser} {spare[1]}>&{from_browser} '
            f"3<&{spare[0]} 4>&{spare[1]} {spare[0]}<&- {spare[1]}>&-"
        )
        self.process = subprocess.Popen(
            [shutil.which("bash") or "bash", "-c", script, binary, *flags, "about:blank"],
            pass_fds=(to_browser, from_browser),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self._stubbed = False
        self.session = ""
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)
            self.session = attached["sessionId"]
            self.send("Page.enable")  # without it, scripts added for new documents do not run
        except BaseException:
            self.close()
            raise

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> dict[str, Any]:
        """Send one command (to the page unless `session=False`) and return its result; events are skipped."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._commands, data) :]
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def _read(self, deadline: float) -> dict[str, Any]:
        """The next whole message from Chromium."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (code {self.process.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"{expression[:80]}: {details.get('exception', {}).get('description') or details}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> None:
        """Poll a JavaScript expression until it is truthy in JavaScript (an element found counts). An evaluation that
        fails meanwhile (the page between two documents has no context to run it in) is tried again."""
        deadline = time.monotonic() + timeout
        failure: BrowserError | None = None
        while True:
            try:
                if self.evaluate(f"Boolean({expression})") is True:
                    return
            except BrowserError as err:
                failure = err
            if time.monotonic() > deadline:
                raise BrowserError(
                    f"still false after {timeout} s: {expression}" + (f" ({failure})" if failure else "")
                )
            time.sleep(0.02)

    def open_sidebar(self, width: int = WIDTH, height: int = 640, scale: float = 1) -> None:
        """Load Sidebar.html, unchanged, at `width` CSS px, with google.script.run stubbed before its script runs."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
        )
        if not self._stubbed:
            self.send("Page.addScriptToEvaluateOnNewDocument", {"source": STUB})
            self._stubbed = True
        self.evaluate("window.__previous = true")  # so the wait below cannot be met by the page being replaced
        self.send("Page.navigate", {"url": SIDEBAR.as_uri()})
        self.wait_for("!window.__previous && document.readyState === 'complete' && __run.calls.length > 0")

    def screenshot(self) -> bytes:
        """The page as PNG."""
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self) -> None:
        """Stop Chromium (asked first, then terminated) and remove its profile."""
        self.timeout = 2.0
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close", session=False)
        for fd in (self._commands, self._replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.profile.cleanup()


def kpi_reply(workbook: str, today: date, period: str = "last-month", settings: dict | None = None) -> dict[str, Any]:
    """What `/addon/kpis` answers for a workbook and period (the endpoint's own query and view)."""
    from bot.addon.views import kpi_cards
    from bot.context import build_context
    from bot.query import answer
    from bot.replies import OverviewReply
    from config import parse_settings

    ctx = build_context(parse_settings(settings or {}), workbook=workbook, today=today)
    reply = answer(f"overview {period}", ctx)
    if not isinstance(reply, OverviewReply):
        raise ValueError(f"no KPI cards for {period!r}: {reply}")
    return kpi_cards(reply, ctx.settings.currency)


def main() -> None:
    """Write the README's screenshot: the demo workbook's KPI cards for last month, at 300 px, 2× for sharpness."""
    from sheets.demo import write_demo_workbook

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "sidebar.png"))
    parser.add_argument("--today", default="2026-11-25", help="the demo's clock (YYYY-MM-DD)")
    args = parser.parse_args()
    binary = find_chromium()
    if binary is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium, or set PULSE_CHROMIUM)")
    today = date.fromisoformat(args.today)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PULSE_STATE_DIR", str(Path(tmp) / "state"))  # caches go with the demo, not into .pulse/
        workbook = write_demo_workbook(Path(tmp) / "demo.xlsx", today)
        data = kpi_reply(str(workbook), today, settings={"targets": {"nps": 40, "churn": 3}})
    browser = Chromium(binary)
    try:
        browser.open_sidebar(height=900, scale=2)
        browser.evaluate(f"__run.succeed({json.dumps(data)})")
        browser.wait_for("document.querySelectorAll('.card').length > 0")
        height = browser.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": min(height, 900), "deviceScaleFactor": 2, "mobile": False},
        )
        png = browser.screenshot()
    finally:
        browser.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print(f"wrote {out} ({len(png):,} bytes)")


if __name__ == "__main__":
    main()
