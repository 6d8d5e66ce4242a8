"""Renderers: one reply, shown as terminal text, Slack blocks or JSON."""
