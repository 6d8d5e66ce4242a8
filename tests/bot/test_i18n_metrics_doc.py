"""docs/metrics.zh-CN.md, the definitions in 简体中文: one `## <Chinese label>` section per catalogue entry, in
catalogue order (the labels as the catalogue translates them), each opening with the entry's name."""

from pathlib import Path

from bot.i18n import _, use
from metrics.registry import CATALOGUE

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.zh-CN.md"


def test_one_section_per_catalogue_entry_with_its_chinese_label_and_name():
    parts = DOC.read_text(encoding="utf-8").split("\n## ")[1:]
    sections = [(p.partition("\n")[0].strip(), p.partition("\n")[2].strip().splitlines()[0]) for p in parts]
    with use("zh-CN"):
        labels = [_(spec.label) for spec in CATALOGUE.values()]
    assert [heading for heading, _first in sections] == labels
    for spec, (heading, first) in zip(CATALOGUE.values(), sections, strict=True):
        assert first.split(" · ")[0] == f"`{spec.name}`", heading
