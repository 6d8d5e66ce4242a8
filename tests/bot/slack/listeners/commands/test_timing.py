"""Slack's 3-second rule: the ack never waits for a slow sheet, and a burst of commands is acked and answered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.context import build_context
from config import parse_settings
from tests.bot.slack.conftest import SMALL_TABS, TODAY, with_slack
from tests.fakes.sheets_api import FakeSheets, point_env_at
from tests.fakes.slack_api import block_problems, wait_for

KEY = "1SlackSlowSheet_abcdefghijklmnopqrstuvwxyz"


def test_ack_arrives_before_a_slow_sheet_has_answered(start_slack, monkeypatch):
    with FakeSheets() as sheets:
        sheets.add_spreadsheet(KEY, tabs=SMALL_TABS)
        point_env_at(sheets, monkeypatch)
        sheets.set_delay(5.0, kind="values.batchGet")
        slack = start_slack(build_context(parse_settings({"source": {"sheet": KEY}}), today=TODAY))

        sent = slack.command("/nps", "last-quarter")
        reads_at_ack = [r.status for r in sheets.requests if r.kind == "values.batchGet"]

        assert sent.response.status_code == 200
        assert all(status == 0 for status in reads_at_ack), reads_at_ack
        assert sent.ack["response_type"] == "ephemeral"
        assert sent.ack["text"].startswith(":hourglass_flowing_sand: Computing… for `/nps last-quarter`")

        (delivery,) = slack.delivered(sent, timeout=30)
        assert [r.status for r in sheets.requests if r.kind == "values.batchGet"] == [200]
        answer = delivery.payload
        assert answer["response_type"] == "ephemeral" and block_problems(answer["blocks"]) is None
        # The answer takes the place of the "Computing…" message instead of arriving as a second one.
        assert answer["replace_original"] is True
        assert answer["blocks"][1]["text"]["text"].startswith("*+40*")
        assert any(f["text"] == "*n*\n5" for f in answer["blocks"][1]["fields"])


def test_a_hundred_concurrent_commands_are_all_acked_and_answered(start_slack, demo_ctx):
    slack = start_slack(with_slack(demo_ctx, **{"rate_limit_per_minute": 1000}))
    requests_ = [(("/nps", "last-quarter"), ("/churn", ""), ("/pulse", "help"), ("/csat", "by plan"), ("/revenue", "last-month"))[i % 5] for i in range(100)]

    def send(i: int):
        command, text = requests_[i]
        return slack.command(command, text, user_id=f"U0LOAD{i:04d}")

    with ThreadPoolExecutor(max_workers=100) as pool:
        sent = list(pool.map(send, range(100)))

    assert [s.response.status_code for s in sent] == [200] * 100
    later = [s for s in sent if "Computing" in s.ack["text"]]
    wait_for(lambda: all(slack.hooks.to(s.response_url) for s in later), timeout=60, what="every deferred answer")
    answers = [s.ack if s not in later else slack.hooks.to(s.response_url)[0].payload for s in sent]
    assert len(answers) == 100
    for a in answers:
        assert a["response_type"] == "ephemeral" and block_problems(a["blocks"]) is None
        assert "Computing" not in a["text"] and "Sorry" not in a["text"]
    assert all(len(slack.hooks.to(s.response_url)) <= 1 for s in sent)
