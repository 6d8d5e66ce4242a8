"""Adding a metric is one catalogue entry (docs/adding-a-metric.md): a toy metric registered in metrics/registry.py
is parsed by the grammar (name, aliases, its own slash command), listed by `/pulse help`, declared in the Slack
manifest, accepted as a target, and answered through the real bolt app — nothing else was edited."""

from __future__ import annotations

import pytest

from bot.grammar import parse_command
from bot.help import help_reply
from bot.slack.manifest import manifest_text
from config import parse_settings
from metrics import registry
from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.registry import MetricSpec
from metrics.result import MetricResult
from metrics.tables import Tables
from tests.bot.slack.conftest import SMALL_TABS, demo_context, write_workbook


def big_orders(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Orders of 100 or more placed in P (a toy metric for this test)."""
    days = t.orders["order_date"]
    inside = (days >= str(p.start)) & (days < str(p.end)) & (t.orders["amount"] >= 100)
    n = int(inside.sum())
    return MetricResult(metric="big-orders", label="Big orders", unit="count", period=p, value=float(n), n=n)


TOY = MetricSpec(
    "big-orders",
    big_orders,
    "value",
    ("orders",),
    "Big orders",
    "count",
    "orders of 100 or more",
    ("large-orders", "大额订单"),
    "/big-orders",
)


@pytest.fixture
def toy(monkeypatch):
    """The toy metric in the catalogue for one test (what adding its entry to `_SPECS` does for good)."""
    monkeypatch.setitem(registry.CATALOGUE, TOY.name, TOY)
    monkeypatch.setitem(registry.METRICS, TOY.name, TOY)


def test_grammar_help_manifest_and_targets_pick_up_a_new_catalogue_entry(toy):
    assert parse_command("large orders last-month by region").metric == "big-orders"
    assert parse_command("大额订单 上月").metric == "big-orders"
    assert parse_command("2026-08 vs 2026-09", "/big-orders").vs == "2026-09"
    settings = parse_settings({"targets": {"big-orders": 3}})
    assert settings.targets == {"big-orders": 3}
    assert "`big-orders` — orders of 100 or more" in str(help_reply(settings).sections)
    manifest = manifest_text()
    assert '    - command: /big-orders\n' in manifest
    assert 'description: "Orders of 100 or more"' in manifest


def test_a_new_metric_is_answered_on_its_own_slash_command(toy, start_slack, tmp_path):
    book = write_workbook(tmp_path / "book.xlsx", SMALL_TABS)
    slack = start_slack(demo_context(book))
    # SMALL_TABS orders: 007 on 2026-08-02 for 120.5 (big), 008 on 2026-09-03 for 80.0 (not) → 1 in August, 0 in September.
    answer = slack.answer(slack.command("/big-orders", "2026-08 vs 2026-09"), timeout=30)
    assert answer["text"].startswith("Big orders — 2026-08: 1\n  ▲ 1 vs 2026-09\n  n = 1")
