"""Issue 14.5/14.6 for the add-on API over real HTTP: the signature is checked before the body is parsed, malformed
or oversized input is a 4xx with one log line, never a 500 or schema details before authentication."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.addon.auth import sign
from tests.bot.addon.conftest import SECRET, SHEET
from tests.bot.addon.test_api import problem


def warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


UNSIGNED = {
    "invalid-json": b"{",
    "not-utf8": b'{"spreadsheet_id": "\xff"}',
    "json-list": b"[]",
    "schema-violation": json.dumps({"spreadsheet_id": SHEET, "limit": "many", "extra": 1}).encode(),
}


@pytest.mark.parametrize("kind", UNSIGNED, ids=list(UNSIGNED))
def test_unsigned_bad_bodies_are_refused_before_parsing(addon, caplog, kind):
    client, _, _ = addon
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        body = problem(client.raw("/addon/issues", UNSIGNED[kind], {"content-type": "application/json"}), 401)
        time.sleep(0.05)
    assert "missing" in body["detail"] and "errors" not in body  # no schema details before authentication
    (line,) = warnings(caplog)
    assert line.exc_info is None


def test_a_400_digit_timestamp_is_refused_not_a_500(addon, caplog):
    client, _, _ = addon
    body = json.dumps({"spreadsheet_id": SHEET}).encode()
    ts = "9" * 400
    headers = {"content-type": "application/json", "x-pulse-timestamp": ts, "x-pulse-signature": sign(SECRET, ts, body)}
    with caplog.at_level(logging.WARNING):
        assert problem(client.raw("/addon/issues", body, headers), 401)["detail"] == "X-Pulse-Timestamp must be Unix seconds"
        time.sleep(0.05)
    (line,) = warnings(caplog)
    assert line.exc_info is None


def test_signed_invalid_json_gets_the_schema_problem_after_authentication(addon):
    client, _, _ = addon
    body = b"{"
    ts = str(int(time.time()))
    headers = {"content-type": "application/json", "x-pulse-timestamp": ts, "x-pulse-signature": sign(SECRET, ts, body)}
    assert problem(client.raw("/addon/issues", body, headers), 422)["title"] == "Invalid request"


def test_a_period_before_year_1800_is_a_400_not_a_500(addon):
    client, _, _ = addon
    detail = problem(client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "since 0001-01-01"}), 400)["detail"]
    assert "out of range" in detail


@pytest.mark.parametrize("period", ["last-month where region=North", "last-month by region", "help"])
def test_kpi_period_is_a_period_not_a_command(addon, period):
    """The add-on's period field is typed as a period: it cannot smuggle `where`/`by` clauses or another command into
    the query (it was pasted after "overview " and re-parsed as command text, so a filter came back as cards)."""
    client, _, _ = addon
    body = problem(client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": period}), 400)
    assert body["title"] == "Bad Request"
    assert "period" in body["detail"]
