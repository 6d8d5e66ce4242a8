"""The layers of README "Architecture": metrics/ imports nothing of ours outside metrics/; sheets/ and config/ reach
into metrics/ only for the source schema (metrics/schema.py, which imports nothing) and the error root
(metrics/errors.py) — config also for the metric names its `[targets]` accept; nothing below bot/ imports bot/."""

from __future__ import annotations

from tests.test_import_graph import edges

GRAPH = edges()


def _out(package: str) -> dict[str, set[str]]:
    """Each module of `package` → the modules of ours it imports from other packages."""
    return {
        name: {t for t in targets if t.split(".")[0] != package}
        for name, targets in GRAPH.items()
        if name.split(".")[0] == package
    }


def test_metrics_import_nothing_of_ours_outside_metrics():
    assert {name: out for name, out in _out("metrics").items() if out} == {}


def test_the_schema_imports_nothing_of_ours():
    assert set(GRAPH["metrics.schema"]) == set()


def test_sheets_reach_metrics_only_for_the_schema_and_never_bot():
    allowed = {"metrics.schema", "metrics.errors"}
    found = {name: out - allowed for name, out in _out("sheets").items()}
    assert {name: out for name, out in found.items() if any(not t.startswith("config") for t in out)} == {}


def test_config_reaches_metrics_only_for_the_schema_and_metric_names():
    allowed = {"metrics.schema", "metrics.errors", "metrics.registry"}
    assert {name: out - allowed for name, out in _out("config").items() if out - allowed} == {}
