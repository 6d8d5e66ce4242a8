"""The Slack app: slash commands and the share button on slack-bolt, served over HTTP or Socket Mode."""
