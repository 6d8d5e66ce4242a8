"""A Slack user's own language, from their Slack locale (`[slack] user_language = true`, scope `users:read`).

`users.info` with `include_locale=true` names the locale ("zh-CN", "en-US"); `zh-*` answers in zh-CN, any other
locale in English. It is asked in the answer path (a query worker), never before the ack, and remembered per user
for an hour. Without the `users:read` scope (`missing_scope`) it logs once and stops asking; any other failure, or
a user without a locale, keeps the configured language.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

LOCALE_TTL_SECONDS = 3600.0
FAILURE_TTL_SECONDS = 60.0  # a failed lookup is not retried for every command of a burst


def language_of_locale(locale: str | None) -> str | None:
    """The answer language for a Slack locale: "zh-*" → "zh-CN", any other locale → "en", none → None."""
    if not locale:
        return None
    return "zh-CN" if locale.lower().replace("_", "-").split("-")[0] == "zh" else "en"


class UserLanguages:
    """Each user's language from their Slack locale, cached with a TTL; off unless `enabled`."""

    def __init__(
        self, enabled: bool, ttl: float = LOCALE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = enabled
        self._ttl, self._clock = ttl, clock
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def cached(self, user_id: str) -> str | None:
        """The user's language if it is known now, without asking Slack (for the words said in the ack)."""
        with self._lock:
            entry = self._cache.get(user_id)
        return entry[1] if entry is not None and entry[0] > self._clock() else None

    def of(self, client: Any, user_id: str | None) -> str | None:
        """The user's language, asking Slack when it is not cached; None = use the configured language."""
        if not self.enabled or client is None or not user_id:
            return None
        with self._lock:
            entry = self._cache.get(user_id)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        language, ttl = self._ask(client, user_id)
        with self._lock:
            self._cache[user_id] = (self._clock() + ttl, language)
        return language

    def _ask(self, client: Any, user_id: str) -> tuple[str | None, float]:
        from slack_sdk.errors import SlackApiError

        try:
            response = client.users_info(user=user_id, include_locale=True)
        except SlackApiError as err:
            error = err.response.get("error") if err.response is not None else None
            if error == "missing_scope":
                log.warning(
                    "slack.user_language is on but the app lacks the users:read scope (users.info: missing_scope); "
                    "answering in the configured language — add the scope and reinstall the app"
                )
                self.enabled = False
                return None, 0.0
            log.warning("users.info for %s failed (%s); answering in the configured language", user_id, error)
            return None, FAILURE_TTL_SECONDS
        except Exception as err:  # noqa: BLE001 - a network failure keeps the configured language, never the answer
            log.warning(
                "users.info for %s failed (%s); answering in the configured language", user_id, type(err).__name__
            )
            return None, FAILURE_TTL_SECONDS
        user = response.get("user") or {}
        return language_of_locale(user.get("locale")), self._ttl
