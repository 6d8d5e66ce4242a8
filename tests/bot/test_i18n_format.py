"""Numbers, money and periods written the locale's way (Babel), with the rounding rules unchanged; config language."""

from __future__ import annotations

from datetime import date

import pytest

from bot.i18n import _, current, translate, use
from bot.render import format as fmt
from config import ConfigError, parse_settings
from metrics.periods import parse_period

TODAY = date(2026, 10, 15)


def zh(fn, *args):
    with use("zh-CN"):
        return fn(*args)


def test_language_defaults_to_english_and_is_set_per_channel_and_rule() -> None:
    assert parse_settings({}).language == "en"
    s = parse_settings(
        {
            "language": "zh-CN",
            "digest": {"channels": [{"channel": "C1", "language": "en"}, {"channel": "C2"}]},
            "alerts": [
                {"name": "a", "metric": "nps", "condition": "crosses_target", "channel": "C1", "language": "en"}
            ],
        }
    )
    assert (s.language, s.digest.channels[0].language, s.digest.channels[1].language) == ("zh-CN", "en", None)
    assert s.alerts[0].language == "en"


def test_an_unknown_language_names_the_accepted_ones() -> None:
    with pytest.raises(ConfigError, match=r"config: language = 'fr': Input should be 'en' or 'zh-CN'"):
        parse_settings({"language": "fr"})
    with pytest.raises(ValueError, match="accepted: en, zh-CN"):
        translate("fr")


def test_use_sets_the_language_only_inside_the_block() -> None:
    with use("zh-CN"):
        assert (current(), _("n/a")) == ("zh-CN", "无数据")
        with use(None):
            assert current() == "zh-CN"
    assert (current(), _("n/a")) == ("en", "n/a")


@pytest.mark.parametrize(
    ("value", "unit", "currency", "en", "zh"),
    [
        (12345.6, "money", "CNY", "¥12,345.60", "¥12,345.60"),
        (12345.6, "money", "USD", "$12,345.60", "US$12,345.60"),
        (12345.6, "money", "EUR", "€12,345.60", "€12,345.60"),
        # 2.675 is 2.67499… as a float: Python rounds it down, and so must the Chinese text (rounded first)
        (2.675, "money", "CNY", "¥2.67", "¥2.67"),
        (12.345, "percent", "USD", "12.3%", "12.3%"),
        (0.05, "percent", "USD", "0.1%", "0.1%"),  # 0.05 is 0.05000000000000000277: up, in both
        (1391.0, "count", "USD", "1,391", "1,391"),
        (42.4, "nps", "USD", "+42", "+42"),
        (7.04, "ratio", "USD", "7.0:1", "7.0:1"),
        (3.25, "days", "USD", "3.2 days", "3.2天"),
        (None, "percent", "USD", "n/a", "无数据"),
    ],
)
def test_numbers_by_locale_keep_the_rounding(value, unit, currency, en, zh) -> None:
    assert fmt.number(value, unit, currency) == en
    with use("zh-CN"):
        assert fmt.number(value, unit, currency) == zh


def test_changes_in_points_and_money() -> None:
    assert (fmt.delta(-2.54, "percent"), fmt.delta(5.2, "nps")) == ("-2.5 pts", "+5 pts")
    with use("zh-CN"):
        assert (fmt.delta(-2.54, "percent"), fmt.delta(5.2, "nps")) == ("-2.5个百分点", "+5分")
        assert fmt.delta(21137.8, "money", "CNY") == "+¥21,137.80"


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("2026-09", "2026-09", "2026年9月"),
        ("2026-Q3", "2026-Q3", "2026年第3季度"),
        ("2026-W41", "2026-W41", "2026年第41周"),
        ("2025", "2025", "2025年"),
        ("this-month", "2026-10 to date", "2026年10月（截至今天）"),
        ("last-30-days", "last 30 days (2026-09-15 – 2026-10-14)", "最近30天（2026年9月15日 – 2026年10月14日）"),
        ("last-1-months", "last 1 month (2026-09)", "最近1个月（2026年9月）"),
        ("since 2026-01-01", "since 2026-01-01", "2026年1月1日以来"),
    ],
)
def test_periods_by_locale(text: str, en: str, zh: str) -> None:
    p = parse_period(text, TODAY)
    assert fmt.period(p) == en == p.label
    with use("zh-CN"):
        assert fmt.period(p) == zh


def test_fiscal_quarters_and_years() -> None:
    with use("zh-CN"):
        assert fmt.period(parse_period("2026-Q1", TODAY, 4)) == "2026财年第1季度"
        assert fmt.period(parse_period("2025", TODAY, 4)) == "2025财年"


def test_invalid_rows_sentence_has_plural_forms() -> None:
    assert fmt.left_out(1, fmt.WORKBOOK) == "1 invalid row was left out of the whole workbook — see /pulse issues"
    assert fmt.left_out(1200, fmt.METRIC_TABS) == (
        "1,200 invalid rows were left out of this metric's tabs — see /pulse issues"
    )
    with use("zh-CN"):
        assert fmt.left_out(1200, fmt.METRIC_TABS) == "本指标的数据表中有 1,200 行无效数据未计入——见 /pulse issues"
