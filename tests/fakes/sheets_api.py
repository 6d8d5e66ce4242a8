"""A faithful local fake of the Google Sheets API v4 and Google's OAuth token endpoint, served on 127.0.0.1.

Usage::

    with FakeSheets() as fake:
        fake.add_spreadsheet("KEY", tabs={"Customers": [["customer_id"], ["007"]]})
        info = fake.service_account()          # key JSON whose token_uri is fake.token_uri
        os.environ["PULSE_SHEETS_API_URL"] = fake.url
        ...
        fake.count("values.batchGet")          # requests by kind
        fake.fail_next(429, count=3)           # fault injection
        fake.fail_next(500, kind="spreadsheets.batchUpdate", request="copyPaste")   # only batches carrying one
        fake.drop_after_next()                 # apply the request, then lose the answer
        fake.set_delay(5.0)                    # a slow sheet
        fake.touch("KEY")                      # an edit by someone else: Drive's modifiedTime and version move on

Endpoints: spreadsheets.get (`fields`, `includeGridData=false`), spreadsheets.batchUpdate (addSheet,
deleteSheet, updateSheetProperties incl. hidden, repeatCell, updateCells, copyPaste, createDeveloperMetadata,
deleteDeveloperMetadata),
values.get/update/clear/append, values.batchGet/batchUpdate/batchClear, developerMetadata.search, Drive
files.get (`fields`; needs a Drive scope, else 403 insufficientPermissions like Google; modifiedTime and version
move on with every write), and POST /token (JWT-bearer grants signed by a registered service-account key, refresh-token
grants of registered authorized users). Every API request needs a bearer token the fake issued.
"""

from __future__ import annotations

import copy
import functools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.sheets_model import ApiError, Grid, Spreadsheet, StoredCell, apply_fields, parse_fields

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
# Scopes that let files.get read a file's metadata (Drive API v3 reference, files.get "Authorization scopes").
DRIVE_METADATA_SCOPES = {f"https://www.googleapis.com/auth/{s}" for s in (
    "drive", "drive.readonly", "drive.metadata", "drive.metadata.readonly", "drive.file", "drive.appdata",
    "drive.photos.readonly", "drive.meet.readonly")}
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # google-auth signs service-account JWTs for this audience
WRITE_KINDS = {"spreadsheets.batchUpdate", "values.update", "values.batchUpdate", "values.clear", "values.batchClear",
               "values.append"}


@dataclass
class LoggedRequest:
    """One request the fake received: its kind (e.g. "values.batchGet"), path, query, body and answer."""

    kind: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    key: str | None = None
    identity: str | None = None
    sent: int = 0  # bytes of the answer's body


@dataclass
class _Fault:
    action: str  # "status" | "drop" | "drop_after"
    status: int
    kind: str | None
    remaining: int
    request: str | None = None  # only spreadsheets.batchUpdate bodies carrying this request kind (e.g. "copyPaste")
    after: int = 0  # let this many matching requests through first


@dataclass
class _Identity:
    email: str
    scopes: list[str] = field(default_factory=list)


class FakeSheets:
    """The fake server. Thread-safe; use as a context manager or call start()/stop()."""

    def __init__(self, require_auth: bool = True):
        self.require_auth = require_auth
        self.requests: list[LoggedRequest] = []
        self._books: dict[str, Spreadsheet] = {}
        self._forced: dict[str, int] = {}
        self._faults: list[_Fault] = []
        self._delays: dict[str | None, float] = {}
        self._tokens: dict[str, _Identity] = {}
        self._public_keys: dict[str, str] = {}
        self._refresh_tokens: dict[str, tuple[str, str, str]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeSheets":
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeSheets":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL standing for https://sheets.googleapis.com (Drive lives under /drive/v3)."""
        assert self._server is not None, "FakeSheets is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # ---- data --------------------------------------------------------------------------------
    def add_spreadsheet(self, key: str, tabs: dict[str, list[list[Any]]] | None = None, title: str = "CRM data",
                        shared_with: set[str] | None = None) -> Spreadsheet:
        """Create a spreadsheet; `tabs` maps titles to rows written RAW from A1 (grid ≥ 1000×26 like a new sheet).

        `shared_with` limits access to those e-mails (None: anyone signed in); add e-mails to the returned
        spreadsheet's `viewers` to let them read but not write.
        """
        book = Spreadsheet(key, title)
        book.shared_with = shared_with
        for name, rows in (tabs or {"Sheet1": []}).items():
            self.add_tab(key, name, rows, book=book)
        with self._lock:
            self._books[key] = book
        return book

    def add_tab(self, key: str, title: str, rows: list[list[Any]] | None = None, *, owner_mark: str | None = None,
                book: Spreadsheet | None = None) -> Grid:
        """Add a tab with `rows`; `owner_mark` attaches DOCUMENT developer metadata with that key to it."""
        with self._lock:
            book = book or self._books[key]
            rows = rows or []
            grid = book.add_grid(title, rows=max(1000, len(rows) + 1),
                                 cols=max(26, max((len(r) for r in rows), default=0)))
            Spreadsheet.apply_write(grid, [(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row)
                                           if v is not None], "RAW")
            book.touch()
            if owner_mark:
                book.batch_update([{"createDeveloperMetadata": {"developerMetadata": {
                    "metadataKey": owner_mark, "metadataValue": title,
                    "location": {"sheetId": grid.sheet_id}, "visibility": "DOCUMENT"}}}])
            return grid

    def add_bulk_tab(self, key: str, title: str, rows: list[list[Any]]) -> Grid:
        """A read-only tab holding `rows` as given (benchmarks: a million rows without one object per cell);
        each row as an UNFORMATTED_VALUE read returns it ("" for an empty cell, dates as serial numbers)."""
        with self._lock:
            book = self._books[key]
            grid = book.add_grid(title, rows=max(1000, len(rows) + 1), cols=max(26, max(map(len, rows), default=0)))
            grid.frozen = rows
            book.touch()
            return grid

    def touch(self, key: str) -> None:
        """Someone edited the spreadsheet: its Drive modifiedTime and version move on."""
        with self._lock:
            self._books[key].touch()

    def spreadsheet(self, key: str) -> Spreadsheet:
        return self._books[key]

    def tab_titles(self, key: str) -> list[str]:
        with self._lock:
            return [g.title for g in sorted(self._books[key].grids, key=lambda g: g.index)]

    def values(self, key: str, tab: str, render: str = "UNFORMATTED_VALUE") -> list[list[Any]]:
        """A tab's values as values.get would return them (trimmed)."""
        with self._lock:
            book = self._books[key]
            return book.read(book.span(_quote(tab)), render, "SERIAL_NUMBER", "ROWS").get("values", [])

    def cell(self, key: str, tab: str, row: int, col: int) -> StoredCell | None:
        """The stored cell at 0-based (row, col), with its formula if it has one."""
        with self._lock:
            return self._books[key].grid_by_title(tab).cells.get((row, col))

    def grid(self, key: str, tab: str) -> Grid:
        with self._lock:
            grid = self._books[key].grid_by_title(tab)
            assert grid is not None, f"no tab {tab!r}"
            return grid

    def developer_metadata(self, key: str, tab: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            book = self._books[key]
            if tab is None:
                return copy.deepcopy(book.metadata)
            sheet_id = book.grid_by_title(tab).sheet_id
            return [copy.deepcopy(m) for m in book.metadata if m["location"].get("sheetId") == sheet_id]

    # ---- credentials -------------------------------------------------------------------------
    def service_account(self, email: str = "pulse-bot@crm-pulse-test.iam.gserviceaccount.com") -> dict[str, Any]:
        """A service-account key JSON (fresh RSA key) registered with the fake; its token_uri is the fake's."""
        private_pem, public_pem = _rsa_keypair()
        key_id = secrets.token_hex(20)
        with self._lock:
            self._public_keys[email] = public_pem
        return {
            "type": "service_account", "project_id": "crm-pulse-test", "private_key_id": key_id,
            "private_key": private_pem, "client_email": email, "client_id": "1" + secrets.token_hex(10),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }

    def authorized_user(self, email: str = "analyst@example.com") -> dict[str, Any]:
        """An OAuth authorized-user JSON (refresh token) registered with the fake."""
        client_id, client_secret, refresh = "cid-" + secrets.token_hex(6), secrets.token_hex(12), secrets.token_hex(16)
        with self._lock:
            self._refresh_tokens[refresh] = (client_id, client_secret, email)
        return {"type": "authorized_user", "client_id": client_id, "client_secret": client_secret,
                "refresh_token": refresh, "token_uri": self.token_uri}

    def issue_token(self, email: str) -> str:
        """An access token for `email` (for tests that bypass the token exchange)."""
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Identity(email, [SPREADSHEETS_SCOPE])
        return token

    # ---- fault injection ---------------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, kind: str | None = None, request: str | None = None,
                  after: int = 0) -> None:
        """The next `count` API requests (of `kind`; batchUpdates carrying a `request` of that kind, if given;
        after letting `after` of them through) answer `status` with the API's error body; nothing is applied."""
        with self._lock:
            self._faults.append(_Fault("status", status, kind, count, request, after))

    def drop_next(self, count: int = 1, kind: str | None = None, request: str | None = None) -> None:
        """The next `count` API requests (of `kind`) get their connection closed without an answer."""
        with self._lock:
            self._faults.append(_Fault("drop", 0, kind, count, request))

    def drop_after_next(self, count: int = 1, kind: str | None = None, request: str | None = None) -> None:
        """The next `count` API requests (of `kind`) are applied, then their connection is closed before the
        answer (a timeout or reset after Google did the work: the client cannot tell that it landed)."""
        with self._lock:
            self._faults.append(_Fault("drop_after", 0, kind, count, request))

    def set_delay(self, seconds: float, kind: str | None = None) -> None:
        """Delay every API request (or only `kind`) by `seconds` before answering; 0 removes it."""
        with self._lock:
            if seconds:
                self._delays[kind] = seconds
            else:
                self._delays.pop(kind, None)

    def deny(self, key: str, status: int = 403) -> None:
        """Every request for spreadsheet `key` answers `status` (403 not shared, 404 not found); 0 lifts it."""
        with self._lock:
            if status:
                self._forced[key] = status
            else:
                self._forced.pop(key, None)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._forced.clear()

    # ---- request log -------------------------------------------------------------------------
    def bytes_sent(self, kind: str | None = None) -> int:
        """Bytes of the answers' bodies (of `kind`, default every API request)."""
        with self._lock:
            return sum(r.sent for r in self.requests if (kind is None and r.kind != "token") or r.kind == kind)

    def count(self, kind: str | None = None, *, api_only: bool = True) -> int:
        """How many requests of `kind` arrived (default: all API requests, not token exchanges)."""
        with self._lock:
            return sum(1 for r in self.requests
                       if (kind is None and (not api_only or r.kind != "token")) or r.kind == kind)

    def kinds(self, api_only: bool = True) -> list[str]:
        """Kinds of the requests received so far, in order (token exchanges only when api_only=False)."""
        with self._lock:
            return [r.kind for r in self.requests if not api_only or r.kind != "token"]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---- request handling (called from server threads) ----------------------------------------
    def _take_fault(self, kind: str, body: Any = None) -> _Fault | None:
        if kind == "token":
            return None
        carried = {next(iter(r), None) for r in body.get("requests", []) if isinstance(r, dict)} \
            if isinstance(body, dict) else set()
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.kind in (None, kind) and fault.request in (None, *carried):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.remaining -= 1
                    return fault
            return None

    def _delay_for(self, kind: str) -> float:
        if kind == "token":
            return 0.0
        with self._lock:
            return self._delays.get(kind, self._delays.get(None, 0.0))

    def _authenticate(self, header: str | None) -> _Identity | None:
        if not self.require_auth:
            return _Identity("anonymous")
        if not header or not header.lower().startswith("bearer "):
            raise ApiError(401, "Request is missing required authentication credential. Expected OAuth 2 access token, "
                                "login cookie or other valid authentication credential. See "
                                "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        with self._lock:
            identity = self._tokens.get(header[7:].strip())
        if identity is None:
            raise ApiError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                                "cookie or other valid authentication credential. See "
                                "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        return identity

    def _book(self, key: str, identity: _Identity) -> Spreadsheet:
        forced = self._forced.get(key)
        if forced == 404 or key not in self._books:
            raise ApiError(404, "Requested entity was not found.")
        if forced:
            raise ApiError(forced, _FAULT_MESSAGES.get(forced, "The caller does not have permission"))
        book = self._books[key]
        if book.shared_with is not None and identity.email not in book.shared_with:
            raise ApiError(403, "The caller does not have permission")
        return book

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        from google.auth import exceptions as gexc
        from google.auth import jwt

        grant = form.get("grant_type", [""])[0]
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            assertion = form.get("assertion", [""])[0]
            try:
                claims = jwt.decode(assertion, verify=False)
                with self._lock:
                    public = self._public_keys.get(claims.get("iss", ""))
                if public is None:
                    return 400, {"error": "invalid_grant", "error_description": "Invalid grant: account not found"}
                claims = jwt.decode(assertion, certs=public, audience=[GOOGLE_TOKEN_AUDIENCE, self.token_uri])
            except (ValueError, gexc.GoogleAuthError) as err:
                return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature. ({err})"}
            token = "ya29.fake-" + secrets.token_urlsafe(24)
            with self._lock:
                self._tokens[token] = _Identity(claims["iss"], str(claims.get("scope", "")).split())
            return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        if grant == "refresh_token":
            refresh = form.get("refresh_token", [""])[0]
            with self._lock:
                known = self._refresh_tokens.get(refresh)
            if known is None or known[:2] != (form.get("client_id", [""])[0], form.get("client_secret", [""])[0]):
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            token = "ya29.fake-" + secrets.token_urlsafe(24)
            scopes = form.get("scope", [SPREADSHEETS_SCOPE])[0].split()
            with self._lock:
                self._tokens[token] = _Identity(known[2], scopes)
            return 200, {"access_token": token, "expires_in": 3599, "scope": " ".join(scopes), "token_type": "Bearer"}
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}

    def _api(self, method: str, kind: str, key: str, rest: str, query: dict[str, list[str]], body: Any,
             identity: _Identity) -> dict[str, Any]:
        with self._lock:
            book = self._book(key, identity)
            if kind in WRITE_KINDS and SPREADSHEETS_SCOPE not in identity.scopes and identity.email != "anonymous":
                raise ApiError(403, "Request had insufficient authentication scopes.")
            if kind in WRITE_KINDS and identity.email in book.viewers:
                raise ApiError(403, "The caller does not have permission")
            if kind == "drive.files.get" and identity.email != "anonymous" and \
                    not DRIVE_METADATA_SCOPES & set(identity.scopes):
                raise ApiError(403, "Request had insufficient authentication scopes.", reason="insufficientPermissions")
            answer = _ROUTES[kind](book, rest, query, body or {})
            if kind in WRITE_KINDS:
                book.touch()
            return answer


_FAULT_MESSAGES = {
    403: "The caller does not have permission",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service "
         "'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


@functools.lru_cache(maxsize=1)
def _rsa_keypair() -> tuple[str, str]:
    """One throwaway RSA key per test process (generating one per test would slow the suite)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


# ---- routes -----------------------------------------------------------------------------------
def _render_opts(query: dict[str, list[str]]) -> tuple[str, str, str]:
    render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
    dt = query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]
    major = query.get("majorDimension", ["ROWS"])[0]
    if render not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
        raise ApiError(400, f"Invalid value at 'value_render_option' ({render})")
    if dt not in ("SERIAL_NUMBER", "FORMATTED_STRING"):
        raise ApiError(400, f"Invalid value at 'date_time_render_option' ({dt})")
    if major not in ("ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"):
        raise ApiError(400, f"Invalid value at 'major_dimension' ({major})")
    return render, dt, "ROWS" if major == "DIMENSION_UNSPECIFIED" else major


def _input_option(value: str | None) -> str:
    if not value:
        raise ApiError(400, "'valueInputOption' is required but not specified")
    if value not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, f"Invalid value at 'value_input_option' ({value})")
    return value


def _get(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    resource = book.resource()
    if query.get("includeGridData", ["false"])[0].lower() == "true":
        raise ApiError(400, "includeGridData=true is not supported by this fake")
    fields = query.get("fields", [""])[0]
    return apply_fields(resource, parse_fields(fields)) if fields else resource


def _batch_update(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
    saved = copy.deepcopy((book.grids, book.metadata, book._next_id))
    try:
        replies = book.batch_update(body.get("requests", []))
    except ApiError:
        book.grids, book.metadata, book._next_id = saved
        raise
    out: dict[str, Any] = {"spreadsheetId": book.key, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = book.resource()
    return out


def _values_get(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    return book.read(book.span(rest), *_render_opts(query))


def _values_batch_get(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    opts = _render_opts(query)
    spans = [book.span(r) for r in query.get("ranges", [])]
    return {"spreadsheetId": book.key, "valueRanges": [book.read(s, *opts) for s in spans]}


def _write_all(book: Spreadsheet, data: list[dict[str, Any]], option: str) -> list[dict[str, Any]]:
    plans = []
    for item in data:
        span = book.span(item.get("range", ""))
        plans.append((span, book.plan_write(span, item.get("values", []), item.get("majorDimension", "ROWS"),
                                            item.get("range", ""))))
    responses = []
    for span, cells in plans:
        Spreadsheet.apply_write(span.grid, cells, option)
        responses.append(_update_response(book, span, cells))
    return responses


def _update_response(book: Spreadsheet, span: Any, cells: list[tuple[int, int, Any]]) -> dict[str, Any]:
    from tests.fakes.sheets_model import a1

    out: dict[str, Any] = {"spreadsheetId": book.key}
    if cells:
        r0, r1 = min(c[0] for c in cells), max(c[0] for c in cells) + 1
        c0, c1 = min(c[1] for c in cells), max(c[1] for c in cells) + 1
        out.update(updatedRange=a1(span.grid, r0, r1, c0, c1), updatedRows=r1 - r0, updatedColumns=c1 - c0,
                   updatedCells=len(cells))
    return out


def _values_update(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
    option = _input_option(query.get("valueInputOption", [None])[0])
    if body.get("range") and book.span(body["range"]) != book.span(rest):
        raise ApiError(400, f"Requested range [{rest}] does not match the range in the body [{body['range']}]")
    return _write_all(book, [dict(body, range=rest)], option)[0]


def _values_batch_update(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
    option = _input_option(body.get("valueInputOption"))
    responses = _write_all(book, body.get("data", []), option)
    touched = [r for r in responses if "updatedCells" in r]
    return {
        "spreadsheetId": book.key,
        "totalUpdatedRows": sum(r["updatedRows"] for r in touched),
        "totalUpdatedColumns": sum(r["updatedColumns"] for r in touched),
        "totalUpdatedCells": sum(r["updatedCells"] for r in touched),
        "totalUpdatedSheets": len({r["updatedRange"].rpartition("!")[0] for r in touched}),
        "responses": responses,
    }


def _values_append(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
    """values.append: write below the last non-empty row of the table in `rest` (OVERWRITE or INSERT_ROWS)."""
    from tests.fakes.sheets_model import Span, a1

    option = _input_option(query.get("valueInputOption", [None])[0])
    span = book.span(rest)
    grid = span.grid
    c_end = span.cols_end()
    used = [r for (r, c) in grid.cells if span.r0 <= r < span.rows_end() and span.c0 <= c < c_end]
    start = max(used) + 1 if used else span.r0
    values = body.get("values", [])
    if query.get("insertDataOption", ["OVERWRITE"])[0] == "INSERT_ROWS" or start + len(values) > grid.rows:
        grid.rows += len(values)
    target = Span(grid, start, None, span.c0, None)
    cells = book.plan_write(target, values, body.get("majorDimension", "ROWS"), rest)
    Spreadsheet.apply_write(grid, cells, option)
    table_end = max(start, span.r0 + 1)
    return {"spreadsheetId": book.key, "tableRange": a1(grid, span.r0, table_end, span.c0, c_end) if used else None,
            "updates": _update_response(book, target, cells)}


def _values_clear(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    return {"spreadsheetId": book.key, "clearedRange": book.clear(book.span(rest))}


def _values_batch_clear(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
    spans = [book.span(r) for r in body.get("ranges", [])]
    return {"spreadsheetId": book.key, "clearedRanges": [book.clear(s) for s in spans]}


def _metadata_search(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
    filters = body.get("dataFilters", [])
    found = book.search_metadata(filters)
    return {"matchedDeveloperMetadata": [{"developerMetadata": m, "dataFilters": filters} for m in found]} if found else {}


def _metadata_get(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    found = book.search_metadata([{"developerMetadataLookup": {"metadataId": int(rest) if rest.isdigit() else -1}}])
    if not found:
        raise ApiError(404, f"No developer metadata with ID: {rest}")
    return found[0]


def _drive_get(book: Spreadsheet, rest: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    """files.get: without `fields` the default kind/id/name/mimeType; with `fields` just those (RFC 3339 times in
    UTC with milliseconds, `version` an int64 as a JSON string, as in the Drive API v3 File resource)."""
    created = datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    modified, version = book.drive_state()
    resource = {"kind": "drive#file", "id": book.key, "name": book.title,
                "mimeType": "application/vnd.google-apps.spreadsheet", "createdTime": created,
                "modifiedTime": modified.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "version": str(version)}
    fields = query.get("fields", [""])[0]
    if not fields:
        return {k: resource[k] for k in ("kind", "id", "name", "mimeType")}
    return apply_fields(resource, parse_fields(fields))


_ROUTES = {
    "spreadsheets.get": _get, "spreadsheets.batchUpdate": _batch_update, "values.get": _values_get,
    "values.batchGet": _values_batch_get, "values.update": _values_update, "values.batchUpdate": _values_batch_update,
    "values.clear": _values_clear, "values.batchClear": _values_batch_clear, "values.append": _values_append,
    "developerMetadata.search": _metadata_search, "developerMetadata.get": _metadata_get, "drive.files.get": _drive_get,
}


def classify(method: str, raw_path: str) -> tuple[str, str, str]:
    """(kind, spreadsheet key, rest) for a request path; rest is the decoded range or id when there is one."""
    if raw_path.startswith("/drive/v3/files/") and method == "GET":
        return "drive.files.get", unquote(raw_path[len("/drive/v3/files/"):]), ""
    prefix = "/v4/spreadsheets/"
    if not raw_path.startswith(prefix):
        raise ApiError(404, f"Not found: {raw_path}")
    tail = raw_path[len(prefix):]
    key, slash, sub = tail.partition("/")
    if not slash:
        key, colon, verb = key.partition(":")
        if not colon and method == "GET":
            return "spreadsheets.get", unquote(key), ""
        if verb == "batchUpdate" and method == "POST":
            return "spreadsheets.batchUpdate", unquote(key), ""
        raise ApiError(404, f"Not found: {raw_path}")
    key = unquote(key)
    batch = {"values:batchGet": ("GET", "values.batchGet"), "values:batchUpdate": ("POST", "values.batchUpdate"),
             "values:batchClear": ("POST", "values.batchClear"),
             "developerMetadata:search": ("POST", "developerMetadata.search")}
    if sub in batch and batch[sub][0] == method:
        return batch[sub][1], key, ""
    if sub.startswith("developerMetadata/") and method == "GET":
        return "developerMetadata.get", key, unquote(sub[len("developerMetadata/"):])
    if sub.startswith("values/"):
        rng = sub[len("values/"):]
        if rng.endswith(":clear") and method == "POST":
            return "values.clear", key, unquote(rng[: -len(":clear")])
        if rng.endswith(":append") and method == "POST":
            return "values.append", key, unquote(rng[: -len(":append")])
        if method == "GET":
            return "values.get", key, unquote(rng)
        if method == "PUT":
            return "values.update", key, unquote(rng)
    raise ApiError(404, f"Not found: {raw_path}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FakeSheets

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        fake = self.owner
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        entry = LoggedRequest(kind="unknown", method=method, path=unquote(split.path), query=query, body=None)
        self._entry = entry
        try:
            if split.path == "/token" and method == "POST":
                entry.kind = "token"
                form = parse_qs(raw.decode(), keep_blank_values=True)
                entry.body = {k: v for k, v in form.items() if k == "grant_type"}
                self._log(entry)
                status, payload = fake._token(form)
                entry.status = status
                return self._send(status, payload)
            kind, key, rest = classify(method, split.path)
            entry.kind, entry.key = kind, key
            entry.body = json.loads(raw) if raw else None
            self._log(entry)
            delay = fake._delay_for(kind)
            if delay:
                time.sleep(delay)
            fault = fake._take_fault(kind, entry.body)
            if fault is not None and fault.action == "drop":
                entry.status = -1
                self.close_connection = True
                return
            identity = fake._authenticate(self.headers.get("Authorization"))
            entry.identity = identity.email
            if fault is not None and fault.action == "drop_after":
                fake._api(method, kind, key, rest, query, entry.body, identity)
                entry.status = -2
                self.close_connection = True
                return
            if fault is not None:
                message = _FAULT_MESSAGES.get(fault.status, "Fault injected by the fake.")
                if fault.status == 429 and kind in WRITE_KINDS:
                    message = message.replace("Read requests", "Write requests")
                raise ApiError(fault.status, message)
            payload = fake._api(method, kind, key, rest, query, entry.body, identity)
            entry.status = 200
            self._send(200, payload)
        except ApiError as err:
            entry.status = err.code
            self._send(err.code, err.body())
        except json.JSONDecodeError as err:
            entry.status = 400
            self._send(400, ApiError(400, f"Invalid JSON payload received. {err}").body())

    def _log(self, entry: LoggedRequest) -> None:
        with self.owner._lock:
            self.owner.requests.append(entry)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        # Google pretty-prints JSON answers unless the request says prettyPrint=false (a system parameter).
        compact = "prettyPrint=false" in urlsplit(self.path).query
        data = (json.dumps(payload, separators=(",", ":")) if compact else json.dumps(payload, indent=2)).encode()
        entry = getattr(self, "_entry", None)
        if entry is not None:
            entry.sent = len(data)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "private")
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test); nothing to answer


def point_env_at(fake: FakeSheets, monkeypatch: Any, info: dict[str, Any] | None = None,
                 retry_seconds: float = 2.0) -> dict[str, Any]:
    """Point crm-pulse at the fake: API URL, inline credentials (a new service account unless given), short retries."""
    info = info or fake.service_account()
    monkeypatch.setenv("PULSE_SHEETS_API_URL", fake.url)
    monkeypatch.setenv("PULSE_GOOGLE_CREDENTIALS_JSON", json.dumps(info))
    monkeypatch.setenv("PULSE_SHEETS_RETRY_SECONDS", str(retry_seconds))
    return info
