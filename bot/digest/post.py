"""Post a digest exactly once per (destination, ISO week): Slack message plus chart upload, or an incoming webhook.
Bounded retries with backoff; every outcome goes to the ledger and the `Pulse Log` tab.

Exactly once: the ledger claim serialises posters; the message carries metadata naming its week, and whenever a
request that may have posted it already left (a timeout, a retry, a claim taken over from a dead process), the
channel's history is checked for it before posting again. A history that cannot be read fails the post rather
than risking a second message."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.context import Context, read_if_stale
from bot.digest.builder import Digest, build_digest, from_warehouse
from bot.digest.chart import render_chart
from bot.digest.ledger import ClaimLost, Entry, Ledger, open_ledger
from bot.digest.render import fallback_text, render_blocks
from bot.digest.schedule import Destination, destinations, last_full_week, week_label
from bot.i18n import _, use
from bot.pulse_log import append_log
from bot.render import format as fmt
from bot.render import safe
from config import secret

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
ATTEMPTS = 3
# Slack errors worth another try; anything else (channel_not_found, not_in_channel, invalid_auth …) is final.
RETRYABLE = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# The marker on each digest message (Slack message metadata) that the history check looks for.
EVENT_TYPE = "pulse_digest"
HISTORY_PAGE = 200
HISTORY_PAGES = 10


class PostError(Exception):
    """A delivery failure; `retryable` says whether another attempt could succeed."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class PostResult:
    """What happened to one (destination, week): posted, duplicate (already in the ledger), or failed."""

    destination: str
    week: str
    outcome: str
    ts: str | None = None
    file_id: str | None = None
    attempts: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("posted", "duplicate")

    def describe(self) -> str:
        if self.outcome == "posted":
            chart = f", chart {self.file_id}" if self.file_id else ""
            note = f" ({self.error})" if self.error else ""
            return f"{self.destination} {self.week}: posted (ts {self.ts}{chart}){note}"
        if self.outcome == "duplicate":
            return f"{self.destination} {self.week}: already posted — nothing sent"
        tries = f" after {self.attempts} attempt{'s' if self.attempts != 1 else ''}" if self.attempts else ""
        return f"{self.destination} {self.week}: {self.outcome}{tries}: {self.error}"


def slack_client(token: str | None = None, base_url: str | None = None, timeout: float = 30) -> WebClient | None:
    """A WebClient from SLACK_BOT_TOKEN (and SLACK_API_URL) that retries only 429s after Retry-After (a message
    refused with 429 was not posted); other retries are ours, after the history check. None without a token."""
    token = token or secret("SLACK_BOT_TOKEN")
    if not token:
        return None
    url = base_url or secret("SLACK_API_URL") or DEFAULT_API_URL
    return WebClient(
        token=token,
        base_url=url if url.endswith("/") else url + "/",
        timeout=timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def post_now(
    ctx: Context, *, client: WebClient | None = None, sleep: Callable[[float], None] = time.sleep
) -> list[PostResult]:
    """Post the last full week's digest to every destination now (`pulse digest --post`, `/pulse digest post`, the
    add-on), from the sheet as it is: a stale snapshot is read first, as for a scheduled digest."""
    now = ctx.now()
    read_before_posting(ctx)
    return [
        post_digest(ctx, dest, week_start=last_full_week(now, dest.timezone), now=now, client=client, sleep=sleep)
        for dest in destinations(ctx.settings)
    ]


def read_before_posting(ctx: Context) -> None:
    """`read_if_stale` before a digest is posted, so it shows the sheet as it is — but for a digest built from a
    warehouse (`[source] pushdown = true`), which is always as it is and reads no row."""
    if not from_warehouse(ctx):
        read_if_stale(ctx)


def post_digest(
    ctx: Context,
    dest: Destination,
    *,
    week_start: date,
    now: datetime | None = None,
    client: WebClient | None = None,
    ledger: Ledger | None = None,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> PostResult:
    """Build and deliver the digest of the week starting `week_start` to `dest`, unless the ledger has it already."""
    now = now or ctx.now()
    ledger = ledger or open_ledger(ctx.settings)
    week = week_label(week_start)
    entry = ledger.claim(dest.key, week, now)
    if entry is None:
        done = ledger.get(dest.key, week)
        return PostResult(dest.key, week, "duplicate", ts=done.ts if done else None)
    try:
        try:
            client, webhook = _transport(dest, client)
            previous = ledger.last_posted(dest.key, before_week=week)
            since = _week_end(previous.week) if previous else None
            with use(dest.language):
                digest = build_digest(ctx, week_start, dest.segment, since=since)
                result = _deliver(dest, digest, entry, client, webhook, ledger, attempts, sleep)
        except ClaimLost as err:  # another instance finishes the post: write nothing more, record nothing
            log.warning("digest %s %s: %s", dest.key, week, err)
            return PostResult(dest.key, week, "duplicate", error=str(err))
        except PostError as err:
            result = PostResult(dest.key, week, "failed", attempts=0, error=str(err))
        except Exception as err:  # any failure is recorded, never lost in a scheduler thread
            log.exception("digest for %s %s failed", dest.key, week)
            result = PostResult(
                dest.key,
                week,
                "failed",
                attempts=ledger.get(dest.key, week).attempts,
                error=f"{type(err).__name__}: {err}",
            )
        if result.outcome == "posted":
            ledger.mark_posted(dest.key, week, now, result.ts, result.file_id, note=result.error)
        else:
            ledger.mark_failed(dest.key, week, now, result.error or "unknown error")
    finally:
        ledger.release(dest.key, week)
    record(
        ctx,
        dest.key,
        week,
        result.outcome if result.outcome == "posted" else f"failed: {result.error}",
        detail=result.describe(),
    )
    return result


def record(ctx: Context, key: str, week: str, outcome: str, *, detail: str | None = None) -> None:
    """Append a digest entry to `Pulse Log`; a workbook that cannot be written is logged, never fatal."""
    try:
        append_log(ctx.workbook, ctx.now(), "digest", detail or f"{key} {week}", outcome[:300])
    except Exception as err:  # noqa: BLE001
        log.warning("could not write the Pulse Log entry for the %s %s digest: %s", key, week, err)


def _week_end(label: str) -> date:
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1) + timedelta(days=7)


def _history_start(week: str) -> datetime:
    """The earliest instant a digest of `week` can have been posted: the day before the week ended (any timezone)."""
    return datetime.combine(_week_end(week), datetime.min.time(), UTC) - timedelta(days=1)


def _transport(dest: Destination, client: WebClient | None) -> tuple[WebClient | None, str | None]:
    """The Slack client (a channel destination) or webhook URL (the webhook one), or a PostError saying what to set."""
    if dest.channel is None:
        webhook = dest.webhook_url()
        if not webhook:
            raise PostError(
                f"the environment variable {dest.webhook_env} that should hold the webhook URL is not set", False
            )
        return None, webhook
    client = client or slack_client()
    if client is None:
        raise PostError("SLACK_BOT_TOKEN is not set: the bot token is needed to post the digest", False)
    return client, None


def _deliver(
    dest: Destination,
    digest: Digest,
    entry: Entry,
    client: WebClient | None,
    webhook: str | None,
    ledger: Ledger,
    attempts: int,
    sleep: Callable[[float], None],
) -> PostResult:
    blocks, text = render_blocks(digest), fallback_text(digest)
    week = entry.week
    if webhook:
        return _deliver_webhook(dest, week, webhook, text, blocks, ledger, attempts, sleep)
    chart = render_chart(digest)
    ts, file_id = entry.ts, entry.file_id
    # A request that may have posted already left (an earlier attempt, a claim taken over from a dead process), or
    # the ledger was rebuilt after damage when this week's digest could already have been posted.
    rebuilt = ledger.rebuilt_at()
    maybe_sent = entry.sent_at is not None or (rebuilt is not None and _history_start(week) <= rebuilt)
    chart_error = adopted = None
    tried = 0
    for attempt in range(1, attempts + 1):
        tried = attempt
        ledger.count_attempt(dest.key, week)
        try:
            _still_held(ledger, dest.key, week)
            if maybe_sent and (ts is None or (chart is not None and file_id is None)):
                found_ts, found_file = _find_posted(client, dest.channel, week)
                if ts is None and found_ts:
                    ts = found_ts
                    ledger.record_message(dest.key, week, ts)
                    adopted = "found already in the channel, not posted again"
                if file_id is None and found_file:
                    file_id = found_file
                    ledger.record_file(dest.key, week, file_id)
            if ts is None:
                ledger.mark_sent(dest.key, week, datetime.now(UTC))
                maybe_sent = True
                ts = _post_message(client, dest.channel, text, blocks, week, dest.key)
                ledger.record_message(dest.key, week, ts)
            if chart is not None and file_id is None:
                _still_held(ledger, dest.key, week)
                maybe_sent = True
                file_id = _upload_chart(client, dest.channel, chart, digest)
                if file_id:
                    ledger.record_file(dest.key, week, file_id)
            return PostResult(dest.key, week, "posted", ts=ts, file_id=file_id, attempts=attempt, error=adopted)
        except PostError as err:
            if ts is not None and chart is not None:
                chart_error = f"chart upload failed: {err}"
            if not err.retryable or attempt == attempts:
                if ts is not None:
                    return PostResult(
                        dest.key, week, "posted", ts=ts, file_id=file_id, attempts=attempt, error=chart_error
                    )
                return PostResult(dest.key, week, "failed", attempts=attempt, error=str(err))
            log.warning("digest %s %s attempt %d failed: %s — retrying", dest.key, week, attempt, err)
            sleep(backoff(attempt))
    return PostResult(dest.key, week, "failed", attempts=tried, error="no attempts made")


def _still_held(ledger: Ledger, key: str, week: str) -> None:
    """Raise ClaimLost before a Slack request when this process's claim is gone (a restarted state database)."""
    if not ledger.holds(key, week):
        raise ClaimLost(
            "the claim was lost (the state database cut its session); the instance that takes it over posts"
        )


def _deliver_webhook(
    dest: Destination,
    week: str,
    webhook: str,
    text: str,
    blocks: list[dict],
    ledger: Ledger,
    attempts: int,
    sleep: Callable[[float], None],
) -> PostResult:
    """An incoming webhook cannot be read back, so a timed-out request is retried blind (at least once, not exactly)."""
    for attempt in range(1, attempts + 1):
        ledger.count_attempt(dest.key, week)
        try:
            _post_webhook(webhook, text, blocks)
            return PostResult(dest.key, week, "posted", attempts=attempt)
        except PostError as err:
            if not err.retryable or attempt == attempts:
                return PostResult(dest.key, week, "failed", attempts=attempt, error=str(err))
            log.warning("digest %s %s attempt %d failed: %s — retrying", dest.key, week, attempt, err)
            sleep(backoff(attempt))
    return PostResult(dest.key, week, "failed", attempts=0, error="no attempts made")


def _find_posted(client: WebClient, channel: str, week: str) -> tuple[str | None, str | None]:
    """The ts of this week's digest message and the id of its chart if either is already in the channel.

    Reads conversations.history back to the day before the week ended (no digest of the week can be older), newest
    first, at most HISTORY_PAGES pages. A history Slack refuses (missing scope, not in channel) is a final error:
    posting without knowing could post the digest twice."""
    oldest = _history_start(week)
    chart_name = chart_filename(week)
    ts = file_id = None
    cursor = None
    for _page in range(HISTORY_PAGES):
        try:
            page = client.conversations_history(
                channel=channel,
                oldest=f"{oldest.timestamp():.6f}",
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
        except SlackApiError as err:
            error = _slack_error("conversations.history", err)
            if error.retryable:
                raise error from None
            raise PostError(
                f"{error}: cannot check whether the {week} digest already reached {channel}, so it is not posted again "
                "(give the app the channels:history scope, groups:history for a private channel, and invite it)",
                False,
            ) from None
        except (SlackClientError, OSError) as err:
            raise PostError(f"conversations.history: {type(err).__name__}: {err}", True) from None
        for message in page.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if ts is None and meta.get("event_type") == EVENT_TYPE and payload.get("week") == week:
                ts = str(message["ts"])
            if file_id is None:
                file_id = next((f.get("id") for f in message.get("files") or [] if f.get("name") == chart_name), None)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if (ts and file_id) or not page.get("has_more") or not cursor:
            break
    return ts, file_id


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: 2, 4, 8 … capped at 60, with up to 1 s of jitter."""
    return min(60.0, 2.0**attempt) + random.random()


def _post_message(client: WebClient, channel: str, text: str, blocks: list[dict], week: str, key: str) -> str:
    """chat.postMessage with the metadata marker (event type and week) that `_find_posted` recognises."""
    metadata = {"event_type": EVENT_TYPE, "event_payload": {"week": week, "destination": key}}
    try:
        response = client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata=metadata,
        )
    except SlackApiError as err:
        raise _slack_error("chat.postMessage", err) from None
    except (SlackClientError, OSError) as err:
        raise PostError(f"chat.postMessage: {type(err).__name__}: {err}", True) from None
    return str(response["ts"])


def _upload_chart(client: WebClient, channel: str, png: bytes, digest: Digest) -> str | None:
    """Upload the chart next to the message (files.getUploadURLExternal → upload → files.completeUploadExternal)."""
    name = chart_filename(digest.week.label)
    try:
        response = client.files_upload_v2(
            channel=channel,
            file=png,
            filename=name,
            title=safe.plain(_("Trends to {week}", week=fmt.period(digest.week))),
        )
    except SlackApiError as err:
        raise _slack_error("files_upload_v2", err) from None
    except (SlackClientError, OSError) as err:
        raise PostError(f"files_upload_v2: {type(err).__name__}: {err}", True) from None
    files = response.get("files") or ([response["file"]] if response.get("file") else [])
    return files[0]["id"] if files else None


def chart_filename(week: str) -> str:
    """The chart's file name, which also identifies it in the channel history."""
    return f"pulse-{week}.png"


def _slack_error(method: str, err: SlackApiError) -> PostError:
    status = getattr(err.response, "status_code", 200)
    code = err.response.get("error") if hasattr(err.response, "get") else None
    retryable = status >= 500 or status == 429 or code in RETRYABLE
    return PostError(f"{method}: {code or 'error'} (HTTP {status})", retryable)


def _post_webhook(url: str, text: str, blocks: list[dict]) -> None:
    """POST to a Slack incoming webhook (it takes text and blocks; it cannot carry the chart)."""
    try:
        response = httpx.post(url, json={"text": text, "blocks": blocks}, timeout=30)
    except httpx.HTTPError as err:
        raise PostError(f"webhook: {type(err).__name__}", True) from None
    if response.status_code >= 400:
        retryable = response.status_code >= 500 or response.status_code == 429
        raise PostError(f"webhook: HTTP {response.status_code} {response.text[:100]}", retryable)
