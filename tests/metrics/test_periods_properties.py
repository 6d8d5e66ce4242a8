"""Invariants of period parsing and comparison periods over random dates, forms and fiscal starts."""

from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from metrics.periods import PeriodError, comparison_period, month_periods, parse_period, week_start

WORDS = (
    "today", "yesterday", "this-week", "last-week", "this-month", "last-month", "this-quarter", "last-quarter",
    "this-year", "last-year", "ytd", "qtd", "mtd", "本周", "上周", "本月", "上月", "本季度", "上季度", "今年", "去年",
)
month_ends = st.builds(lambda y, m: date(y, m, 1) - timedelta(days=1), st.integers(1902, 2199), st.integers(1, 12))
todays = st.one_of(st.dates(date(1901, 1, 1), date(2199, 12, 31)), month_ends)
fiscal = st.integers(1, 12)


@st.composite
def forms(draw, today: date) -> str:
    """Any accepted period text that is valid on `today`."""
    kind = draw(st.sampled_from(("word", "last-n", "year", "quarter", "month", "week", "range", "since")))
    year = draw(st.integers(1901, 2199))
    if kind == "word":
        return draw(st.sampled_from(WORDS))
    if kind == "last-n":
        return f"last-{draw(st.integers(1, 400))}-{draw(st.sampled_from(('days', 'weeks', 'months')))}"
    if kind == "year":
        return str(year)
    if kind == "quarter":
        return f"{year}-Q{draw(st.integers(1, 4))}"
    if kind == "month":
        return f"{year}-{draw(st.integers(1, 12)):02d}"
    if kind == "week":
        return f"{year}-W{draw(st.integers(1, date(year, 12, 28).isocalendar()[1])):02d}"
    if kind == "range":
        first = draw(st.dates(date(1901, 1, 1), date(2199, 12, 31)))
        last = draw(st.dates(first, min(date(2199, 12, 31), first + timedelta(days=2000))))
        return f"{first.isoformat()}..{last.isoformat()}"
    return f"since {draw(st.dates(date(1901, 1, 1), today)).isoformat()}"


@st.composite
def cases(draw):
    """A today, a period text that has started by then (later ones are errors, tested below) and a fiscal start."""
    today, fy = draw(todays), draw(fiscal)
    text = draw(forms(today))
    try:
        parse_period(text, today, fy)
    except PeriodError as err:
        assume("has not started yet" not in str(err))
        raise
    return today, text, fy


@settings(max_examples=100, deadline=None)
@given(todays, forms(date(2199, 12, 31)), fiscal)
def test_no_period_runs_past_today_and_one_starting_later_is_refused(today, text, fy):
    try:
        p = parse_period(text, today, fy)
    except PeriodError as err:
        assert str(err).endswith(f"has not started yet; today is {today.isoformat()}")
        return
    assert p.start <= today and p.end <= today + timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_every_period_is_non_empty_and_partial_ones_end_tomorrow(case):
    today, text, fy = case
    p = parse_period(text, today, fy)
    assert p.start < p.end
    if p.partial:
        assert p.end == today + timedelta(days=1) and p.start <= today


@settings(max_examples=100, deadline=None)
@given(cases())
def test_comparison_immediately_precedes_with_the_same_length(case):
    today, text, fy = case
    p = parse_period(text, today, fy)
    c = comparison_period(p)
    assert c.start < c.end <= p.start
    assert c.fiscal_year_start_month == fy
    if not p.partial:
        assert c.end == p.start
    if p.kind in ("day", "days", "weeks", "range", "since") or (p.kind == "week" and not p.partial):
        assert c.end == p.start and c.days == p.days
    elif p.partial:
        assert c.days == p.days or c.end == p.start  # a fragment, clipped only at the end of its unit
    if p.kind == "month" and not p.partial:
        assert c.start.day == 1 and (c.start + timedelta(days=c.days)) == p.start


@settings(max_examples=50, deadline=None)
@given(cases())
def test_repeated_comparisons_walk_back_without_overlap(case):
    today, text, fy = case
    p = parse_period(text, today, fy)
    for _ in range(3):
        c = comparison_period(p)
        assert c.start < c.end <= p.start
        p = c


@settings(max_examples=100, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_case_and_spacing_do_not_matter(case, rnd):
    today, text, fy = case
    mangled = "".join(ch.upper() if rnd.random() < 0.5 else ch for ch in text)
    mangled = "".join(rnd.choice(("-", " ", " - ", "_")) if ch == "-" else ch for ch in mangled)
    assert parse_period(mangled, today, fy) == parse_period(text, today, fy)


@settings(max_examples=50, deadline=None)
@given(todays, todays)
def test_month_periods_tile_first_to_last(a, b):
    first, last = min(a, b), max(a, b)
    months = month_periods(first, last)
    assert months[0].start <= first < months[0].end and months[-1].start <= last < months[-1].end
    assert all(x.end == y.start for x, y in zip(months, months[1:]))
    assert all(m.kind == "month" and m.start.day == 1 for m in months)


@settings(max_examples=50, deadline=None)
@given(todays)
def test_week_start_is_the_monday_on_or_before(d):
    monday = week_start(d)
    assert monday.weekday() == 0 and 0 <= (d - monday).days < 7
