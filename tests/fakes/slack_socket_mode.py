"""A local Socket Mode endpoint: a minimal RFC 6455 WebSocket server speaking Slack's envelope protocol.

Slack's side of Socket Mode: `apps.connections.open` (served by FakeSlackAPI with `socket_url` set) hands out
a `ws://` URL; on connect the server says `hello`, pushes envelopes (`slash_commands`, `interactive`, …)
and the app acknowledges each with `{"envelope_id": …, "payload": …}`. Pings are answered with pongs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from typing import Any

from tests.fakes.slack_requests import APP_ID

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    """Accepts the app's WebSocket, sends envelopes and records the acks that come back."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stopped = False
        self.acks: dict[str, dict[str, Any]] = {}
        self._thread = threading.Thread(target=self._serve, name="fake-socket-mode", daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._sock.getsockname()[1]}/link/?ticket={uuid.uuid4()}&app_id={APP_ID}"

    def start(self) -> "FakeSocketMode":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        try:
            if self._conn is not None:
                self._frame(8, struct.pack("!H", 1000))
                self._conn.close()
        except OSError:
            pass
        self._sock.close()

    def __enter__(self) -> "FakeSocketMode":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait_connected(self, timeout: float = 10.0) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the app never opened its Socket Mode connection")

    def send(self, envelope_type: str, payload: dict[str, Any], accepts_response_payload: bool = True) -> str:
        """Push one envelope to the app; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        message = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                   "accepts_response_payload": accepts_response_payload}
        self._frame(1, json.dumps(message).encode())
        return envelope_id

    def ack(self, envelope_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.acks.get(envelope_id)

    def _serve(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._handshake(conn):
                self._conn = conn
                self._frame(1, json.dumps({"type": "hello", "num_connections": 1,
                                           "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                                           "connection_info": {"app_id": APP_ID}}).encode())
                self._connected.set()
                self._read_loop(conn)

    def _handshake(self, conn: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            request += chunk
        headers = {}
        for line in request.decode().split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        key = headers.get("sec-websocket-key")
        if not key or headers.get("upgrade", "").lower() != "websocket":
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        return True

    def _read_loop(self, conn: socket.socket) -> None:
        while not self._stopped:
            try:
                opcode, data = _read_frame(conn)
            except (OSError, ConnectionError):
                return
            if opcode == 1:
                message = json.loads(data)
                with self._lock:
                    self.acks[message["envelope_id"]] = {"payload": message.get("payload"), "at": time.monotonic()}
            elif opcode == 9:
                self._frame(10, data)
            elif opcode == 8:
                return

    def _frame(self, opcode: int, data: bytes) -> None:
        """A final, unmasked server frame."""
        header = bytes([0x80 | opcode])
        n = len(data)
        if n < 126:
            header += bytes([n])
        elif n < 65536:
            header += bytes([126]) + struct.pack("!H", n)
        else:
            header += bytes([127]) + struct.pack("!Q", n)
        with self._send_lock:
            if self._conn is None:
                raise AssertionError("no Socket Mode connection yet")
            self._conn.sendall(header + data)


def _recv(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
    """One (possibly fragmented) client message: client frames are masked (RFC 6455 §5.3)."""
    payload = b""
    opcode = 0
    while True:
        b1, b2 = _recv(conn, 2)
        fin, op = b1 & 0x80, b1 & 0x0F
        opcode = op or opcode
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", _recv(conn, 2))[0]
        elif n == 127:
            n = struct.unpack("!Q", _recv(conn, 8))[0]
        mask = _recv(conn, 4) if b2 & 0x80 else b"\0\0\0\0"
        data = _recv(conn, n)
        payload += bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        if fin:
            return opcode, payload
