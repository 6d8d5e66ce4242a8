"""A local fake of the Slack Web API and of a response_url receiver, both over real HTTP on 127.0.0.1.

Response shapes follow the public method docs (api.slack.com/methods) and the fixtures in
bolt-python / python-slack-sdk tests. Every call is recorded; failures (429 with Retry-After, 500,
`ok: false` errors) can be injected per method.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

TEAM_ID = "T0G9PQBBK"
BOT_USER_ID = "W23456789"
BOT_ID = "BZYBOTHED"


@dataclass
class Call:
    """One request the fake received: API method (or path), merged parameters, headers and raw body."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    ok: bool | None = None

    def json_param(self, name: str) -> Any:
        """A parameter that Slack accepts as a JSON string in form posts (blocks, files) or as JSON."""
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    remaining: int


MAX_BLOCKS = 50
MAX_BLOCKS_CHARS = 13000


def block_problems(blocks: Any) -> str | None:
    """What Slack would reject in a `blocks` payload (`invalid_blocks`, `msg_blocks_too_long`), else None.

    Each block is re-parsed with slack_sdk's models, whose `to_dict()` enforces the per-element limits
    (section text 3,000, header 150, fields 10, …)."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except json.JSONDecodeError:
            return "invalid_blocks_format"
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    if len(json.dumps(blocks, ensure_ascii=False)) > MAX_BLOCKS_CHARS:
        return "msg_blocks_too_long"
    for d in blocks:
        try:
            model = Block.parse(d)
            if model is None or model.to_dict() != d:
                return "invalid_blocks"
        except (SlackObjectFormationError, KeyError, TypeError, ValueError):
            return "invalid_blocks"
    return None


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class _Server:
    """A threading HTTP server on a free loopback port, started and stopped by its owner."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                handle(self)

            def do_GET(self) -> None:  # noqa: N802
                handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(owner).__name__, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _send(handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(payload, bytes) else "text/plain")
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


def _read(handler: BaseHTTPRequestHandler, parse: bool = True) -> tuple[bytes, dict[str, Any]]:
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    if not parse:
        return body, {}
    query = urlparse(handler.path).query
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
    ctype = handler.headers.get("Content-Type", "")
    if body and "json" in ctype:
        params.update(json.loads(body))
    elif body and "x-www-form-urlencoded" in ctype:
        params.update({k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
    return body, params


class FakeSlackAPI:
    """The Slack Web API methods crm-pulse uses, answering like Slack and recording every call.

    `base_url` ends with "/" as `WebClient(base_url=...)` needs. Uploads from `files_upload_v2` land at
    `/upload/<file_id>` and their bytes are kept in `uploads`. Posted messages (and shared files) are kept per
    channel in `history`, newest last, and served by `conversations.history` as Slack does (newest first,
    `oldest`/`latest`/`limit`/`cursor`, message `metadata` only with `include_all_metadata`).
    """

    def __init__(self, token: str = "xoxb-test-token", app_token: str = "xapp-1-A0PULSE0001-1-test"):
        self.token = token
        self.app_token = app_token
        self.socket_url: str | None = None
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self._slow: dict[str, list[list[float]]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._names: dict[str, str] = {}
        self.locales: dict[str, str] = {}  # user id → Slack locale ("zh-CN", "en-US"): the users users.info knows
        self._server = _Server(self._handle)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/api/"

    def start(self) -> "FakeSlackAPI":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "FakeSlackAPI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def fail(self, method: str, *, status: int = 200, error: str = "internal_error", retry_after: int | None = None, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail: HTTP 429 with Retry-After, HTTP 5xx, or `ok: false`."""
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(status, error, retry_after, times))

    def slow(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of `method` take effect at once but answer only after `seconds` (a slow Slack)."""
        with self._lock:
            self._slow.setdefault(method, []).append([seconds, times])

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages(self, channel: str | None = None) -> list[Call]:
        """The chat.postMessage calls that succeeded in posting (optionally to one channel)."""
        return [c for c in self.calls_to("chat.postMessage") if c.ok and (channel is None or c.params.get("channel") == channel)]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = urlparse(h.path).path
        body, params = _read(h, parse=not path.startswith("/upload/"))
        if path.startswith("/upload/"):
            file_id = path.rsplit("/", 1)[1]
            with self._lock:
                self.calls.append(Call("upload", params={"file_id": file_id}, headers=dict(h.headers), body=body))
                self.uploads[file_id] = body
            _send(h, 200, f"OK - {len(body)}".encode())
            return
        method = path.removeprefix("/api/")
        call = Call(method, params, dict(h.headers), body)
        with self._lock:
            self.calls.append(call)
            failure = self._next_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
            _send(h, failure.status, {"ok": False, "error": failure.error}, headers)
            return
        token = params.get("token") or (h.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not token:
            _send(h, 200, {"ok": False, "error": "not_authed"})
            return
        expected = self.app_token if method == "apps.connections.open" else self.token
        if token != expected:
            error = "not_allowed_token_type" if token in (self.token, self.app_token) else "invalid_auth"
            _send(h, 200, {"ok": False, "error": error})
            return
        status, payload = self._answer(method, params)
        call.ok = bool(payload.get("ok"))
        delay = self._next_delay(method)
        if delay:
            time.sleep(delay)
        try:
            _send(h, status, payload, {"x-oauth-scopes": "commands,chat:write,chat:write.public,files:write,channels:history"})
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout) or died
            pass

    def _next_delay(self, method: str) -> float:
        with self._lock:
            queue = self._slow.get(method)
            if not queue:
                return 0.0
            seconds, queue[0][1] = queue[0][0], queue[0][1] - 1
            if queue[0][1] <= 0:
                queue.pop(0)
            return seconds

    def _next_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def _store(self, channel: str, message: dict[str, Any], update: bool = False) -> None:
        """Keep a posted message in the channel's history (chat.update replaces the message with the same ts)."""
        with self._lock:
            messages = self.history.setdefault(channel, [])
            if update:
                for i, old in enumerate(messages):
                    if old["ts"] == message["ts"]:
                        messages[i] = {**old, **message}
                return
            messages.append(message)

    def _history(self, p: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: newest first, `oldest` < ts < `latest` (inclusive with `inclusive`), paged by `cursor`."""
        channel = p.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        inclusive = str(p.get("inclusive", "")).lower() in ("1", "true")
        oldest = float(p.get("oldest") or 0)
        latest = float(p["latest"]) if p.get("latest") else float("inf")
        limit = min(int(p.get("limit") or 100), 999)
        start = int(p["cursor"].removeprefix("offset:")) if p.get("cursor") else 0
        with self._lock:
            stored = list(self.history.get(channel, []))
        within = [m for m in reversed(stored) if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)]
        page = within[start:start + limit]
        if str(p.get("include_all_metadata", "")).lower() not in ("1", "true"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(within)
        return {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""}}

    def _answer(self, method: str, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "auth.test":
            return 200, {
                "ok": True, "url": "https://pulse-test.slack.com/", "team": "Pulse Test", "user": "pulse",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            channel = p.get("channel")
            if not channel:
                return 200, {"ok": False, "error": "channel_not_found"}
            if not (p.get("text") or p.get("blocks") or p.get("attachments")):
                return 200, {"ok": False, "error": "no_text"}
            if p.get("blocks") and (problem := block_problems(p["blocks"])):
                return 200, {"ok": False, "error": problem}
            if method == "chat.postEphemeral":
                if not p.get("user"):
                    return 200, {"ok": False, "error": "user_not_in_channel"}
                return 200, {"ok": True, "message_ts": self._ts()}
            ts = p.get("ts") if method == "chat.update" else self._ts()
            if method == "chat.update" and not ts:
                return 200, {"ok": False, "error": "message_not_found"}
            message = {"type": "message", "subtype": "bot_message", "text": p.get("text", ""), "ts": ts,
                       "username": "pulse", "bot_id": BOT_ID}
            if p.get("blocks"):
                message["blocks"] = p["blocks"] if not isinstance(p["blocks"], str) else json.loads(p["blocks"])
            metadata = p.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            if metadata:
                if not isinstance(metadata, dict) or not metadata.get("event_type") or not isinstance(metadata.get("event_payload"), dict):
                    return 200, {"ok": False, "error": "invalid_metadata_format"}
                message["metadata"] = {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}
            self._store(channel, message, update=method == "chat.update")
            out = {"ok": True, "channel": channel, "ts": ts, "message": message}
            if method == "chat.update":
                out["text"] = p.get("text", "")
            return 200, out
        if method == "conversations.history":
            return 200, self._history(p)
        if method == "apps.connections.open":
            if not self.socket_url:
                return 200, {"ok": False, "error": "socket_mode_not_enabled"}
            return 200, {"ok": True, "url": self.socket_url}
        if method == "conversations.open":  # the bot's direct message with a user (scope im:write)
            users = str(p.get("users") or "")
            if not users or "," in users:
                return 200, {"ok": False, "error": "users_list_not_supplied" if not users else "not_allowed"}
            return 200, {"ok": True, "channel": {"id": "D" + users.lstrip("UW"), "is_im": True}}
        if method == "users.info":  # scope users:read; `locale` only with include_locale=true (Slack's docs)
            user = str(p.get("user") or "")
            if user not in self.locales:
                return 200, {"ok": False, "error": "user_not_found"}
            found = {"id": user, "team_id": TEAM_ID, "name": user.lower(), "deleted": False, "real_name": f"User {user}",
                     "tz": "Asia/Shanghai", "is_bot": False, "updated": 1700000000}
            if str(p.get("include_locale", "")).lower() in ("1", "true"):
                found["locale"] = self.locales[user]
            return 200, {"ok": True, "user": found}
        if method == "conversations.info":
            channel = p.get("channel")
            if not channel:
                return 200, {"ok": False, "error": "channel_not_found"}
            return 200, {"ok": True, "channel": {"id": channel, "name": f"name-{channel.lower()}", "is_channel": True,
                                                 "is_private": False, "is_member": True, "is_archived": False}}
        if method == "files.getUploadURLExternal":
            if not p.get("filename") or not str(p.get("length", "")).isdigit():
                return 200, {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._ids):010d}"
            self._names[file_id] = p["filename"]
            return 200, {"ok": True, "upload_url": f"http://127.0.0.1:{self._server.port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = json.loads(p.get("files") or "[]") if isinstance(p.get("files"), str) else p.get("files") or []
            with self._lock:
                missing = [f["id"] for f in files if f.get("id") not in self.uploads]
            if not files or missing:
                return 200, {"ok": False, "error": "file_not_found"}
            channels = [p["channel_id"]] if p.get("channel_id") else [c for c in (p.get("channels") or "").split(",") if c]
            shared = [{"id": f["id"], "name": self._names.get(f["id"], ""), "title": f.get("title") or ""} for f in files]
            for channel in channels:  # a shared file shows in the channel as a message from the uploader
                self._store(channel, {"type": "message", "text": p.get("initial_comment") or "", "ts": self._ts(),
                                      "user": BOT_USER_ID, "bot_id": BOT_ID, "upload": True, "files": shared})
            return 200, {"ok": True, "files": [{"id": f["id"], "title": f.get("title") or "", "channels": channels} for f in files]}
        return 200, {"ok": False, "error": "unknown_method", "req_method": method}


@dataclass
class Delivery:
    """One POST the app made to a response_url."""

    path: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class ResponseUrlReceiver:
    """Stands in for Slack's response_url endpoints: `url()` hands out fresh hook URLs; POSTs are recorded."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = _Server(self._handle)

    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/commands/{TEAM_ID}/{next(self._ids)}/hook"

    def start(self) -> "ResponseUrlReceiver":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "ResponseUrlReceiver":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def to(self, url: str) -> list[Delivery]:
        path = urlparse(url).path
        with self._lock:
            return [d for d in self.deliveries if d.path == path]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body, _ = _read(h)
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            _send(h, 400, b"invalid_payload")
            return
        with self._lock:
            self.deliveries.append(Delivery(urlparse(h.path).path, payload))
        if payload.get("blocks") and block_problems(payload["blocks"]):
            _send(h, 400, b"invalid_blocks")
            return
        _send(h, 200, b"ok")
