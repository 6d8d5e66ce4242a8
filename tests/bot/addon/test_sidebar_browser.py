"""The add-on's sidebar as a person sees it: Sidebar.html, unchanged, in headless Chromium at Google Sheets' 300 px,
with `google.script.run` stubbed in the page (bench/sidebar.py, which also takes the README's screenshot) and the
cards the real `/addon/kpis` view builds. Layout and clicks are real: buttons are pressed with the mouse."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bench.sidebar import WIDTH, Chromium, find_chromium, kpi_reply
from tests.workbooks import two_month_workbook

CHROMIUM = find_chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium, or set PULSE_CHROMIUM): the sidebar's browser test "
    "renders Sidebar.html in headless Chromium",
)


@pytest.fixture(scope="module")
def kpis(tmp_path_factory):
    """`/addon/kpis` for last month (February 2026) and last quarter of the two-month workbook, on 10 March 2026."""
    tmp = tmp_path_factory.mktemp("sidebar")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PULSE_STATE_DIR", str(tmp / "state"))
        path = str(two_month_workbook(tmp / "kpi.xlsx"))
        settings = {"targets": {"revenue": 100}}
        return {p: kpi_reply(path, date(2026, 3, 10), p, settings) for p in ("last-month", "last-quarter")}


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (about a second to start)."""
    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser):
    """The sidebar freshly loaded; its first getKpis call is waiting for an answer."""
    browser.open_sidebar()
    return browser


def answer(page, data) -> None:
    page.evaluate(f"__run.succeed({json.dumps(data)})")


def text(page, element_id: str) -> str:
    """What a person reads in an element (rendered text: hidden or collapsed parts are left out)."""
    return page.evaluate(f"document.getElementById('{element_id}').innerText")


def click(page, selector: str) -> None:
    """Press and release the mouse over the middle of an element, as a person would (it must be on screen, on top)."""
    box = page.evaluate(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
        " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
    )
    hit = page.evaluate(
        f"document.elementFromPoint({box['x']}, {box['y']}) === document.querySelector({json.dumps(selector)})"
    )
    assert hit, f"{selector} is covered or off screen"
    for kind in ("mousePressed", "mouseReleased"):
        page.send(
            "Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1}
        )


def calls(page) -> list:
    return page.evaluate("__run.calls.map(c => [c.name].concat(c.args))")


def test_cards_render_with_formatted_values_at_300_px(page, kpis):
    assert text(page, "meta") == "Loading…" and calls(page) == [["getKpis", "last-month"]]
    data = kpis["last-month"]
    data["cards"][0]["display"]["label"] = '<img src=x onerror="window.owned=1">NPS'  # shown as text, never markup
    answer(page, data)
    page.wait_for("document.querySelectorAll('.card').length > 0")
    assert page.evaluate("document.querySelectorAll('.card').length") == len(data["cards"])
    # Period and "data as of" at the top; the clock is pinned at noon UTC of 10 March, so last month is February.
    assert text(page, "heading") == "2026-02" and text(page, "meta") == "data as of 2026-03-10 12:00 UTC"
    assert page.evaluate("document.getElementById('heading').getBoundingClientRect().bottom") <= page.evaluate(
        "document.querySelector('.card').getBoundingClientRect().top"
    )
    cards = text(page, "cards")
    # Revenue: February 100 + 50 = $150.00, as in January → "no change"; target $100 met.
    assert "$150.00" in cards and "no change vs 2026-01" in cards and "target $100.00 ✓ met" in cards
    # NPS: February 10 and 9 → +100; churn: none of the 4 customers left → 0.0%, "0 of 4 customers churned".
    assert "+100" in cards and "0.0%" in cards and "0 of 4 customers churned" in cards
    assert '<img src=x onerror="window.owned=1">NPS' in cards
    assert page.evaluate("document.querySelectorAll('#cards img').length === 0 && !window.owned")
    # Everything fits the sidebar: no horizontal scrolling, no card wider than 300 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    widest = "Math.max(...[...document.querySelectorAll('.card')].map(c => c.getBoundingClientRect().right))"
    assert page.evaluate(widest) <= WIDTH
    assert page.evaluate("document.getElementById('show').disabled") is False


def test_an_error_is_a_banner_replacing_stale_cards_and_retry_loads_again(page, kpis):
    answer(page, kpis["last-month"])
    page.wait_for("document.querySelectorAll('.card').length > 0")
    page.evaluate("document.getElementById('period').value = 'last-quarter'")
    click(page, "#show")
    assert calls(page)[-1] == ["getKpis", "last-quarter"] and text(page, "meta") == "Loading…"
    page.evaluate(
        "__run.fail('The sheet could not be read: it is not shared with pulse@example.iam.gserviceaccount.com.')"
    )
    page.wait_for("!!document.querySelector('#banner [role=alert]')")
    banner = text(page, "banner")
    assert "The sheet could not be read: it is not shared with pulse@example.iam.gserviceaccount.com." in banner
    # No February cards under any heading, no "Loading…"; the banner is at the top, on screen, not below the fold.
    assert page.evaluate("document.querySelectorAll('.card').length") == 0
    assert text(page, "heading") == "" and text(page, "meta") == ""
    top, bottom = page.evaluate(
        "(() => { const r = document.getElementById('banner').getBoundingClientRect(); return [r.top, r.bottom]; })()"
    )
    assert top >= 0 and bottom <= page.evaluate("window.innerHeight")
    click(page, "#banner button")  # Retry
    assert calls(page)[-1] == ["getKpis", "last-quarter"] and text(page, "meta") == "Loading…"
    answer(page, kpis["last-quarter"])
    page.wait_for("document.querySelectorAll('.card').length > 0")
    assert text(page, "banner") == "" and text(page, "heading") == kpis["last-quarter"]["period"]["label"] == "2025-Q4"


@pytest.mark.parametrize(
    "reply", [None, {}, {"period": {"label": "2026-02"}, "cards": []}], ids=["null", "empty", "no-cards"]
)
def test_an_empty_reply_is_said_not_an_eternal_loading(page, reply):
    answer(page, reply)
    page.wait_for("!!document.querySelector('#banner [role=alert]')")
    assert text(page, "meta") != "Loading…" and "The server sent no KPI cards for this period." in text(page, "banner")
    assert page.evaluate("document.querySelector('#banner button').innerText") == "Retry"
    assert page.evaluate("document.getElementById('show').disabled") is False
