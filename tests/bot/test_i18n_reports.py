"""The `/pulse refresh` and `/pulse digest post` reports in 简体中文, checked against texts written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.addon.views import digest_outcome
from bot.context import build_context
from bot.digest.post import PostResult
from bot.i18n import use
from bot.query import answer
from bot.render.text import render_text
from bot.tabs import RefreshReport, already_running
from config import Settings
from tests.workbooks import write_source_workbook

TODAY = date(2026, 11, 25)
# The demo's revenue forecast (English: "Forecast — Revenue, next 3 months (80% interval)", the same numbers; the
# months written the locale's way, the model named in Chinese).
FORECAST = (
    "预测 — 收入，未来 3 个月（80% 区间）\n"
    "月份        预测值       下限         上限\n"
    "2026年11月  ¥270,143.15  ¥228,513.66  ¥311,772.64\n"
    "2026年12月  ¥275,696.49  ¥216,823.55  ¥334,569.42\n"
    "2027年1月   ¥281,138.76  ¥209,032.15  ¥353,245.37\n"
    "注：整个工作簿中有 8 行无效数据未计入——见 /pulse issues\n"
    "注：指数平滑（加法阻尼趋势）；最近 6 个月回测 MAPE 8.1%；基于 23 个月拟合\n"
    "数据截至 2026-11-25 12:00 UTC"
)
# `why revenue` for October (English: "Why revenue moved — 2026-10 vs 2026-09, by plan", then "Revenue rose 56,893.3
# CNY; 41,065.8 from Enterprise (its own value moved) and 9,818.1 from Pro (its own value moved)." and "Spearman
# correlation with retention (36 month × plan values): nps ρ = +0.57 (p = 0.0003), csat ρ = +0.30 (p = 0.076),
# complaints ρ = -0.06 (p = 0.72), repeat ρ = +0.81 (p = 2.8e-09)").
WHY = [
    "revenue 为何变化 — 2026年10月 对比 2026年9月，按 plan",
    "细分        之前         之后         结构   比率         合计",
]
WHY_NOTES = [
    "注：整个工作簿中有 8 行无效数据未计入——见 /pulse issues",
    "注：收入上升 56,893.3 CNY；41,065.8 来自 Enterprise（其自身数值变化），9,818.1 来自 Pro（其自身数值变化）。",
    "注：与客户保持率的 Spearman 相关系数（36 个“月份 × plan”观测值）：nps ρ = +0.57（p = 0.0003）、"
    "csat ρ = +0.30（p = 0.076）、complaints ρ = -0.06（p = 0.72）、repeat ρ = +0.81（p = 2.8e-09）",
]
# The demo's survival table (English: 2000 customers, 491 churned, median 729 days, 669–open, 2 followed that long).
SURVIVAL = (
    "客户生存分析\n"
    "细分      客户数  已流失  中位天数  下限    上限\n"
    "全部客户  2000    491     729.00    669.00  –\n"
    "注：整个工作簿中有 8 行无效数据未计入——见 /pulse issues\n"
    "注：自注册起的中位生命周期（天，explicit 流失口径）；「–」表示仍有超过一半的客户活跃\n"
    "注：全部客户的中位数仅基于 2 位被跟踪 729 天及以上的客户——不可靠\n"
    "数据截至 2026-11-25 12:00 UTC"
)


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


@pytest.fixture(scope="module")
def ctx(demo_master):
    return build_context(Settings(currency="CNY", language="zh-CN"), workbook=str(demo_master), today=TODAY)


def test_survival_in_chinese(ctx) -> None:
    with use("zh-CN"):
        text = render_text(answer("survival", ctx, command="/pulse"), "CNY")
    assert text == SURVIVAL


def test_forecast_in_chinese(ctx) -> None:
    with use("zh-CN"):
        text = render_text(answer("forecast revenue", ctx, command="/pulse"), "CNY")
    assert text == FORECAST


def test_why_in_chinese(ctx) -> None:
    with use("zh-CN"):
        text = render_text(answer("why revenue last-month", ctx, command="/pulse"), "CNY")
    assert text.split("\n")[:2] == WHY
    assert text.split("\n")[-4:-1] == WHY_NOTES


def test_the_why_and_forecast_refusals_in_chinese(ctx, tmp_path) -> None:
    """English: "'why' splits rates, … clv is a derived value …", "'why' needs a dimension column …", "'why' splits
    nps by the customers' region, but the Customers tab has no rows …" and "cannot forecast revenue: a forecast needs
    at least 12 past periods with values; this series has 7 (monthly values, full months only)"."""
    no_dimension = [["Customer ID", "Signup Date"], ["C1", date(2026, 3, 1)]]
    no_rows = [["Customer ID", "Signup Date", "Region"]]
    # Orders from 5 March to October: April–October are the 7 full months (as in test_analyses).
    short = [["Customer ID", "Signup Date", "Region"]] + [[f"C{i}", date(2026, 3, 1 + i), "North"] for i in range(6)]
    orders = [["Order ID", "Customer ID", "Order Date", "Amount"]] + [
        [f"O{m}-{i}", f"C{i}", date(2026, m, 5 + i), 10.0 * (i + 1)] for m in range(3, 11) for i in range(6)
    ]
    replies = {}
    for name, customers in (("no_dimension", no_dimension), ("no_rows", no_rows), ("short", short)):
        path = write_source_workbook(tmp_path / f"{name}.xlsx", {"Customers": customers, "Orders": orders})
        replies[name] = build_context(Settings(language="zh-CN"), workbook=str(path), today=TODAY)
    with use("zh-CN"):
        derived = render_text(answer("why clv", ctx, command="/pulse"), "CNY")
        dimension = render_text(answer("why revenue last-month", replies["no_dimension"]), "CNY")
        empty = render_text(answer("why nps last-month by region", replies["no_rows"]), "CNY")
        forecast = render_text(answer("forecast revenue", replies["short"]), "CNY")
    assert derived == (
        "错误：「为什么」按细分拆分比率、评分、总量和简单比值；clv 是派生值，没有各细分的权重——"
        "请试试「为什么 收入」「为什么 流失率」或「为什么 净推荐值」"
    )
    assert dimension == "错误：「为什么」需要 Customers 表中有一个维度列（region、plan 等）"
    assert empty == (
        "错误：「为什么」按客户的 region 拆分 nps，但 Customers 表没有数据——请添加客户（customer_id、region）以按细分拆分变化"
    )
    assert forecast == "错误：无法预测 revenue：预测至少需要 12 个有数值的历史周期；该序列只有 7 个（按月取值，仅完整月份）"


def test_every_forecast_model_name_is_in_the_catalogue() -> None:
    from bot.analyses import MODEL_NAMES
    from metrics.forecast import Forecast

    assert Forecast([], None, 0).model in MODEL_NAMES


def test_what_moved_in_chinese(ctx) -> None:
    from bot.analyses import what_moved_line
    from metrics.periods import parse_period

    # English: "Net Promoter Score fell 5.4 points; 6.5 from Pro (its own value moved) and 0.3 from Enterprise (its
    # share shrank)." — the digest's line for NPS in August 2026.
    with use("zh-CN"):
        line = what_moved_line(ctx, "nps", parse_period("2026-08", TODAY))
    assert line == "净推荐值下降 5.4 点；6.5 来自 Pro（其自身数值变化），0.3 来自 Enterprise（其占比缩小）。"
