"""End to end: the real server (FastAPI + bolt under uvicorn) started the way `pulse serve` starts it, its scheduler
posting a digest missed while down to the Slack fake over HTTP with the chart, and `/pulse digest` previewing it."""

import time

import requests

from bot import scheduler
from bot.digest.ledger import Ledger
from bot.server import create_app
from bot.slack.app import build_app
from tests.bot.digest.conftest import context_at, utc
from tests.fakes.live_server import LiveServer
from tests.fakes.slack_api import FakeSlackAPI, ResponseUrlReceiver, wait_for
from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_command_body

SETTINGS = {"digest": {"channels": [{"channel": "C0DIGEST", "timezone": "Europe/Berlin", "day": "mon", "time": "09:00"}]}}


def test_server_posts_the_missed_digest_with_its_chart_and_previews_on_request(demo_copy, monkeypatch):
    with FakeSlackAPI() as slack, ResponseUrlReceiver() as hooks:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", slack.base_url)
        # a deployment installed weeks ago, down over the weekend, back at 10:30 CEST on Monday 30 March
        ctx, _ = context_at(SETTINGS, demo_copy, utc(2026, 3, 30, 8, 30))
        Ledger().installed_at("C0DIGEST", utc(2026, 3, 1))
        api = create_app(ctx, slack_app=build_app(ctx))
        with LiveServer(api) as server:
            running = scheduler.start(ctx)  # what bot.serve does when the scheduler is on
            try:
                assert requests.get(f"{server.url}/healthz", timeout=10).json()["status"] == "ok"
                message = wait_for(lambda: slack.messages("C0DIGEST"), timeout=60, what="the digest message")[0]
                blocks = message.json_param("blocks")
                assert blocks[0]["text"]["text"] == "Weekly pulse — 2026-W13"
                assert "Headline KPIs" in str(blocks) and "Revenue" in message.params["text"]
                complete = wait_for(lambda: slack.calls_to("files.completeUploadExternal"), timeout=30, what="the chart upload")[0]
                file_id = complete.json_param("files")[0]["id"]
                assert complete.params["channel_id"] == "C0DIGEST"
                assert slack.uploads[file_id][:8] == b"\x89PNG\r\n\x1a\n" and len(slack.uploads[file_id]) > 20_000
                wait_for(lambda: (e := Ledger().get("C0DIGEST", "2026-W13")) and e.status == "posted", what="the ledger entry")

                response_url = hooks.url()
                body = slash_command_body("/pulse", "digest 2026-W13", response_url=response_url)
                ack = requests.post(f"{server.url}/slack/events", data=body.encode(), headers=signed_headers(body), timeout=30)
                assert ack.status_code == 200

                def preview():
                    payloads = [ack.json()] if ack.content and "Weekly pulse" in ack.text else []
                    return payloads + [d.payload for d in hooks.to(response_url) if "Weekly pulse" in str(d.payload)]

                shown = wait_for(preview, timeout=60, what="the /pulse digest preview")[0]
                assert "2026-W13" in str(shown) and shown.get("response_type", "ephemeral") == "ephemeral"
            finally:
                running.shutdown()
        time.sleep(0.1)
        assert len(slack.messages("C0DIGEST")) == 1  # the preview went only to the requester
