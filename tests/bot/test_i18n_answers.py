"""The demo's answers in 简体中文, checked against texts written by hand, and Slack's Block Kit limits on them.

The numbers are the demo's (the same as the English answers beside them); what is checked is the wording, the
locale's money (¥ with `currency = "CNY"`), months, quarters and the full-width punctuation.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from slack_sdk.models.blocks import Block

from bot.context import build_context
from bot.i18n import use
from bot.query import answer
from bot.render.blocks import render_blocks
from bot.render.limits import MAX_BLOCKS, MAX_FIELD, MAX_HEADER, MAX_SECTION, MAX_TOTAL_CHARS
from bot.render.text import render_text
from config import Settings
from metrics.registry import METRICS

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def ctx(demo_master):
    return build_context(Settings(currency="CNY", language="zh-CN"), workbook=str(demo_master), today=TODAY)


def zh(ctx, text: str, command: str = "/pulse") -> str:
    with use("zh-CN"):
        return render_text(answer(text, ctx, command=command), "CNY")


# Each metric's first line for October 2026, written by hand from the English answer beside it.
HEADLINES = {
    "nps": ("Net Promoter Score — 2026-10: +1 ± 8.3", "净推荐值 — 2026年10月：+1 ± 8.3"),
    "csat": ("CSAT — 2026-10: 93.6% 95% CI 88.6%–96.5%", "客户满意度 — 2026年10月：93.6% 95% 置信区间 88.6%–96.5%"),
    "csi": ("CSI — 2026-10: 26.7% 95% CI 16.0%–41.0%", "客户满意度指数 — 2026年10月：26.7% 95% 置信区间 16.0%–41.0%"),
    "retention": (
        "Customer retention — 2026-10: 96.7% 95% CI 95.6%–97.5%",
        "客户保持率 — 2026年10月：96.7% 95% 置信区间 95.6%–97.5%",
    ),
    "churn": (
        "Customer churn — 2026-10: 3.3% 95% CI 2.5%–4.4%",
        "客户流失率 — 2026年10月：3.3% 95% 置信区间 2.5%–4.4%",
    ),
    "growth": ("Customer-base growth — 2026-10: 4.9%", "客户增长率 — 2026年10月：4.9%"),
    "customers": ("Active customers — 2026-10: 1,474", "活跃客户数 — 2026年10月：1,474"),
    "new": ("New customers — 2026-10: 127", "新客户数 — 2026年10月：127"),
    "lapsed": (
        "Lapsed customers — 2026-10: 26.7% 95% CI 24.8%–28.7%",
        "失效客户占比 — 2026年10月：26.7% 95% 置信区间 24.8%–28.7%",
    ),
    "nrr": ("Net revenue retention — 2026-10: 114.9%", "净收入留存率 — 2026年10月：114.9%"),
    "grr": ("Gross revenue retention — 2026-10: 52.9%", "毛收入留存率 — 2026年10月：52.9%"),
    "revenue": ("Revenue — 2026-10: ¥264,481.59", "收入 — 2026年10月：¥264,481.59"),
    "orders": ("Orders — 2026-10: 1,399", "订单数 — 2026年10月：1,399"),
    "purchasers": ("Purchasers — 2026-10: 918", "购买客户数 — 2026年10月：918"),
    "aov": ("Average order value — 2026-10: ¥189.05", "客单价 — 2026年10月：¥189.05"),
    "frequency": ("Purchase frequency — 2026-10: 1.5:1", "购买频率 — 2026年10月：1.5:1"),
    "repeat": (
        "Repeat-purchase rate — 2026-10: 37.7% 95% CI 34.6%–40.9%",
        "重复购买率 — 2026年10月：37.7% 95% 置信区间 34.6%–40.9%",
    ),
    "returning": (
        "Returning-customer rate — 2026-10: 86.2% 95% CI 83.8%–88.2%",
        "回头客比例 — 2026年10月：86.2% 95% 置信区间 83.8%–88.2%",
    ),
    "refunds": ("Refund rate — 2026-10: 0.6% 95% CI 0.3%–1.2%", "退款率 — 2026年10月：0.6% 95% 置信区间 0.3%–1.2%"),
    "complaints": (
        "Complaint rate — 2026-10: 2.6% 95% CI 1.9%–3.5%",
        "客户投诉率 — 2026年10月：2.6% 95% 置信区间 1.9%–3.5%",
    ),
    "resolution": (
        "Resolution rate — 2026-10: 91.7% 95% CI 78.2%–97.1%",
        "问题解决率 — 2026年10月：91.7% 95% 置信区间 78.2%–97.1%",
    ),
    "cac": ("Customer acquisition cost — 2026-10: ¥505.13", "获客成本 — 2026年10月：¥505.13"),
    "clv": ("Customer lifetime value — 2026-10: ¥3,719.32", "客户生命周期价值 — 2026年10月：¥3,719.32"),
    "net-clv": ("Net customer lifetime value — 2026-10: ¥3,214.20", "客户净生命周期价值 — 2026年10月：¥3,214.20"),
    "ltv-cac": ("LTV:CAC — 2026-10: 7.4:1", "LTV:CAC 比值 — 2026年10月：7.4:1"),
    "renewal": (
        "Renewal rate — 2026-10: 86.7% 95% CI 70.3%–94.7%",
        "续约率 — 2026年10月：86.7% 95% 置信区间 70.3%–94.7%",
    ),
}


def test_every_metric_has_a_hand_written_headline() -> None:
    assert set(HEADLINES) == set(METRICS)


@pytest.mark.parametrize("metric", sorted(HEADLINES))
def test_every_metric_answers_in_chinese(ctx, metric: str) -> None:
    english, chinese = HEADLINES[metric]
    assert render_text(answer(f"{metric} 2026-10", ctx), "CNY").splitlines()[0] == english
    assert zh(ctx, f"{metric} 2026-10").splitlines()[0] == chinese


def test_a_whole_answer_with_chinese_command_words(ctx) -> None:
    """`/nps 上季度 按 地区 其中 套餐=Pro`: the same numbers as `nps last-quarter by region where plan=Pro`."""
    assert zh(ctx, "上季度 按 地区 其中 套餐=Pro", "/nps") == "\n".join(
        [
            "净推荐值 — 2026年第3季度 其中 plan=Pro：+19 ± 8.7",
            "  与2026年第2季度相比无变化",
            "  n = 268",
            "  等级：一般（0 至 +29）",
            "  按 region：",
            "  细分   数值  95% 置信区间  n   上期  变化",
            "  East   +34   +18 至 +49    83  +16   +17分  在误差范围内",
            "  North  +19   +2 至 +37     68  +13   +6分   在误差范围内",
            "  West   +25   +9 至 +41     64  +26   -1分   在误差范围内",
            "  South  -13   -33 至 +6     53  +20   -33分  显著",
            "  本指标的数据表中有 3 行无效数据未计入——见 /pulse issues",
            "数据截至 2026-11-25 12:00 UTC",
        ]
    )


def test_a_rate_against_the_same_period_last_year(ctx) -> None:
    """`对比 去年同期` compares 2026-Q3 with 2025-Q3; the counts read as a sentence (85 of 1,170 churned)."""
    assert zh(ctx, "流失率 2026-Q3 对比 去年同期") == "\n".join(
        [
            "客户流失率 — 2026年第3季度：7.3% 95% 置信区间 5.9%–8.9%",
            "  ▼ 0.3个百分点（对比2025年第3季度，在误差范围内）",
            "  1,170 位客户中 85 位流失",
            "  本指标的数据表中有 5 行无效数据未计入——见 /pulse issues",
            "数据截至 2026-11-25 12:00 UTC",
        ]
    )
    english = render_text(answer("churn 2026-Q3 vs 2025-Q3", ctx), "CNY").splitlines()
    assert english[1] == "  ▼ 0.3 pts vs 2025-Q3 (within noise)"


def test_help_in_chinese(ctx) -> None:
    text = zh(ctx, "帮助")
    assert text.startswith(
        "crm-pulse 帮助\n\n用法\n`/pulse <指标> [时间段] [按 <维度>] [其中 <维度>=<值>] [对比 <时间段>]`\n"
    )
    assert "`nps` — 净推荐值（−100…100）及误差范围\n" in text
    assert "示例\n`/nps 上季度 按 地区`\n`/pulse 流失率 2026-Q3 对比 去年同期`\n" in text
    assert text.endswith("默认值\n比率默认 `last-month`，NPS/CSAT/CSI 默认 `last-quarter`；日期按 UTC 时区计算。")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a typo typed in Chinese is answered with the Chinese alias, not `nps`
        ("净推存值 上季度", "错误：未知指标「净推存值」——是否想输入 净推荐值？试试 `/pulse 帮助`。"),
        ("nps 2027-03", "错误：2027年3月还没有开始；今天是 2026年11月25日——是否想输入 this-month？"),
        ("nps 上季度 按 套餐2", "错误：未知维度「套餐2」；Customers 表中有：region, plan, channel"),
        ("nps 上季 ", "错误：未知时间段「上季」——是否想输入 上季度？可用："),
    ],
)
def test_errors_in_chinese(ctx, text: str, expected: str) -> None:
    assert zh(ctx, text).startswith(expected)


def _texts(block: dict) -> list[str]:
    """Every text object's string in one block."""
    out = []
    for key in ("text",):
        if isinstance(block.get(key), dict):
            out.append(block[key]["text"])
    out += [f["text"] for f in block.get("fields", [])]
    out += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return out


@pytest.mark.parametrize("text", [*(f"{m} 2026-10 按 地区" for m in sorted(METRICS)), "概览 2026-10", "帮助", "npss"])
def test_chinese_blocks_stay_within_block_kit_limits(ctx, text: str) -> None:
    with use("zh-CN"):
        blocks = render_blocks(answer(text, ctx), currency="CNY")
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert len(json.dumps(blocks, ensure_ascii=False)) <= MAX_TOTAL_CHARS
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk's own checks (header ≤ 150, ≤ 10 fields, …)
        limit = {"header": MAX_HEADER, "section": MAX_SECTION}.get(block["type"], MAX_FIELD)
        assert all(len(t) <= limit for t in _texts(block)), block
        assert len(block.get("fields", [])) <= 10 and len(block.get("elements", [])) <= 10


def test_tables_in_chinese(ctx) -> None:
    """The risk list's title, columns and RFM segments; the demo's top customer C0504 (P(alive) 0.43, ¥4,862.84)."""
    lines = zh(ctx, "风险").splitlines()
    assert lines[0] == "流失风险 — 按涉及价值排名靠前的客户"
    assert lines[1].split() == ["排名", "客户", "P(活跃)", "涉及价值", "细分"]
    assert lines[2].split() == ["1", "C0504", "0.43", "¥4,862.84", "不能失去"]
    assert zh(ctx, "预测 收入 按 地区") == (
        "错误：预测只跟踪一个序列，不能用「按」——用「其中」预测一个细分，例如 `预测 收入 其中 地区=华北`"
    )
    assert zh(ctx, "目标").startswith("目标\n\n未设置目标\n")
