"""Charts in 简体中文: matplotlib's default font has no CJK glyphs (and the server has no CJK font), so a chart drawn
in another language than English carries no words of its own — no title, axis label or legend words — and the title
goes into the Slack message posted with it (bot.slack.charts.chart_comment); English charts are unchanged."""

from __future__ import annotations

import warnings
from datetime import date

from bot.charts import cohort_heatmap, survival_chart
from bot.i18n import use
from bot.replies import TableReply
from bot.slack.answering import Answer
from bot.slack.charts import chart_comment
from metrics.survival import Curve, SurvivalResult

COHORTS = ["2026-08", "2026-09"]
SHARES = [[100.0, 40.0], [100.0, float("nan")]]  # two small cohorts: M0 always 100%, one month of history after
# 10 customers, 5 churned: survival 100% → 80% → 50% at day 60, the median
CURVE = Curve("all customers", 10, 5, [0, 30, 60], [1.0, 0.8, 0.5], [1.0, 0.7, 0.4], [1.0, 0.9, 0.6], 60.0, 30.0, None)
SURVIVAL = SurvivalResult(date(2026, 11, 25), CURVE)


def drawn(language: str) -> tuple[bytes, bytes, list[str]]:
    """The heat map and the survival chart drawn in `language`, and matplotlib's warnings (a missing glyph is one);
    the forecast chart follows the same rule (bot.charts.words), not drawn here to keep the suite fast."""
    with use(language), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        heatmap = cohort_heatmap("Cohort retention — 2026-08 – 2026-09", COHORTS, SHARES)
        survival = survival_chart(SURVIVAL)
    return heatmap, survival, [str(w.message) for w in seen]


def test_charts_in_chinese_carry_no_words_and_miss_no_glyph() -> None:
    en, zh = drawn("en"), drawn("zh-CN")
    # the same data without the English title, axis label and legend words: another picture
    assert en[0] != zh[0] and en[1] != zh[1]
    assert not [w for w in zh[2] if "missing from font" in w]


def test_the_chart_message_carries_the_title_in_chinese() -> None:
    title = "同期群留存 — 最近12个月（2025年11月 – 2026年10月）（第 k 个月有订单的同期群客户占比 %）"
    reply = TableReply(title, [], [], None, [])
    with use("zh-CN"):
        answer = Answer({}, reply)
    assert chart_comment(answer, "/pulse 同期群") == f"`/pulse 同期群` 的图表：{title}"
    # English (the chart has its own title): the message stays as it was
    assert chart_comment(Answer({}, reply), "/pulse cohorts") == "Chart for `/pulse cohorts`"
