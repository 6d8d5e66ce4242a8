"""The app manifest creates exactly the commands the app listens to, with the scopes it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.slack.listeners.commands import COMMANDS

yaml = pytest.importorskip("yaml")
MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yml"
EVENTS_URL = "https://YOUR-HOST/slack/events"


def test_manifest_commands_match_the_registered_listeners():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    commands = manifest["features"]["slash_commands"]
    assert sorted(c["command"] for c in commands) == sorted(COMMANDS)
    for c in commands:
        assert c["url"] == EVENTS_URL
        assert c["should_escape"] is False
        assert 0 < len(c["description"]) <= 100 and len(c.get("usage_hint", "")) <= 100


def test_manifest_scopes_interactivity_and_socket_mode_default():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert {"commands", "chat:write", "chat:write.public", "files:write", "app_mentions:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {"request_url": EVENTS_URL, "bot_events": ["app_mention"]}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert settings["socket_mode_enabled"] is False
    assert len(manifest["display_information"]["name"]) <= 35
