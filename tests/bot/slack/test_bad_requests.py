"""Issue 14.5, 14.6, 14.10 over real HTTP: unsigned, malformed, oversized and replayed requests to `/slack/events`
are refused with a 4xx and one log line (never a 500 or a stack trace), before anything parses the body."""

from __future__ import annotations

import hashlib
import hmac
import logging
import select
import socket
import time
from urllib.parse import urlparse

import pytest

import requests

from tests.fakes.slack_requests import SIGNING_SECRET, signed_headers, slash_command_body


def now() -> str:
    return str(int(time.time()))


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
JUNK_SIGNATURE = "v0=" + "0" * 64

# 16 kinds of unsigned or badly signed malformed request: (body, content type, timestamp header, signature header).
# None leaves the header out; a callable is evaluated when the request is sent.
MALFORMED = {
    "json-brace-no-headers": (b"{", JSON, None, None),
    "json-brace-with-timestamp": (b"{", JSON, now, None),
    "json-brace-junk-signature": (b"{", JSON, now, JUNK_SIGNATURE),
    "timestamp-abc": (b"command=%2Fnps", FORM, "abc", "v0=abc"),
    "timestamp-400-digits": (b"command=%2Fnps", FORM, "9" * 400, JUNK_SIGNATURE),
    "timestamp-negative": (b"command=%2Fnps", FORM, "-1", JUNK_SIGNATURE),
    "timestamp-float": (b"command=%2Fnps", FORM, "1.7e9", JUNK_SIGNATURE),
    "payload-brace": (b"payload=%7B", FORM, now, JUNK_SIGNATURE),
    "payload-empty": (b"payload=", FORM, now, None),
    "payload-list": (b"payload=%5B%5D", FORM, None, None),
    "non-utf8-form": (b"\xff\xfe\xfd=\x80", FORM, now, JUNK_SIGNATURE),
    "non-utf8-json": (b'{"type": "\xff"}', JSON, None, None),
    "percent-encoded-non-utf8": (b"payload=%FF%FE", FORM, now, JUNK_SIGNATURE),
    "empty-body": (b"", FORM, now, JUNK_SIGNATURE),
    "signature-without-v0": (b"command=%2Fnps", FORM, now, "0" * 64),
    "signature-not-hex": (b"command=%2Fnps", FORM, now, "v0=" + "z" * 64),
}

# Signed correctly, but the signed body itself is malformed.
SIGNED_MALFORMED = {"json-brace": (b"{", JSON), "payload-brace": (b"payload=%7B", FORM), "non-utf8": (b"\xff\xfe=1", FORM),
                    "payload-list": (b"payload=%5B%5D", FORM), "json-list": (b"[]", JSON),
                    "action-without-actions": (b"payload=%7B%22type%22%3A%22block_actions%22%7D", FORM),
                    "event-without-event": (b'{"type": "event_callback"}', JSON), "empty-json": (b"{}", JSON)}


def problems(caplog) -> list[logging.LogRecord]:
    """Log records at WARNING or above (uvicorn's access lines are INFO)."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_one_quiet_line(caplog) -> None:
    """Exactly one warning, without a traceback, and nothing from uvicorn's 'Exception in ASGI application'."""
    records = problems(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].exc_info is None and "Traceback" not in records[0].getMessage()


@pytest.mark.parametrize("kind", MALFORMED, ids=list(MALFORMED))
def test_unsigned_malformed_requests_get_a_4xx_and_one_log_line(slack, caplog, kind):
    body, content_type, timestamp, sig = MALFORMED[kind]
    headers = {"Content-Type": content_type}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp() if callable(timestamp) else timestamp
    if sig is not None:
        headers["X-Slack-Signature"] = sig
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        resp = requests.post(f"{slack.url}/slack/events", data=body, headers=headers, timeout=10)
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        time.sleep(0.05)
    assert_one_quiet_line(caplog)
    assert slack.api.calls == []


@pytest.mark.parametrize("kind", SIGNED_MALFORMED, ids=list(SIGNED_MALFORMED))
def test_signed_malformed_payloads_get_a_4xx(slack, caplog, kind):
    body, content_type = SIGNED_MALFORMED[kind]
    ts = now()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": _sign(body, ts)}
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        resp = requests.post(f"{slack.url}/slack/events", data=body, headers=headers, timeout=10)
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
        time.sleep(0.05)
    records = problems(caplog)
    assert len(records) <= 1 and all(r.exc_info is None for r in records), [r.getMessage() for r in records]


def _sign(body: bytes, ts: str) -> str:
    """The v0 signature of raw bytes (the helper in tests.fakes signs text)."""
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


def test_a_replayed_command_is_refused_and_runs_once(slack):
    sent = slack.command("/pulse", "help")
    assert sent.response.status_code == 200
    replay = slack.post(sent.response.request.body.decode(), dict(sent.response.request.headers))
    assert replay.status_code == 401 and replay.json()["detail"] == "replayed request"
    # A redelivery marked by Slack as a retry is acknowledged but not processed again either.
    again = dict(sent.response.request.headers) | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.post(sent.response.request.body.decode(), again).status_code == 200
    time.sleep(0.3)
    assert len(slack.hooks.to(sent.response_url)) <= 1  # help is answered in the ack: nothing, or once, by response_url


def test_the_same_command_signed_again_later_is_not_a_replay(slack):
    body = slash_command_body("/pulse", "help", response_url=slack.hooks.url())
    first = slack.post(body, signed_headers(body, timestamp=int(time.time()) - 2))
    second = slack.post(body, signed_headers(body, timestamp=int(time.time()) - 1))
    assert (first.status_code, second.status_code) == (200, 200)


def _raw_post(url: str, path: str, head: dict[str, str], chunks, *, limit_seconds: float = 10) -> tuple[bytes, int]:
    """Send a request over a raw socket chunk by chunk, stopping as soon as the server answers.
    Returns (the status line, bytes of body sent)."""
    u = urlparse(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=limit_seconds)
    lines = [f"POST {path} HTTP/1.1", f"Host: {u.hostname}", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    sent = 0
    deadline = time.monotonic() + limit_seconds
    try:
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            assert time.monotonic() < deadline, "the server did not answer in time"
        select.select([sock], [], [], limit_seconds)
        status = sock.recv(4096).split(b"\r\n", 1)[0]
    finally:
        sock.close()
    return status, sent


TWENTY_MB = 20_000_000


@pytest.mark.parametrize("path", ["/slack/events", "/addon/kpis"])
def test_a_20_mb_body_is_refused_with_413_from_its_declared_length_without_reading_it(slack, caplog, path):
    # Content-Length says 20 MB; only 64 KB follow. A server that read the body whole would wait for the rest.
    with caplog.at_level(logging.WARNING):
        status, sent = _raw_post(slack.url, path, {"Content-Type": FORM, "Content-Length": str(TWENTY_MB)}, [b"a" * 65536], limit_seconds=5)
        assert status.startswith(b"HTTP/1.1 413"), status
        time.sleep(0.1)
    assert_one_quiet_line(caplog)


def test_a_20_mb_chunked_body_is_cut_off_after_the_limit(slack, caplog):
    # No Content-Length (chunked): the server counts while reading and answers 413 once 1 MB is passed.
    piece = b"a" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    with caplog.at_level(logging.WARNING):
        status, sent = _raw_post(slack.url, "/slack/events", {"Content-Type": FORM, "Transfer-Encoding": "chunked"},
                                 (chunk for _ in range(TWENTY_MB // len(piece))), limit_seconds=20)
        assert status.startswith(b"HTTP/1.1 413"), status
        time.sleep(0.1)
    assert_one_quiet_line(caplog)
    # 1 MB read by the server plus what the loopback socket buffers hold — far from 20 MB.
    assert sent < 10_000_000, sent
