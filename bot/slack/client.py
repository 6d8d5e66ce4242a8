"""The Slack Web API client: base URL from `SLACK_API_URL`, and retries of 429s after their Retry-After."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from config import secret

DEFAULT_API_URL = "https://slack.com/api/"


def resolve_api_url(value: str | None = None) -> str:
    """The Web API base URL (`SLACK_API_URL`, default Slack's) with the trailing "/" WebClient needs."""
    url = value or secret("SLACK_API_URL") or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def web_client(token: str, base_url: str | None = None, *, rate_limit_retries: int = 2) -> WebClient:
    """A WebClient that also retries rate-limited calls (slack_sdk retries only connection errors by default)."""
    client = WebClient(token=token, base_url=resolve_api_url(base_url), timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    return client
