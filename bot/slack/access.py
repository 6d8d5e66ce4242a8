"""Who may ask what: channel and user allow-lists, admin-only actions and a per-user rate limit."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.ratelimit import Limiter, RateLimiter
from config.settings import SlackSettings

ADMIN_ACTIONS = frozenset({"refresh", "digest-post"})


@dataclass
class Access:
    """The access policy from `[slack]` config; `check` returns a polite refusal or None."""

    settings: SlackSettings
    limiter: Limiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate_limit_per_minute)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.settings.admins

    def check(self, user_id: str, channel_id: str | None, action: str | None = None) -> str | None:
        """A refusal message for this user/channel/action, or None when the request may proceed."""
        s = self.settings
        if s.allowed_users and user_id not in s.allowed_users and not self.is_admin(user_id):
            return (
                "Sorry, crm-pulse is only open to a configured list of people, and you are not on it yet. "
                "Ask a crm-pulse admin to add you."
            )
        if s.allowed_channels and channel_id not in s.allowed_channels:
            return (
                "Sorry, crm-pulse isn't enabled in this channel. "
                "Try one of the channels it is set up for, or ask a crm-pulse admin to add this one."
            )
        if action in ADMIN_ACTIONS and not self.is_admin(user_id):
            what = "refresh the summary tabs" if action == "refresh" else "post the digest"
            return (
                f"Only crm-pulse admins can {what}. "
                "You can still ask for any metric, or `/pulse digest` for a private preview."
            )
        wait = self.limiter.allow(user_id)
        if wait is not None:
            return (
                f"You're asking faster than I can keep up (limit: {s.rate_limit_per_minute} a minute). "
                f"Please try again in {max(1, round(wait))} s."
            )
        return None
