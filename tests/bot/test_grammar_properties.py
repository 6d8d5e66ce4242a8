"""Grammar invariants: any composition of clauses parses back to its parts; any text gives a Command or a user error."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar import CommandError, parse_command
from metrics.periods import PeriodError
from metrics.registry import CATALOGUE

PERIODS = ("last-quarter", "last 30 days", "2026-Q3", "2026-W53", "ytd", "since 2026-01-01", "2026-01-01..2026-01-31",
           "上季度", "去年", "2025", "2026-11", "last 3 months")
KEYWORDS = {"by", "where", "vs", "vs.", "versus", "and"}
names = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
values = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ]{0,14}", fullmatch=True).map(str.strip).filter(bool)


@st.composite
def commands(draw):
    canonical = draw(st.sampled_from(sorted(CATALOGUE)))
    alias = draw(st.sampled_from((canonical, *CATALOGUE[canonical].aliases)))
    period = draw(st.none() | st.sampled_from(PERIODS))
    by = draw(st.none() | names)
    where = draw(st.dictionaries(names, values, max_size=3))
    if len({k.lower() for k in where}) < len(where):
        where = {}
    vs = draw(st.none() | st.sampled_from(PERIODS))
    clauses = []
    if period:
        clauses.append(period)
    if by:
        clauses.append(f"by {by}")
    if where:
        joiner = draw(st.sampled_from((" and ", " where ")))
        clauses.append("where " + joiner.join(f'{k}="{v}"' for k, v in where.items()))
    if vs:
        clauses.append(f"vs {vs}")
    order = draw(st.permutations(clauses))
    return canonical, alias, period, by, where, vs, " ".join(order)


@settings(max_examples=100, deadline=None)
@given(commands())
def test_composed_commands_parse_back_to_their_parts(case):
    canonical, alias, period, by, where, vs, clauses = case
    for cmd in (parse_command(f"{alias} {clauses}"), parse_command(clauses, f"/{canonical}")):
        assert (cmd.action, cmd.metric, cmd.period, cmd.by, cmd.where, cmd.vs) == ("metric", canonical, period, by, where, vs)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60) | st.lists(st.sampled_from(("nps", "by", "where", "vs", "and", "=", "a=b", '"', "last", "30", "days",
                                                           "2026-Q3", "按", "对比", "help", "why", "x")), max_size=8).map(" ".join))
def test_any_text_gives_a_command_or_a_user_error(text):
    try:
        cmd = parse_command(text)
    except (CommandError, PeriodError) as err:
        assert str(err)
    else:
        assert cmd.action in ("metric", "help", "refresh", "digest", "targets", "issues", "alerts", "why", "forecast", "survival")
