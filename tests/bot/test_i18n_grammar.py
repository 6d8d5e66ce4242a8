"""Chinese command words give the same answers as their English forms (property test over the grammar)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar import parse_command, with_dimensions
from bot.query import answer
from bot.render.json import render_json
from metrics.periods import SAME_PERIOD_LAST_YEAR, parse_period, vs_period
from metrics.registry import CATALOGUE

TODAY = date(2026, 11, 25)
# Each English period word and its Chinese forms.
PERIODS = {
    "last-quarter": ("上季度", "上个季度"),
    "this-quarter": ("本季度",),
    "last-month": ("上月", "上个月"),
    "this-month": ("本月",),
    "last-week": ("上周",),
    "this-week": ("本周",),
    "last-year": ("去年",),
    "this-year": ("今年",),
    "yesterday": ("昨天",),
    "2026-Q3": ("2026-Q3",),
}
VS = {**PERIODS, "same period last year": ("去年同期",)}
DIMENSIONS = {"region": ("地区", "区域"), "plan": ("套餐",), "channel": ("渠道",)}
WORDS = {"by": ("按", "按照"), "where": ("其中", "筛选"), "and": ("且", "并且"), "vs": ("对比", "比较")}
CHINESE_ALIASES = {name: [a for a in s.aliases if not a.isascii()] for name, s in CATALOGUE.items()}


@st.composite
def pairs(draw):
    """One command written twice: English words, and Chinese words for the metric, keywords, periods and dimensions."""
    metric = draw(st.sampled_from(sorted(m for m, zh in CHINESE_ALIASES.items() if zh)))
    en, zh = [metric], [draw(st.sampled_from(CHINESE_ALIASES[metric]))]

    def word(english: str) -> None:
        en.append(english)
        zh.append(draw(st.sampled_from(WORDS[english])))

    clauses = draw(st.permutations(["period", "by", "where", "vs"]))
    for clause in clauses:
        if clause == "period" and draw(st.booleans()):
            period = draw(st.sampled_from(sorted(PERIODS)))
            en.append(period)
            zh.append(draw(st.sampled_from(PERIODS[period])))
        elif clause == "by" and draw(st.booleans()):
            dim = draw(st.sampled_from(sorted(DIMENSIONS)))
            word("by")
            en.append(dim)
            zh.append(draw(st.sampled_from(DIMENSIONS[dim])))
        elif clause == "where" and draw(st.booleans()):
            dims = draw(st.lists(st.sampled_from(sorted(DIMENSIONS)), min_size=1, max_size=2, unique=True))
            word("where")
            for i, dim in enumerate(dims):
                if i:
                    word("and")
                value = draw(st.sampled_from(("North", "Pro", "华北", "Paid Search")))
                en.append(f'{dim}="{value}"')
                zh.append(f'{draw(st.sampled_from(DIMENSIONS[dim]))}="{value}"')
        elif clause == "vs" and draw(st.booleans()):
            vs = draw(st.sampled_from(sorted(VS)))
            word("vs")
            en.append(vs)
            zh.append(draw(st.sampled_from(VS[vs])))
    return " ".join(en), " ".join(zh)


def resolved(text: str) -> tuple:
    """What a command asks for, with its periods resolved on one day: the same tuple means the same answer."""
    cmd = with_dimensions(parse_command(text))
    period = parse_period(cmd.period, TODAY) if cmd.period else None
    base = period or parse_period("last-month", TODAY)
    vs = None if cmd.vs is None else vs_period(cmd.vs, base, TODAY)
    return cmd.action, cmd.metric, period, cmd.by, cmd.where, vs


@settings(max_examples=200, deadline=None)
@given(pairs())
def test_chinese_command_words_ask_the_same_as_english(pair: tuple[str, str]) -> None:
    english, chinese = pair
    assert resolved(chinese) == resolved(english)


def test_same_period_last_year_in_both_languages() -> None:
    for text in ("nps 2026-Q3 vs same period last year", "净推荐值 2026-Q3 对比 去年同期", "nps 2026-Q3 vs yoy"):
        assert parse_command(text).vs == SAME_PERIOD_LAST_YEAR
    q3 = parse_period("2026-Q3", TODAY)
    assert vs_period(SAME_PERIOD_LAST_YEAR, q3, TODAY).label == "2025-Q3"
    # a period to date compares with the same days a year earlier: 1–25 November 2026 → 1–25 November 2025
    assert vs_period("去年同期", parse_period("this-month", TODAY), TODAY).label == "2025-11-01 – 2025-11-25"


def test_the_same_answer_on_the_demo(demo_master) -> None:
    """End to end: `/nps 上季度 按 地区 对比 去年同期` answers exactly what `nps last-quarter by region vs same period
    last year` does (the JSON of both, numbers and all)."""
    from bot.context import build_context
    from config import Settings

    ctx = build_context(Settings(), workbook=str(demo_master), today=TODAY)
    english = render_json(answer("nps last-quarter by region vs same period last year", ctx))
    chinese = render_json(answer("上季度 按 地区 对比 去年同期", ctx, command="/nps"))
    for reply in (english, chinese):
        reply.pop("query", None)  # the text as typed differs, nothing else
    assert chinese == english and english["previous"]["period"]["label"] == "2025-Q3"
