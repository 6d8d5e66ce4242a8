"""A live crm-pulse server (real FastAPI + bolt under uvicorn on 127.0.0.1) wired to the local Slack fakes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from bot.context import Context, build_context
from bot.server import create_app
from bot.slack.app import build_app
from bot.slack.runtime import SlackRuntime
from config import parse_settings
from config.settings import SlackSettings
from sheets.demo import write_demo_workbook
from tests.fakes.live_server import LiveServer
from tests.fakes.slack_api import Delivery, FakeSlackAPI, ResponseUrlReceiver, wait_for
from tests.fakes.slack_requests import SIGNING_SECRET, block_action_body, signed_headers, slash_command_body
from tests.workbooks import write_source_workbook as write_workbook  # noqa: F401 - re-exported for the tests here

TODAY = date(2026, 11, 16)


@dataclass
class Sent:
    """One request to the app: Slack's HTTP response (the ack), its response_url, and when it was sent and acked."""

    response: requests.Response
    response_url: str
    sent_at: float
    acked_at: float

    @property
    def ack(self) -> dict[str, Any]:
        return self.response.json() if self.response.content else {}


@dataclass
class SlackHarness:
    """Talks to the live app the way Slack does and reads what the app sent back."""

    url: str
    api: FakeSlackAPI
    hooks: ResponseUrlReceiver
    runtime: SlackRuntime

    def post(self, body: str, headers: dict[str, str]) -> requests.Response:
        return requests.post(f"{self.url}/slack/events", data=body.encode(), headers=headers, timeout=30)

    def command(self, command: str, text: str = "", **fields: Any) -> Sent:
        response_url = self.hooks.url()
        body = slash_command_body(command, text, response_url=response_url, **fields)
        sent_at = time.monotonic()
        response = self.post(body, signed_headers(body))
        return Sent(response, response_url, sent_at, time.monotonic())

    def click_share(self, command: str, text: str, **fields: Any) -> Sent:
        response_url = self.hooks.url()
        body = block_action_body("share_in_channel", json.dumps({"command": command, "text": text}), response_url=response_url, **fields)
        sent_at = time.monotonic()
        response = self.post(body, signed_headers(body))
        return Sent(response, response_url, sent_at, time.monotonic())

    def delivered(self, sent: Sent, count: int = 1, timeout: float = 20.0) -> list[Delivery]:
        """Wait until `count` messages reached the command's response_url."""
        return wait_for(lambda: (d := self.hooks.to(sent.response_url)) and len(d) >= count and d, timeout, what=f"{count} message(s) at the response_url")

    def answer(self, sent: Sent, timeout: float = 20.0) -> dict[str, Any]:
        """The answer to a command: in the ack when it was ready in time, else the first response_url message."""
        if "Computing" not in sent.ack.get("text", ""):
            return sent.ack
        return self.delivered(sent, 1, timeout)[0].payload


@pytest.fixture(autouse=True)
def _no_proxy_for_slack_sdk(monkeypatch) -> None:
    """slack_sdk reads HTTP(S)_PROXY but not NO_PROXY; loopback fakes must be reached directly."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack_api() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        yield fake


@pytest.fixture
def hooks() -> Iterator[ResponseUrlReceiver]:
    with ResponseUrlReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def demo_workbook(tmp_path_factory) -> Path:
    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "crm-pulse-demo.xlsx", TODAY)


def demo_context(workbook: Path, slack: dict[str, Any] | None = None, **config: Any) -> Context:
    settings = parse_settings({"slack": slack or {}, **config})
    return build_context(settings, workbook=str(workbook), today=TODAY)


def with_slack(ctx: Context, **slack: Any) -> Context:
    """The same context (sharing its loaded snapshot) with other `[slack]` settings."""
    return replace(ctx, settings=ctx.settings.model_copy(update={"slack": SlackSettings(**slack)}))




SMALL_TABS: dict[str, list[list[Any]]] = {
    "Customers": [["customer_id", "signup_date", "region"], ["007", "2025-01-10", "North"], ["008", "2025-02-11", "South"]],
    "Orders": [["customer_id", "order_date", "amount"], ["007", "2026-08-02", 120.5], ["008", "2026-09-03", 80.0]],
    "Responses": [
        ["date", "survey", "score", "customer_id"],
        ["2026-07-03", "NPS", 9, "007"], ["2026-07-20", "NPS", 10, "008"], ["2026-08-05", "NPS", 9, "007"],
        ["2026-08-30", "NPS", 7, "008"], ["2026-09-12", "NPS", 3, "007"],
    ],
}


@pytest.fixture
def start_slack(slack_api, hooks) -> Iterator[Callable[..., SlackHarness]]:
    """Start the server for a context; stopped at the end of the test."""
    running: list[tuple[LiveServer, SlackRuntime]] = []

    def start(ctx: Context, **runtime_options: Any) -> SlackHarness:
        runtime = SlackRuntime(ctx, **runtime_options)
        app = build_app(ctx, token=slack_api.token, signing_secret=SIGNING_SECRET, api_url=slack_api.base_url, runtime=runtime)
        server = LiveServer(create_app(ctx, slack_app=app)).start()
        running.append((server, runtime))
        return SlackHarness(server.url, slack_api, hooks, runtime)

    yield start
    for server, runtime in running:
        server.stop()
        runtime.runner.shutdown()


@pytest.fixture(scope="session")
def demo_ctx(demo_workbook, tmp_path_factory) -> Context:
    """One context over the demo workbook, loaded once for the session (its clock is pinned, so it stays fresh)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PULSE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        ctx = demo_context(demo_workbook)
        ctx.snapshot()
    return ctx


@pytest.fixture
def slack(start_slack, demo_ctx) -> SlackHarness:
    """The app over the demo workbook with default settings."""
    return start_slack(with_slack(demo_ctx))
