"""Slash commands end to end: signed requests in, ephemeral Block Kit answers out (ack or response_url)."""

from __future__ import annotations

import copy
import json

from tests.bot.slack.conftest import SMALL_TABS, demo_context, write_workbook
from tests.fakes.slack_api import block_problems


def assert_valid(message: dict) -> None:
    assert message.get("response_type") == "ephemeral"
    assert message["text"]
    assert block_problems(message["blocks"]) is None, block_problems(message["blocks"])


def test_metric_command_answers_with_valid_blocks_and_a_share_button(slack):
    sent = slack.command("/nps", "last-quarter by region")
    assert sent.response.status_code == 200
    answer = slack.answer(sent)
    assert_valid(answer)
    blocks = answer["blocks"]
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].endswith("— 2026-Q3")
    headline = blocks[1]["text"]["text"]
    assert headline.startswith("*") and "±" in headline and "vs 2026-Q2" in headline
    assert any(f["text"].startswith("*n*\n") for f in blocks[1]["fields"])
    movers = blocks[2]["text"]["text"]
    assert movers.startswith("*Top movers by region*") and movers.count("\n• ") == 3
    assert any("data as of 2026-11-16" in e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == "share_in_channel"
    assert json.loads(button["value"]) == {"command": "/nps", "text": "last-quarter by region"}



def test_a_partial_period_is_labelled_to_date_in_the_blocks(slack):
    # issue 13 ("partial periods are labelled 'to date'"): today is 2026-11-16, so this month is 1–16 November,
    # compared with 1–16 October; the header of a metric and of the overview says so, as the text answer does.
    nps = slack.answer(slack.command("/nps", "this-month"))
    assert_valid(nps)
    assert nps["blocks"][0]["text"]["text"].endswith("— 2026-11 to date")
    assert "vs 2026-10-01 – 2026-10-16" in nps["blocks"][1]["text"]["text"]
    overview = slack.answer(slack.command("/pulse", "overview this-month"))
    assert_valid(overview)
    assert overview["blocks"][0]["text"]["text"] == "Overview — 2026-11 to date"

def test_umbrella_help_lists_commands_and_has_no_share_button(slack):
    answer = slack.answer(slack.command("/pulse", "help"))
    assert_valid(answer)
    said = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "last-quarter" in said and "/pulse &lt;metric&gt;" in said
    assert all(b["type"] != "actions" for b in answer["blocks"])


def test_user_error_is_specific_and_ephemeral(slack):
    answer = slack.answer(slack.command("/nps", "last-quater"))
    assert_valid(answer)
    said = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "last-quater" in said and "last-quarter" in said
    assert "Traceback" not in said and all(b["type"] != "actions" for b in answer["blocks"])


def test_mrkdwn_injection_in_a_segment_name_is_escaped(start_slack, tmp_path):
    tabs = copy.deepcopy(SMALL_TABS)
    tabs["Customers"][1][2] = "<!channel> North & <@U0BOSS>"
    slack = start_slack(demo_context(write_workbook(tmp_path / "injected.xlsx", tabs)))
    answer = slack.answer(slack.command("/nps", "last-quarter by region"))
    assert_valid(answer)
    said = json.dumps(answer, ensure_ascii=False)
    assert "&lt;!channel&gt; North &amp; &lt;@U0BOSS&gt;" in said
    assert "<!channel>" not in said and "<@U0BOSS>" not in said


def test_html_entities_in_command_text_are_read_as_typed(slack):
    answer = slack.answer(slack.command("/nps", "last-quarter where region=R&amp;D"))
    said = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "R&amp;D" in said and "R&amp;amp;D" not in said


class FailingWorkbook:
    """A workbook backend that breaks in a way nobody planned for (the Workbook protocol is the boundary)."""

    def describe(self) -> str:
        return "failing workbook"

    def read_tabs(self, names):
        raise RuntimeError("disk on fire at /secret/path")

    def read_owned(self, name):
        return None

    def write_owned(self, tabs):
        raise RuntimeError("read only")


def test_unexpected_failure_gives_an_apology_with_an_error_id_and_logs_it(start_slack, caplog):
    from bot.context import Context
    from config import parse_settings

    slack = start_slack(Context(parse_settings({}), FailingWorkbook()))
    answer = slack.answer(slack.command("/nps", "last-quarter"))
    assert_valid(answer)
    text = answer["text"]
    assert text.startswith(":confused: Sorry, something went wrong") and "`/nps last-quarter`" in text
    error_id = text.split("logged as error `")[1].split("`")[0]
    assert len(error_id) == 8
    assert "disk on fire" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
