"""The metric catalogue: every entry complete and consistent, and the README's metric list is the catalogue's."""

from __future__ import annotations

import re
from pathlib import Path

from metrics.registry import CATALOGUE, METRICS, OVERVIEW, SUMMARY

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_the_catalogue_in_order():
    text = README.read_text(encoding="utf-8")
    listed = re.search(r"^Metrics: `([^`]+)`", text, re.M)
    assert listed, "README's Commands section starts a line with Metrics: `…`"
    assert listed.group(1).split() == list(CATALOGUE)


def test_every_entry_has_a_label_help_and_unique_command():
    commands = [s.command for s in CATALOGUE.values() if s.command]
    assert len(commands) == len(set(commands))
    for spec in CATALOGUE.values():
        assert spec.label and spec.help and len(spec.help) <= 100, spec.name
        assert spec.command is None or spec.command == f"/{spec.name}", spec.name


def test_reports_are_not_computed_by_the_engine_and_lists_name_metrics():
    assert set(CATALOGUE) - set(METRICS) == {"cohorts", "risk", "overview"}
    assert set(OVERVIEW) <= set(METRICS) and set(SUMMARY) <= set(METRICS)
    assert "net-clv" not in SUMMARY


def test_usage_follows_the_clauses_a_metric_takes():
    assert CATALOGUE["nps"].usage == "[period] [by <dimension>] [where <dimension>=<value>] [vs <period>]"
    assert CATALOGUE["cohorts"].usage == "[period] [by <dimension>] [where <dimension>=<value>]"
    assert CATALOGUE["risk"].usage == "[by <dimension>] [where <dimension>=<value>]"
