"""The command grammar: slash metrics, the /pulse umbrella, clauses, quotes, Chinese aliases and every error."""

import pytest

from bot.grammar import ACTIONS, Command, CommandError, canonical_metric, check_period, parse_command
from metrics.periods import PeriodError
from metrics.registry import CATALOGUE


def test_the_full_grammar_on_the_umbrella():
    cmd = parse_command("nps last-quarter by region where plan=Pro vs last-year")
    assert cmd == Command("metric", "nps", "last-quarter", "region", {"plan": "Pro"}, "last-year",
                          "nps last-quarter by region where plan=Pro vs last-year")


def test_slash_metric_takes_the_whole_text_as_clauses():
    assert parse_command("last-quarter by region", "/nps") == Command(
        "metric", "nps", "last-quarter", "region", raw="last-quarter by region")
    assert parse_command("", "/csat") == Command("metric", "csat")
    assert parse_command("  ", "/LTV-CAC").metric == "ltv-cac"


def test_raw_is_the_text_after_the_command():
    assert parse_command("  churn 2026-Q3  ", "/pulse").raw == "churn 2026-Q3"


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "?", "帮助", "help nps"])
def test_help(text):
    assert parse_command(text).action == "help"


def test_help_is_one_page_and_works_after_a_slash_metric():
    """Help has no topic (issue 15: the topic was parsed but never read): a word after it changes nothing."""
    assert parse_command("help 净推荐值") == Command("help", raw="help 净推荐值")
    assert parse_command("help", "/churn") == Command("help", raw="help")


@pytest.mark.parametrize(
    "text, action",
    [("refresh", "refresh"), ("digest", "digest"), ("targets", "targets"), ("issues", "issues"),
     ("alerts", "alerts"), ("Refresh", "refresh"), ("刷新", "refresh"), ("目标", "targets"), ("数据问题", "issues")],
)
def test_umbrella_actions(text, action):
    assert parse_command(text) == Command(action, raw=text)


def test_digest_post_flag_and_args():
    assert parse_command("digest post #sales") == Command("digest", raw="digest post #sales", args=("post", "#sales"), post=True)
    assert parse_command("digest").post is False
    assert parse_command("digest preview").post is False


def test_targets_take_a_period():
    assert parse_command("targets last-month") == Command("targets", period="last-month", raw="targets last-month")


def test_why_forecast_survival():
    assert parse_command("why nps last-quarter by region") == Command(
        "why", "nps", "last-quarter", "region", raw="why nps last-quarter by region")
    assert parse_command("why 流失率 上月") == Command("why", "churn", "上月", raw="why 流失率 上月")
    assert parse_command("forecast revenue") == Command("forecast", "revenue", raw="forecast revenue")
    assert parse_command("预测 churn") == Command("forecast", "churn", raw="预测 churn")
    assert parse_command("survival") == Command("survival", raw="survival")
    assert parse_command("survival by plan") == Command("survival", by="plan", raw="survival by plan")
    assert parse_command("why last-month", "/nps") == Command("why", "nps", "last-month", raw="why last-month")
    assert parse_command("forecast", "/churn") == Command("forecast", "churn", raw="forecast")


@pytest.mark.parametrize(
    "text, metric",
    [
        ("ltv:cac", "ltv-cac"), ("LTV:CAC", "ltv-cac"), ("ltvcac", "ltv-cac"), ("ltv-cac", "ltv-cac"),
        ("repeat-purchase", "repeat"), ("repeat purchase", "repeat"), ("complaint-rate", "complaints"),
        ("churn-rate", "churn"), ("churn_rate", "churn"), ("active customers", "customers"), ("new customers", "new"),
        ("净推荐值", "nps"), ("满意度", "csat"), ("客户满意度指数", "csi"), ("流失率", "churn"), ("留存率", "retention"),
        ("重复购买率", "repeat"), ("回购率", "returning"), ("投诉率", "complaints"), ("客户投诉率", "complaints"),
        ("问题解决率", "resolution"), ("退换货率", "refunds"), ("续约率", "renewal"), ("增长率", "growth"),
        ("客户终身价值", "clv"), ("获客成本", "cac"), ("失效客户占比", "lapsed"), ("概览", "overview"),
        ("总览", "overview"), ("收入", "revenue"), ("NPS", "nps"),
    ],
)
def test_aliases(text, metric):
    assert parse_command(f"{text} last-month").metric == metric
    assert parse_command(f"{text} last-month").period == "last-month"


def test_every_canonical_name_parses_to_itself():
    for name in CATALOGUE:
        assert parse_command(name).metric == name
        assert canonical_metric(name) == name


def test_aliases_are_unique_and_do_not_shadow_actions():
    aliases = [a for spec in CATALOGUE.values() for a in spec.aliases] + list(CATALOGUE)
    assert len(aliases) == len(set(aliases))
    assert not set(aliases) & set(ACTIONS)


def test_chinese_keywords_with_and_without_spaces():
    expected = Command("metric", "nps", "上季度", "地区", vs="去年", raw="")
    for text in ("净推荐值 上季度 按 地区 对比 去年", "净推荐值 上季度 按地区 对比去年"):
        cmd = parse_command(text)
        assert (cmd.metric, cmd.period, cmd.by, cmd.vs) == (expected.metric, expected.period, expected.by, expected.vs)
    assert parse_command("上季度 按照 地区", "/nps").by == "地区"


def test_period_text_keeps_its_words_with_spacing_normalised():
    assert parse_command("revenue last   30 days").period == "last 30 days"
    assert parse_command("revenue since 2026-01-01").period == "since 2026-01-01"
    assert parse_command("revenue 2026-01-01 .. 2026-03-31").period == "2026-01-01 .. 2026-03-31"
    assert parse_command("revenue Last Quarter").period == "Last Quarter"


def test_clauses_in_any_order():
    cmd = parse_command("churn by plan vs 2025-Q3 2026-Q3 where region=North")
    assert (cmd.period, cmd.by, cmd.vs, cmd.where) == ("2026-Q3", "plan", "2025-Q3", {"region": "North"})


def test_vs_takes_a_multi_word_period():
    assert parse_command("nps last 30 days vs last 60 days").vs == "last 60 days"


@pytest.mark.parametrize(
    "text, where",
    [
        ("revenue where region=North", {"region": "North"}),
        ('revenue where region="North East"', {"region": "North East"}),
        ("revenue where region=“North East”", {"region": "North East"}),
        ("revenue where region='North East'", {"region": "North East"}),
        ('revenue where "customer type"=B2B', {"customer type": "B2B"}),
        ("revenue where region = North", {"region": "North"}),
        ("revenue where region= North", {"region": "North"}),
        ("revenue where region =North", {"region": "North"}),
        ("revenue where region=North and plan=Pro", {"region": "North", "plan": "Pro"}),
        ("revenue where region=North where plan=Pro", {"region": "North", "plan": "Pro"}),
        ("revenue where region=North 且 plan=Pro", {"region": "North", "plan": "Pro"}),
        ("revenue where name=O'Brien", {"name": "O'Brien"}),
        ('revenue where note="a=b"', {"note": "a=b"}),
        ("revenue where 地区=华东", {"地区": "华东"}),
        ('revenue where region="by"', {"region": "by"}),
    ],
)
def test_where(text, where):
    cmd = parse_command(text)
    assert cmd.where == where and cmd.period is None


def test_quoted_dimension_for_by():
    assert parse_command('nps by "customer type"').by == "customer type"


def test_a_leading_period_on_the_umbrella_means_overview():
    assert parse_command("last-quarter") == Command("metric", "overview", "last-quarter", raw="last-quarter")
    assert parse_command("上月").metric == "overview"


class TestErrors:
    def test_unknown_metric_suggests_the_closest(self):
        with pytest.raises(CommandError) as err:
            parse_command("nsp last-month")
        assert str(err.value) == "unknown metric 'nsp' — did you mean nps? Try `/pulse help`."
        assert err.value.suggestion == "nps"

    @pytest.mark.parametrize("text, suggestion", [("chrun", "churn"), ("revenu", "revenue"), ("ltv:cca", "ltv-cac"),
                                                  ("hlep", "help"), ("why nsp", "nps"), ("流失", "churn"), ("净推荐", "nps")])
    def test_suggestions(self, text, suggestion):
        try:
            cmd = parse_command(text)
        except CommandError as err:
            assert err.suggestion == suggestion
        else:
            assert cmd.metric == suggestion  # an exact alias needs no suggestion

    def test_nothing_close(self):
        with pytest.raises(CommandError, match=r"^unknown metric 'xyzzy'\. Try `/pulse help`") as err:
            parse_command("xyzzy")
        assert err.value.suggestion is None

    @pytest.mark.parametrize(
        "text, message",
        [
            ("nps by", "by needs a dimension"),
            ("nps by where region=North", "by needs a dimension"),
            ("nps by region=North", "by takes a dimension name only; to filter use `where region=North`"),
            ("nps by region by plan", "only one by per command"),
            ("nps where", "where needs dimension=value"),
            ("nps where region", "'region' is not a filter; where needs dimension=value"),
            ("nps where region=", "where region= has no value"),
            ("nps where =North", "where '=North' has no dimension"),
            ("nps where region==North", "use a single ="),
            ("nps where region=North and", "where needs dimension=value"),
            ("nps where region=North and Region=South", "where filters Region twice"),
            ("nps where region=North East", "'East' after where region=North is not a period — quote values with spaces"),
            ('nps where region="North', "unclosed quote"),
            ("nps vs", "vs needs a period"),
            ("nps vs last-year vs 2024", "only one vs per command"),
            ("nps and plan=Pro", "'and' only joins filters"),
            ("nps last-month 2026-Q1", "two periods \\('last-month' and '2026-Q1'\\); compare them with `last-month vs 2026-Q1`"),
            ("nps last-month by region 2026-Q1", "two periods"),
            ("by region", "a metric comes before 'by'"),
            ("why", "why needs a metric"),
            ("forecast", "forecast needs a metric"),
        ],
    )
    def test_specific_messages(self, text, message):
        with pytest.raises(CommandError, match=message):
            parse_command(text)

    def test_bad_periods_surface_the_period_error(self):
        with pytest.raises(PeriodError, match="did you mean last-quarter") as err:
            parse_command("nps last-quater")
        assert err.value.suggestion == "last-quarter"
        with pytest.raises(PeriodError, match="month must be 01–12"):
            parse_command("vs 2026-13", "/nps")
        with pytest.raises(PeriodError, match="did you mean last-30-days"):
            parse_command("revenue last 30 dyas")

    def test_errors_are_value_errors(self):
        assert issubclass(CommandError, ValueError) and issubclass(PeriodError, ValueError)


def test_check_period():
    assert check_period("  last   quarter ") == "last quarter"
    assert check_period("since 2026-01-01") == "since 2026-01-01"
    with pytest.raises(PeriodError):
        check_period("fortnight")


class TestLongInput:
    """Issue 14.7: parsing is linear in the input — long commands are refused before they are read, and periods
    are looked for only in short runs of words (before, `nps x x x …` of 8 KB took ~5 s in period checks)."""

    @pytest.mark.parametrize("size", [1_001, 8_192, 40_000])
    def test_over_the_limit_is_refused_naming_the_limit(self, size):
        with pytest.raises(CommandError, match=f"that command is {size:,} characters long; commands are at most 1,000"):
            parse_command("n" * size)

    @pytest.mark.parametrize("text", [
        "nps " + "x " * 498,  # one long unknown 'period'
        "nps vs " + "x " * 496,  # vs followed by many words
        "nps last-month " + "a " * 490,  # a period then junk
        "nps where " + "d=1 and " * 120,  # many filters
    ], ids=["words", "vs-words", "period-then-words", "filters"])
    def test_a_1000_character_command_tries_few_short_periods(self, monkeypatch, text):
        import bot.grammar as grammar

        seen: list[str] = []
        real = grammar.parse_period

        def counting(period_text, today):
            seen.append(period_text)
            return real(period_text, today)

        monkeypatch.setattr(grammar, "parse_period", counting)
        assert len(text) <= 1_000
        with pytest.raises(ValueError):
            parse_command(text)
        # at most 6 leading runs for `vs` plus one more; each period text at most 60 characters
        assert len(seen) <= 7 and all(len(t) <= 60 for t in seen), (len(seen), max(map(len, seen), default=0))

    def test_messages_quote_long_words_shortened(self):
        with pytest.raises(CommandError) as err:
            parse_command("z" * 900)
        assert len(str(err.value)) < 200 and "…" in str(err.value)
