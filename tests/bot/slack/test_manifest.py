"""The app manifest is the one `pulse manifest` generates from the metric catalogue, with the scopes it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.slack.manifest import command_names, manifest_text

yaml = pytest.importorskip("yaml")
MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yml"
EVENTS_URL = "https://YOUR-HOST/slack/events"


def test_manifest_file_is_what_pulse_manifest_generates(capsys):
    assert main(["manifest"]) == 0
    assert MANIFEST.read_text(encoding="utf-8") == capsys.readouterr().out == manifest_text(), (
        "config/slack-manifest.yml is generated: run `uv run pulse manifest > config/slack-manifest.yml`"
    )


def test_manifest_commands_are_valid_for_slack():
    manifest = yaml.safe_load(manifest_text())
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == list(command_names())
    assert {"/pulse", "/nps", "/churn", "/clv", "/cac", "/overview"} <= set(command_names())
    for c in commands:
        assert c["url"] == EVENTS_URL
        assert c["should_escape"] is False
        assert 0 < len(c["description"]) <= 100 and len(c.get("usage_hint", "")) <= 100


def test_manifest_host_is_filled_in_every_request_url():
    manifest = yaml.safe_load(manifest_text("pulse.example.com"))
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [manifest["settings"]["event_subscriptions"]["request_url"], manifest["settings"]["interactivity"]["request_url"]]
    assert set(urls) == {"https://pulse.example.com/slack/events"}


def test_manifest_scopes_interactivity_and_socket_mode_default():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert {"commands", "chat:write", "chat:write.public", "files:write", "app_mentions:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {"request_url": EVENTS_URL, "bot_events": ["app_mention"]}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert settings["socket_mode_enabled"] is False
    assert len(manifest["display_information"]["name"]) <= 35
