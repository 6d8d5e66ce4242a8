"""Alerts: rules from config, evaluated after each refresh; each fires once and posts when it recovers."""
