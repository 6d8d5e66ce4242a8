"""The add-on's Apps Script (sheets/addon/Code.gs) and sidebar script run under Node with the Apps Script services
emulated (tests/fakes/apps_script.js: signed Java bytes for the HMAC, per-user triggers, document properties,
a synchronous UrlFetchApp), against the real server over HTTP. What a person would see is asserted: toasts, dialogs,
the sidebar's DOM."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import bot.tabs
from bot.context import build_context
from config import parse_settings
from tests.bot.addon.conftest import SECRET, SHEET, make_settings
from tests.bot.conftest import TODAY
from tests.bot.digest.conftest import context_at, small_path, utc  # noqa: F401 - small_path is a fixture
from tests.fakes.slack_api import wait_for

ROOT = Path(__file__).resolve().parents[3]
# Apps Script runs every .gs file of the project in one global scope: the generated string table, then Code.gs.
CODE = "\n".join((ROOT / "sheets" / "addon" / name).read_text(encoding="utf-8") for name in ("Strings.gs", "Code.gs"))
SIDEBAR = re.search(r"<script>(.*?)</script>", (ROOT / "sheets" / "addon" / "Sidebar.html").read_text(encoding="utf-8"), re.S).group(1)
EMULATOR = ROOT / "tests" / "fakes" / "apps_script.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed: the Apps Script emulation runs Code.gs under node")


def run_script(url: str, steps: str, *, sheets=(), triggers=(), ui_answer: str = "YES", sidebar: bool = False,
               secret: str | None = SECRET, identity_token: str | None = None, document_properties: dict | None = None) -> dict:
    """Run `steps` after loading Code.gs (or the sidebar's script) in the emulation; returns what was seen and sent."""
    payload = {
        "code": SIDEBAR if sidebar else CODE, "url": url, "secret": secret, "spreadsheet_id": SHEET, "sheets": list(sheets),
        "triggers": list(triggers), "ui_answer": ui_answer, "steps": steps, "sidebar": sidebar, "identity_token": identity_token,
        "document_properties": document_properties or {},
    }
    done = subprocess.run([NODE, str(EMULATOR)], input=json.dumps(payload), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    everything = json.dumps(seen)
    assert "SyntaxError" not in everything and "Unexpected token" not in everything, everything
    return seen


class Stub:
    """An HTTP server answering every POST with a set status, content type and body (a proxy's error page, say)."""

    def __init__(self):
        self.reply = (200, "application/json", b"{}", {})
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length") or 0))
                status, ctype, body, headers = stub.reply
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.server.shutdown()


@pytest.mark.parametrize(
    "status, ctype, body, headers, expected",
    [
        (500, "text/plain", b"Internal Server Error", {}, "The crm-pulse server failed (HTTP 500): Internal Server Error."),
        (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>", {},
         "The crm-pulse server could not be reached through its proxy (HTTP 502); it may be restarting — try again in a minute."),
        (429, "text/html", b"<html>Too Many Requests</html>", {"Retry-After": "30"},
         "The crm-pulse server is busy (HTTP 429, too many requests); try again in 30 s."),
        (200, "text/html", b"<html>Sign in to continue</html>", {},
         "The crm-pulse server sent a reply that is not JSON (HTTP 200); check PULSE_SERVER_URL."),
    ],
)
def test_a_reply_that_is_not_json_gives_a_clear_message(stub, status, ctype, body, headers, expected):
    stub.reply = (status, ctype, body, headers)
    seen = run_script(stub.url, "menuRefresh()")
    assert seen["alerts"] == [expected] and seen["toasts"] == []


def test_an_unreachable_server_is_named(stub):
    url = stub.url
    stub.server.shutdown()
    stub.server.server_close()
    seen = run_script(url, "menuRefresh()")
    assert seen["alerts"][0].startswith(f"Could not reach the crm-pulse server at {url}")


def test_problem_json_errors_show_title_and_detail(addon):
    client, _, _ = addon
    seen = run_script(client.base, "getKpis('last-quater')")
    (error,) = seen["errors"]
    assert error.startswith("Bad Request: ") and "did you mean last-quarter?" in error
    assert error.count("last-quarter") == 1, error  # the suggestion once, not repeated after a message that asks it


DIGEST = {"addon": {"spreadsheet_id": SHEET}, "digest": {"channels": [{"channel": "C1"}]}, "surveys": {"min_n": 1}}


def test_post_digest_now_says_what_happened(small_path, slack, serve_addon):
    ctx, _ = context_at(DIGEST, small_path, utc(2026, 3, 23, 8))  # the last full week is 2026-W12
    client, _ = serve_addon(ctx)
    seen = run_script(client.base, "menuPostDigest(); menuPostDigest();")
    assert seen["toasts"] == [
        "Digest for 2026-W12 posted to C1.",
        "The digest for 2026-W12 was already posted to C1 this week; nothing was sent again.",
    ]
    assert len(slack.messages("C1")) == 1


def test_post_digest_now_shows_slacks_refusal_and_a_missing_channel(small_path, slack, serve_addon):
    slack.fail("chat.postMessage", status=200, error="channel_not_found")
    ctx, _ = context_at(DIGEST, small_path, utc(2026, 3, 23, 8))
    client, _ = serve_addon(ctx)
    seen = run_script(client.base, "menuPostDigest()")
    assert seen["toasts"] == [] and "was not posted to C1" in seen["alerts"][-1] and "channel_not_found" in seen["alerts"][-1]

    ctx, _ = context_at({"addon": {"spreadsheet_id": SHEET}}, small_path, utc(2026, 3, 23, 8))
    client, _ = serve_addon(ctx)
    seen = run_script(client.base, "menuPostDigest()")
    assert seen["alerts"][-1].startswith("No digest channel is configured, so nothing was posted")


def test_declining_the_confirmation_posts_nothing(small_path, slack, serve_addon):
    ctx, _ = context_at(DIGEST, small_path, utc(2026, 3, 23, 8))
    client, _ = serve_addon(ctx)
    seen = run_script(client.base, "menuPostDigest()", ui_answer="NO")
    assert seen["fetches"] == [] and slack.messages() == []


def test_refresh_and_data_issues_while_a_refresh_runs(serve_addon, monkeypatch):
    from tests.bot.slack.conftest import SMALL_TABS
    from tests.fakes.sheets_api import FakeSheets, point_env_at

    key = "1AddonSlowSheet_abcdefghijklmnopqrstuvwxyz"
    with FakeSheets() as sheets:
        sheets.add_spreadsheet(key, tabs=SMALL_TABS)
        point_env_at(sheets, monkeypatch)
        ctx = build_context(parse_settings({"source": {"sheet": key}, "addon": {"spreadsheet_id": SHEET}}), today=TODAY)
        client, _ = serve_addon(ctx)
        sheets.set_delay(4.0, kind="values.batchGet")  # the first refresh's read takes 4 s
        first = threading.Thread(target=lambda: client.signed("/addon/refresh", {"spreadsheet_id": SHEET, "trigger": "manual"}))
        first.start()
        wait_for(lambda: bot.tabs.running_since(ctx) is not None, timeout=30, what="the first refresh to start")
        seen = run_script(client.base, "menuRefresh(); showDataIssues();")
        first.join(60)
    # The clock is pinned at noon UTC of TODAY, when the first refresh started.
    running = "A refresh is already running, started at 12:00:00 UTC; its results land when it finishes — try again in a minute."
    assert seen["alerts"] == [
        "Refresh already running: " + running,
        "There is no Pulse Data Issues tab yet. " + running + " Open Data issues again when it has finished.",
    ]
    assert seen["toasts"] == []


def test_refresh_reports_written_tabs(addon):
    client, _, _ = addon
    seen = run_script(client.base, "menuRefresh()")
    assert seen["alerts"] == [] and seen["toasts"][0].startswith("Summary tabs refreshed: Pulse Summary, ")


def test_one_edit_trigger_whoever_turns_it_on_and_each_edit_runs_once(addon):
    client, api, _ = addon
    legacy = [{"user": "alice", "handler": "onSheetChange", "type": "ON_EDIT"}, {"user": "alice", "handler": "onSheetChange", "type": "ON_CHANGE"}]
    seen = run_script(
        client.base,
        "asUser('alice', installEditTrigger); asUser('alice', installEditTrigger); asUser('bob', installEditTrigger);"
        "edit('Pulse Summary'); edit('Orders'); edit('Orders');",
        triggers=legacy,
    )
    # The older version's onChange trigger is gone; alice's onEdit trigger is the only one, bob is told it is on.
    assert seen["triggers"] == [{"user": "alice", "handler": "onSheetChange", "type": "ON_EDIT"}]
    assert seen["toasts"][2].startswith("Refresh after edits is already on (another editor turned it on")
    # The edit in a Pulse tab asks for nothing; the first Orders edit asks once; the second comes while the server's
    # refresh is still waiting (debounce 6 s → edits skip requests for 6 − 5 = 1 s) and needs no request.
    refreshes = [f for f in seen["fetches"] if f["path"] == "/addon/refresh"]
    assert [(f["code"], f["body"]["trigger"]) for f in refreshes] == [(200, "edit")]
    assert seen["errors"] == []
    wait_for(lambda: api.state.addon.completed == 1, timeout=90, what="the debounced refresh")


def test_a_failed_edit_refresh_is_shown_and_later_edits_still_ask(addon, stub):
    client, _, _ = addon
    stub.reply = (502, "text/html", b"<html>Bad Gateway</html>", {})
    seen = run_script(
        stub.url,
        "installEditTrigger(); edit('Orders'); out.stored = PropertiesService.getDocumentProperties().getProperty(EDIT_ERROR_PROPERTY);"
        f"setUrl({json.dumps(client.base)}); out.sidebarWarning = getKpis('last-month').edit_refresh_error; edit('Orders');"
        "out.after = PropertiesService.getDocumentProperties().getProperty(EDIT_ERROR_PROPERTY);",
    )
    failure = seen["toasts"][1]
    assert failure.startswith("Refresh after the edit in Orders failed at ") and "(HTTP 502)" in failure
    assert seen["stored"] == failure and seen["sidebarWarning"] == failure
    refreshes = [f["code"] for f in seen["fetches"] if f["path"] == "/addon/refresh"]
    assert refreshes == [502, 200] and seen["after"] is None


def test_turning_it_off_removes_the_trigger_and_lets_another_editor_turn_it_on(addon):
    client, _, _ = addon
    seen = run_script(client.base, "asUser('alice', installEditTrigger); asUser('alice', removeEditTrigger); asUser('bob', installEditTrigger);")
    assert seen["triggers"] == [{"user": "bob", "handler": "onSheetChange", "type": "ON_EDIT"}]


# The sidebar ---------------------------------------------------------------------------------------------------


def test_sidebar_shows_period_and_as_of_at_the_top_and_the_server_strings(addon):
    client, _, _ = addon
    data = client.signed("/addon/kpis", {"spreadsheet_id": SHEET, "period": "last-month"}).json()
    data["cards"][0]["display"]["label"] = "<b>NPS</b>"  # labels are shown as text, never as markup
    seen = run_script(client.base, f"sidebar.succeed({json.dumps(data)})", sidebar=True)
    dom = seen["dom"]
    assert seen["sidebarCalls"] == ["last-month"]
    assert dom["heading"]["textContent"] == data["period"]["label"] == "2026-10"
    assert dom["meta"]["textContent"] == "data as of 2026-11-25 12:00 UTC" and dom["banner"]["innerHTML"] == ""
    revenue = next(c for c in data["cards"] if c["metric"] == "revenue")["display"]
    assert revenue["value"].startswith("$") and revenue["value"] in dom["cards"]["innerHTML"]
    assert revenue["change"] in dom["cards"]["innerHTML"] and " vs 2026-09" in revenue["change"]
    assert "&lt;b&gt;NPS&lt;/b&gt;" in dom["cards"]["innerHTML"] and "<b>NPS" not in dom["cards"]["innerHTML"]
    assert dom["show"]["disabled"] is False


def test_sidebar_error_replaces_stale_cards_with_a_banner_and_retry():
    data = {"period": {"label": "2026-10"}, "as_of": "data as of 2026-11-25 12:00 UTC",
            "cards": [{"label": "NPS", "display": {"value": "+40", "change": "▲ 2 pts vs 2026-09"}}]}
    seen = run_script(
        "http://unused", f"sidebar.succeed({json.dumps(data)}); load(); sidebar.fail('Refresh already running: try again in a minute.');",
        sidebar=True,
    )
    dom = seen["dom"]
    assert dom["cards"]["innerHTML"] == "" and dom["heading"]["textContent"] == "" and dom["meta"]["textContent"] == ""
    assert "Refresh already running: try again in a minute." in dom["banner"]["innerHTML"]
    assert 'onclick="load()">Retry</button>' in dom["banner"]["innerHTML"]
    assert seen["sidebarCalls"] == ["last-month", "last-month"]


def test_sidebar_empty_reply_is_not_an_eternal_loading():
    seen = run_script("http://unused", "sidebar.succeed(null)", sidebar=True)
    dom = seen["dom"]
    assert dom["meta"]["textContent"] != "Loading…"
    assert "The server sent no KPI cards for this period." in dom["banner"]["innerHTML"] and "Retry" in dom["banner"]["innerHTML"]


# Authentication ------------------------------------------------------------------------------------------------


def test_without_a_secret_the_script_sends_the_users_identity_token(demo_workbook, serve_addon, monkeypatch):
    from tests.fakes.google_identity import CLIENT_ID, FakeGoogleCerts

    with FakeGoogleCerts() as google:
        monkeypatch.setenv("PULSE_GOOGLE_CERTS_URL", google.url)
        monkeypatch.delenv("PULSE_ADDON_SECRET", raising=False)
        s = parse_settings({"addon": {"spreadsheet_id": SHEET, "oauth_client_id": CLIENT_ID, "allowed_domains": ["example.com"]}})
        client, api = serve_addon(build_context(s, workbook=str(demo_workbook), today=TODAY))
        assert api.state.addon.verifier.secret is None
        seen = run_script(client.base, "out.period = getKpis('last-month').period.label", secret=None, identity_token=google.token("ana@example.com"))
        assert seen["errors"] == [] and seen["period"] == "2026-10"
        assert seen["fetches"][0]["headers"] == ["Authorization"]
        stranger = run_script(client.base, "menuRefresh()", secret=None, identity_token=google.token("eve@elsewhere.org"))
        assert stranger["alerts"] == ["Unauthorized: eve@elsewhere.org may not use this add-on: add it to addon.allowed_emails or its domain to addon.allowed_domains"]


def test_a_plain_http_server_url_is_refused_before_anything_is_sent():
    seen = run_script("http://pulse.example.com", "menuRefresh()")
    assert seen["alerts"] == ["PULSE_SERVER_URL must start with https:// (it is http://pulse.example.com)."] and seen["fetches"] == []
