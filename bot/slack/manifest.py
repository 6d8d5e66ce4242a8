"""The Slack app manifest (config/slack-manifest.yml), generated from the metric catalogue by `pulse manifest`.

The slash commands are `/pulse` and every catalogue entry with a `command` (metrics/registry.py); the rest of the
manifest — scopes, events, interactivity — is fixed here. tests/bot/slack/test_manifest.py checks that the file in
the repository is exactly what this module writes, so a new metric's command cannot be forgotten there.
"""

from __future__ import annotations

import json

from metrics.registry import CATALOGUE

PULSE_COMMAND = "/pulse"
PULSE_DESCRIPTION = "Ask crm-pulse: any metric, or help, targets, issues, digest, refresh"
PULSE_USAGE = "nps last-quarter by region"
PLACEHOLDER_HOST = "YOUR-HOST"

_HEAD = """\
# Slack app manifest for crm-pulse. Create the app at https://api.slack.com/apps → "Create New App" →
# "From an app manifest", paste this file, then replace every YOUR-HOST with your server's public host.
# HTTP mode: Slack posts slash commands and button clicks to https://{host}/slack/events.
# Socket Mode (no public URL): set socket_mode_enabled: true below, create an app-level token with the
# connections:write scope (SLACK_APP_TOKEN) and run `pulse serve --socket`; the request URLs are then unused.
# See docs/slack.md.
display_information:
  name: crm-pulse
  description: "Customer metrics (NPS, CSAT, churn, CLV, CAC…) from your sheet, answered in Slack."
  long_description: >-
    crm-pulse computes customer-relationship metrics from your Google Sheet or workbook and answers slash
    commands with the value, the change against the previous period and whether it beats the noise, the sample
    size, target status and the top movers by segment. Answers are private until you press "Share in channel".
    A weekly digest and alerts post to the channels you configure.
  background_color: "#264653"
features:
  bot_user:
    display_name: crm-pulse
    always_online: true
  slash_commands:
"""

_COMMAND = """\
    - command: {command}
      url: https://{host}/slack/events
      description: {description}
      usage_hint: {usage}
      should_escape: false
"""

_TAIL = """\
oauth_config:
  scopes:
    bot:
      - commands            # the slash commands
      - app_mentions:read   # "@crm-pulse nps last-quarter", answered in the thread
      - chat:write          # answers shared in a channel, the digest and alerts
      - chat:write.public   # share/post in public channels without inviting the bot first
      - files:write         # the digest trend chart and answer charts (files_upload_v2)
      - im:write            # a private answer's chart goes to the asker's direct message with the bot
      - channels:history    # the digest's exactly-once check: is this week's digest already in the channel?
      - groups:history      # the same for private digest channels{extra_scopes}
settings:
  event_subscriptions:
    request_url: https://{host}/slack/events
    bot_events:
      - app_mention
  interactivity:
    is_enabled: true
    request_url: https://{host}/slack/events
  org_deploy_enabled: false
  socket_mode_enabled: false   # true for `pulse serve --socket` (then also create SLACK_APP_TOKEN)
  token_rotation_enabled: false
"""


def metric_commands() -> tuple[str, ...]:
    """`/nps`, `/churn`, …: the slash command of every catalogue entry that has one."""
    return tuple(s.command for s in CATALOGUE.values() if s.command)


def command_names() -> tuple[str, ...]:
    """Every slash command the app answers: `/pulse` and the per-metric ones."""
    return (PULSE_COMMAND, *metric_commands())


def slash_commands() -> list[tuple[str, str, str]]:
    """(command, description, usage hint) of `/pulse` and of every catalogue entry with a slash command."""
    pulse = (PULSE_COMMAND, PULSE_DESCRIPTION, PULSE_USAGE)
    per_metric = [(s.command, s.help[:1].upper() + s.help[1:], s.usage) for s in CATALOGUE.values() if s.command]
    return [pulse, *per_metric]


# Asked for only with `[slack] user_language = true` (least privilege: the checked-in manifest is the default's).
USER_LANGUAGE_SCOPE = (
    "\n      - users:read          # each asker's Slack locale (users.info), for [slack] user_language"
)


def manifest_text(host: str = PLACEHOLDER_HOST, *, user_language: bool = False) -> str:
    """The manifest YAML with its comments, request URLs on `host`; `user_language` adds the users:read scope."""
    commands = "".join(
        _COMMAND.format(command=command, host=host, description=_quoted(description), usage=_quoted(usage))
        for command, description, usage in slash_commands()
    )
    extra = USER_LANGUAGE_SCOPE if user_language else ""
    return _HEAD.format(host=host) + commands + _TAIL.format(host=host, extra_scopes=extra)


def _quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)
