"""Issue 15: rendering (money, units) only in bot/render/ — the reply builders hand numbers to the renderers and
never word a value themselves (no call of `bot.render.format.number`, directly or as `fmt.number`)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILDERS = ["bot/query.py", "bot/actions.py", "bot/alerts/preview.py"]


@pytest.mark.parametrize("path", BUILDERS)
def test_reply_builders_do_not_word_numbers(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w.])number\(|fmt\.number\(|import number\b", source), path


def test_alerts_preview_json_holds_the_number_and_text_words_it(tmp_path):
    """The churn-risk book's revenue in the rule's 28-day window is $721.00 (what the text table showed before
    issue 15): the JSON row now holds the number 721.0 and only the renderer words it as money."""
    import config
    from bot.context import build_context
    from bot.query import answer
    from bot.render.json import render_json
    from bot.render.text import render_text
    from tests.bot.test_risk import TODAY, risk_book

    rule = {"name": "Rev", "metric": "revenue", "window_days": 28, "condition": "moves_percent", "threshold": 5}
    settings = config.parse_settings({"alerts": [{**rule, "channel": "C1"}]})
    ctx = build_context(settings, workbook=str(risk_book(tmp_path / "book.xlsx")), today=TODAY)
    reply = answer("alerts", ctx)
    assert render_json(reply)["rows"][0][3] == 721.0
    assert render_text(reply).splitlines()[2].split()[:4] == ["Rev", "revenue", "moves_percent", "$721.00"]
