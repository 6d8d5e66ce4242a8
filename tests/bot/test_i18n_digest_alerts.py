"""The weekly digest and an alert in 简体中文, per digest channel and per alert rule, against hand-written texts."""

from __future__ import annotations

import pytest

from bot.alerts.run import evaluate_and_notify, slack_poster
from bot.digest.builder import build_digest
from bot.digest.render import render_blocks, render_text
from bot.digest.schedule import destinations
from bot.i18n import use
from config import parse_settings
from tests.bot.alerts.test_alerts import START, Clock, alert_posts, answers, context, settings
from tests.bot.alerts.test_alerts import workbook as alerts_workbook  # noqa: F401 - the alert tests' workbook
from tests.bot.digest.conftest import CUSTOMERS, ORDERS, RESPONSES, context_at, utc, write_workbook
from tests.workbooks import append_rows


def test_each_digest_channel_has_its_language() -> None:
    s = parse_settings(
        {"language": "zh-CN", "digest": {"channels": [{"channel": "C1"}, {"channel": "C2", "language": "en"}]}}
    )
    assert [(d.key, d.language) for d in destinations(s)] == [("C1", "zh-CN"), ("C2", "en")]


@pytest.fixture
def small(tmp_path):
    path = write_workbook(tmp_path / "small.xlsx", {"Customers": CUSTOMERS, "Orders": ORDERS, "Responses": RESPONSES})
    ctx, _ = context_at({"targets": {"nps": 40, "churn": 5}, "surveys": {"min_n": 4}}, path, utc(2026, 3, 25, 9))
    return ctx


def test_the_digest_in_chinese(small) -> None:
    """The small workbook's week 2026-W12 (16–22 March): revenue 150 against 30, NPS 0 from 2 promoters, 1 passive
    and 2 detractors (margin 78.4), 6 answers of which 4 with a comment (66.7%) — as the English digest tests."""
    with use("zh-CN"):
        d = build_digest(small)
        lines = render_text(d).splitlines()
        blocks = render_blocks(d)
    assert lines[:2] == [
        "每周摘要 — 2026年第12周",
        "2026年第12周（3月16日 – 2026年3月22日）及最近13周（2025年第52周 – 2026年第12周），均与上一期对比",
    ]
    assert lines[3] == "核心指标"
    assert lines[4].startswith("收入  US$150.00 ▲ US$120.00（对比2026年第11周） · 13 周 US$200.00")
    assert "本周： NPS 0 ± 78.4（n = 5：推荐者 2 · 被动者 1 · 贬损者 2）" in "\n".join(lines)
    assert "2026年第12周的问卷回答：6 份 · 其中 4 份有评论（66.7%）" in lines
    assert "2026年3月16日以来：新增推荐者 2 位 · 新增贬损者 2 位" in lines
    assert blocks[0]["text"]["text"] == "每周摘要 — 2026年第12周"
    assert blocks[-1]["elements"][0]["text"].endswith(" · 用 `/pulse digest` 预览")


def test_an_alert_in_its_rules_language(alerts_workbook, slack) -> None:  # noqa: F811
    """The config stays English; the rule asks for 简体中文. 20 promoters and 44 detractors of 80 answers in the 7 days
    before 2 March: NPS (20 − 44) / 80 = −30, 60 points under the target +30; none in the 7 days before those."""
    rule = {
        "name": "NPS below target",
        "metric": "nps",
        "window_days": 7,
        "condition": "crosses_target",
        "channel": "C_ALERTS",
        "language": "zh-CN",
    }
    clock = Clock(START)
    append_rows(alerts_workbook, "Responses", answers(START.replace(day=1), [2] * 40))
    events = evaluate_and_notify(context(alerts_workbook, clock, settings(alerts=[rule])), slack_poster())
    assert [(e.kind, e.posted) for e in events] == [("fired", True)]
    post = alert_posts(slack)[0]
    header, facts, rule_line, button = post.json_param("blocks")
    assert header["text"]["text"] == "🔔 NPS below target"
    assert (
        facts["text"]["text"]
        .splitlines()[0]
        .startswith("*净推荐值*，最近7天（2026年2月23日 – 2026年3月1日）：*-30* ± ")
    )
    assert facts["text"]["text"].splitlines()[1:] == [
        "之前的7天（2026年2月16日 – 2026年2月22日）无数值",  # every answer of the workbook is in this window
        "目标 +30 ✗ 未达成（-60分）",
        "n = 80",
    ]
    assert rule_line["elements"][0]["text"] == "规则：nps 未达到目标；恢复正常前只发送一次。"
    assert button["elements"][0]["text"]["text"] == "为什么变化？"
    assert post.params["text"] == "NPS below target：净推荐值 -30 — 未达到目标"
