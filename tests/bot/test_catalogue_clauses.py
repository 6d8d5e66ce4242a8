"""The clauses a catalogue entry says it does not take (`takes_period`, `takes_vs` — shown in its Slack usage hint)
are refused with a sentence, never ignored."""

from __future__ import annotations

from datetime import date

import pytest

from bot.context import build_context
from bot.query import answer
from bot.replies import ErrorReply
from config import parse_settings
from metrics.registry import CATALOGUE
from tests.workbooks import write_source_workbook

REFUSING = [(name, clause) for name, s in CATALOGUE.items() for clause, takes in
            (("2026-Q3", s.takes_period), ("vs 2025-Q3", s.takes_vs)) if not takes]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    book = write_source_workbook(tmp_path_factory.mktemp("clauses") / "book.xlsx", {
        "Orders": [["customer_id", "order_date", "amount"], ["007", "2026-08-02", 120.5]],
    })
    return build_context(parse_settings({}), workbook=str(book), today=date(2026, 11, 16))


def test_some_entries_refuse_a_clause():
    assert ("risk", "2026-Q3") in REFUSING and ("cohorts", "vs 2025-Q3") in REFUSING


@pytest.mark.parametrize("name, clause", REFUSING)
def test_a_clause_the_catalogue_says_is_not_taken_is_refused(ctx, name, clause):
    reply = answer(f"{name} {clause}", ctx)
    assert isinstance(reply, ErrorReply), f"{name} {clause} was answered instead of refused"
