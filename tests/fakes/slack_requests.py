"""Requests as Slack sends them to an app: form-encoded slash commands and block_actions, signed with v0 HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from tests.fakes.slack_api import TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_ID = "A0PULSE0001"


def signature(body: str, timestamp: int | str, secret: str = SIGNING_SECRET) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` keyed by the signing secret."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a signed form post."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, ts, secret),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def slash_command_body(
    command: str,
    text: str,
    *,
    response_url: str,
    user_id: str = "U0USER0001",
    user_name: str = "ana",
    channel_id: str = "C0CHAN0001",
    channel_name: str = "cx-metrics",
) -> str:
    """A slash-command payload with the fields, in the order, Slack posts them."""
    return urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": TEAM_ID,
            "team_domain": "pulse-test",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"13345224609.738474920.{int(time.time() * 1000) % 10**8}",
        }
    )


def block_action_body(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U0USER0001",
    user_name: str = "ana",
    channel_id: str = "C0CHAN0001",
    channel_name: str = "cx-metrics",
    ephemeral: bool = True,
) -> str:
    """A block_actions interaction for a button in an (ephemeral) message, as `payload=<json>` form data."""
    action_ts = f"{time.time():.6f}"
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "container": {"type": "message", "message_ts": action_ts, "channel_id": channel_id, "is_ephemeral": ephemeral},
        "trigger_id": f"13345224609.738474920.{int(time.time() * 1000) % 10**8}",
        "team": {"id": TEAM_ID, "domain": "pulse-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "share",
                "text": {"type": "plain_text", "text": "Share in channel", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def app_mention_body(text: str, *, event_id: str, user_id: str = "U0USER0001", channel_id: str = "C0CHAN0001",
                     ts: str = "1763290000.000100", bot_user_id: str = "W23456789") -> str:
    """An Events API `event_callback` carrying an `app_mention`, JSON as Slack posts it."""
    return json.dumps({
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": {
            "type": "app_mention", "user": user_id, "text": f"<@{bot_user_id}> {text}", "ts": ts,
            "channel": channel_id, "event_ts": ts, "client_msg_id": "f4b0b3e0-2b2a-4c55-9b3e-6f0b3b0c1a11",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(float(ts)),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    })


def signed_json_headers(body: str, *, retry_num: int | None = None, timestamp: int | None = None) -> dict[str, str]:
    """Headers of a signed Events API post; a redelivery carries X-Slack-Retry-Num and X-Slack-Retry-Reason."""
    headers = signed_headers(body, timestamp=timestamp)
    headers["Content-Type"] = "application/json"
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers
