"""End to end: a refresh through the running server evaluates the alerts and the alert reaches the Slack fake."""

from datetime import timedelta

from bot.addon.api import install
from bot.context import Context
from bot.server import create_app
from config import parse_settings
from sheets.local import LocalWorkbook
from tests.bot.addon.conftest import SECRET, SHEET, Client
from tests.bot.alerts.test_alerts import START, Clock, alert_posts, answers, workbook  # noqa: F401 - fixture
from tests.fakes.live_server import LiveServer
from tests.fakes.slack_api import wait_for
from tests.workbooks import append_rows


def test_alert_arrives_after_an_addon_refresh(workbook, slack, monkeypatch):  # noqa: F811 - workbook fixture
    monkeypatch.setenv("PULSE_ADDON_SECRET", SECRET)
    settings = parse_settings(
        {
            "targets": {"nps": 30},
            "source": {"cache_seconds": 0},
            "addon": {"spreadsheet_id": SHEET},
            "alerts": [{"name": "NPS below target", "metric": "nps", "window_days": 7, "condition": "crosses_target", "channel": "C_ALERTS"}],
        }
    )
    ctx = Context(settings=settings, workbook=LocalWorkbook(workbook), clock=Clock(START))
    api = create_app(ctx)
    install(api, ctx)
    append_rows(workbook, "Responses", answers(START - timedelta(days=1), [2] * 40))
    with LiveServer(api) as server:
        response = Client(server.url).signed("/addon/refresh", {"spreadsheet_id": SHEET, "trigger": "manual"})
        assert response.status_code == 200, response.text
        (post,) = wait_for(lambda: alert_posts(slack), timeout=30, what="the alert at the Slack fake")
    assert "NPS below target" in str(post.json_param("blocks"))
    events = [row[1] for row in LocalWorkbook(workbook).read_owned("Pulse Log")[1:]]
    assert events == ["refresh", "alert fired"]
