"""docs/metrics.md, the user-facing definitions: one `## <label>` section per catalogue entry, in catalogue order,
each opening with the entry's name, command, unit and direction as the catalogue has them (issue 15)."""

from pathlib import Path

import pytest

from metrics.registry import CATALOGUE, MetricSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
# How the first line of a section names each unit.
UNIT_WORDS = {"percent": "percent", "money": "money", "count": "count", "ratio": "ratio", "nps": "NPS points"}


def _sections() -> list[tuple[str, str, str]]:
    """(heading, first line, whole text) of every `## ` section."""
    out = []
    for part in DOC.read_text(encoding="utf-8").split("\n## ")[1:]:
        heading, _, body = part.partition("\n")
        first = next(line for line in body.splitlines() if line.strip())
        out.append((heading.strip(), first, body))
    return out


def test_one_section_per_catalogue_entry_in_catalogue_order():
    assert [heading for heading, _, _ in _sections()] == [spec.label for spec in CATALOGUE.values()]


@pytest.mark.parametrize("spec", CATALOGUE.values(), ids=list(CATALOGUE))
def test_section_opens_with_the_catalogue_facts_and_has_an_example(spec: MetricSpec):
    heading, first, body = next(s for s in _sections() if s[0] == spec.label)
    facts = first.split(" · ")
    assert facts[0] == f"`{spec.name}`", heading
    assert (f"`{spec.command}`" in facts) == (spec.command is not None), heading
    if spec.unit is not None:
        assert UNIT_WORDS[spec.unit] in first, heading
    if spec.kind != "report":
        assert ("lower is better" if spec.lower_is_better else "higher is better") in facts, heading
    assert ("default period: last quarter" in facts) == (spec.default_period == "surveys"), heading
    assert "**Example.**" in body, heading
