"""Predicted CLV and churn risk reach the answers: /clv shows both CLVs, /pulse risk ranks by value at stake,
and refresh writes the Pulse Customers tab."""

import pytest

from bot.context import build_context
from bot.query import answer
from bot.render.format import number
from bot.render.json import render_json
from bot.render.text import render_text
from config import parse_settings
from sheets.local import LocalWorkbook
from tests.bot.conftest import TODAY


@pytest.fixture(scope="module")
def ctx(demo_master):
    return build_context(parse_settings({}), workbook=str(demo_master), today=TODAY)


def test_clv_answer_carries_the_prediction(ctx):
    data = render_json(answer("clv last-month", ctx))
    predicted = data["details"]["predicted"]
    low, high = predicted["interval"]
    assert low < predicted["total"] < high
    assert predicted["customers"] > 1900 and predicted["horizon_months"] == 12
    tops = [c["predicted_clv"] for c in predicted["top"]]
    assert tops == sorted(tops, reverse=True) and len(tops) == 5
    assert any(n.startswith("predicted next 12 months") for n in data["notes"])
    assert data["value"] is not None  # the historical CLV stays the headline


def test_predicted_clv_is_worded_by_the_renderer_in_its_currency(ctx):
    """The query layer leaves money to bot/render: the result carries the prediction's numbers, not a sentence in
    dollars, so an answer rendered in euros words the predicted total in euros like its headline."""
    reply = answer("clv last-month", ctx)
    assert not any(n.startswith("predicted next") for n in reply.result.notes)
    predicted = reply.result.details["predicted"]
    text = render_text(reply, "EUR")
    (line,) = [x for x in text.splitlines() if "predicted next 12 months" in x]
    assert f"predicted next 12 months: {number(predicted['total'], 'money', 'EUR')} across" in line
    assert "€" in line and "$" not in line
    (note,) = [n for n in render_json(reply, "EUR")["notes"] if n.startswith("predicted next 12 months")]
    assert note in line


def test_risk_lists_customers_by_value_at_stake(ctx):
    data = render_json(answer("risk", ctx))
    assert data["columns"] == ["rank", "customer", "P(alive)", "value at stake", "segment"]
    stakes = [row[3] for row in data["rows"]]
    assert stakes == sorted(stakes, reverse=True) and len(stakes) == 10
    assert all(row[2] < 0.5 for row in data["rows"])
    assert all(str(row[1]).startswith("C") for row in data["rows"])  # ids only, no names or e-mails
    assert data["at_risk"] >= len(stakes)


def test_refresh_writes_pulse_customers(demo_workbook):
    from bot.tabs import refresh

    ctx = build_context(parse_settings({}), workbook=str(demo_workbook), today=TODAY)
    report = refresh(ctx)
    assert "Pulse Customers" in report.written
    rows = LocalWorkbook(demo_workbook).read_owned("Pulse Customers")
    assert rows[0] == ["Customer", "Segment", "P(alive)", "Expected purchases", "Predicted CLV", "Value at stake", "Risk rank",
                       "Churned on"]
    body = rows[1:]
    assert len(body) > 1900
    assert all(0 <= r[2] <= 1 for r in body if r[2] is not None)
    ranks = sorted(int(r[6]) for r in body if r[6] not in (None, ""))
    assert ranks == list(range(1, len(ranks) + 1))


def test_clv_by_says_the_prediction_is_not_split(ctx):
    """`clv by region` splits the historical CLV; the predicted total says it covers every region together."""
    data = render_json(answer("clv last-month by region", ctx))
    assert {s["segment"] for s in data["breakdown"]} == {"North", "East", "South", "West"}
    (note,) = [n for n in data["notes"] if n.startswith("predicted next 12 months")]
    assert note.endswith("not split by region")
