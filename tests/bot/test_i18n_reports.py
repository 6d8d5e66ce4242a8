"""The `/pulse refresh` and `/pulse digest post` reports in 简体中文, checked against texts written by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.addon.views import digest_outcome
from bot.digest.post import PostResult
from bot.i18n import use
from bot.render.text import render_text
from bot.tabs import RefreshReport, already_running


def zh_text(reply) -> str:
    with use("zh-CN"):
        return render_text(reply, "CNY")


def test_the_refresh_report_in_chinese() -> None:
    report = RefreshReport(written=["Pulse Summary"], refused={"Pulse Risk": "edited by hand"}, months=12, issues=3)
    with use("zh-CN"):
        text = render_text(report.reply(), "CNY")
    assert text == (
        "汇总表已刷新，部分表未改动\n\n"
        "已写入\nPulse Summary\n\n"
        "未写入\nPulse Risk: edited by hand\n\n"
        "数据\n汇总 12 个月 · 列出 3 个数据问题"
    )


def test_a_refresh_already_running_in_chinese() -> None:
    since = datetime(2026, 11, 25, 14, 2, 11, tzinfo=UTC)
    with use("zh-CN"):
        assert already_running(since) == "刷新正在进行（开始于 14:02:11 UTC）；完成后结果会写入，请一分钟后再试。"
        assert render_text(RefreshReport(skipped=True).reply(), "CNY") == (
            "刷新正在进行\n\n\n刷新正在进行；完成后结果会写入，请一分钟后再试。"
        )


def test_the_digest_post_outcomes_in_chinese() -> None:
    results = [
        PostResult("#sales", "2026-W47", "posted"),
        PostResult("#ops", "2026-W47", "duplicate"),
        PostResult("#cs", "2026-W47", "failed", error="channel_not_found"),
    ]
    with use("zh-CN"):
        outcome = digest_outcome(results, True)
        none = digest_outcome([], False)
    assert outcome["status"] == "partial"
    assert outcome["message"] == (
        "2026-W47 的摘要已发布到 #sales。\n"
        "2026-W47 的摘要本周已发布到 #ops，未重复发送。\n"
        "2026-W47 的摘要未发布到 #cs：channel_not_found。"
    )
    assert none["message"] == (
        "未配置摘要频道，因此没有发布任何内容：请在服务器配置中添加 [[digest.channels]]（或 digest.webhook_url_env）。"
    )
