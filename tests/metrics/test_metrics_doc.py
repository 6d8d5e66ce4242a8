"""docs/metrics.md, the user-facing definitions, has one section per catalogue metric (issue 15)."""

from pathlib import Path

from metrics.registry import METRICS

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def _sections() -> dict[str, str]:
    """Metric name → its section's heading: each `## <label>` is followed by a line starting with `<name>`."""
    out: dict[str, str] = {}
    heading = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif heading is not None and line.startswith("`"):
            out[line.split("`")[1]] = heading
            heading = None
    return out


def test_every_catalogue_metric_has_a_section():
    documented = _sections()
    assert [name for name in METRICS if name not in documented] == []


def test_every_section_opens_with_its_name_and_has_an_example():
    text = DOC.read_text(encoding="utf-8")
    sections = text.split("\n## ")[1:]
    assert len(sections) == len(_sections())
    assert all("**Example.**" in section for section in sections)
