"""Google credentials from the environment: a service-account key (file or inline JSON) or OAuth user credentials.

The key's own `token_uri` is honoured, so an emulator or a test fake can run the token exchange.
Secrets are never logged; messages name only the account e-mail and the variable that was read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.auth.credentials import Credentials

from sheets.workbook import WorkbookError

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
# Lets crm-pulse ask Drive when the sheet last changed (files.get modifiedTime), so an unchanged sheet is not
# downloaded again. A service account may request it freely; OAuth user credentials get it only when their JSON
# lists it under "scopes" (asking for a scope the user never granted would make every token refresh fail).
DRIVE_METADATA_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"
DRIVE_READ_SCOPES = frozenset(
    f"https://www.googleapis.com/auth/{s}"
    for s in ("drive", "drive.readonly", "drive.metadata", "drive.metadata.readonly")
)
FILE_VAR = "GOOGLE_APPLICATION_CREDENTIALS"
INLINE_VAR = "PULSE_GOOGLE_CREDENTIALS_JSON"
DOCS = "docs/google-sheets.md#1-create-a-service-account"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


class CredentialsError(WorkbookError):
    """Google credentials are missing or unusable; the message says which variable to set and how."""


@dataclass(frozen=True)
class GoogleCredentials:
    """Credentials plus who they act as (the e-mail to share the sheet with) and where they came from."""

    credentials: Credentials
    account: str | None
    kind: str  # "service_account" | "authorized_user"
    source: str  # the environment variable that provided them


def load_credentials(env: Mapping[str, str] | None = None) -> GoogleCredentials:
    """Read credentials from PULSE_GOOGLE_CREDENTIALS_JSON (inline) or GOOGLE_APPLICATION_CREDENTIALS (a file)."""
    env = os.environ if env is None else env
    inline = (env.get(INLINE_VAR) or "").strip()
    if inline:
        return credentials_from_info(_parse(inline, INLINE_VAR), INLINE_VAR)
    path = (env.get(FILE_VAR) or "").strip()
    if path:
        file = Path(path).expanduser()
        if not file.is_file():
            raise CredentialsError(
                f"{FILE_VAR} points to {file}, which does not exist or is not a file — "
                f"set it to the path of the service-account key JSON (see {DOCS})"
            )
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as err:
            raise CredentialsError(f"cannot read the key file named by {FILE_VAR} ({file}): {err.strerror}") from None
        return credentials_from_info(_parse(text, f"{FILE_VAR} ({file})"), FILE_VAR)
    raise CredentialsError(
        f"no Google credentials: set {FILE_VAR} to the path of a service-account key JSON, or put the JSON itself "
        f"in {INLINE_VAR} — then share the sheet with the service account's e-mail (see {DOCS})"
    )


def credentials_from_info(info: Mapping[str, Any], source: str = "credentials") -> GoogleCredentials:
    """Build google-auth credentials from a parsed key: type service_account or authorized_user."""
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2 import service_account

        missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
        if missing:
            raise CredentialsError(
                f"the service-account key in {source} lacks {', '.join(missing)} — "
                f"download a fresh JSON key for the service account (see {DOCS})"
            )
        try:
            creds = service_account.Credentials.from_service_account_info(
                dict(info), scopes=[*SCOPES, DRIVE_METADATA_SCOPE]
            )
        except ValueError:
            raise CredentialsError(
                f"the private key in {source} could not be loaded — the JSON looks damaged; "
                f"download a fresh key (see {DOCS})"
            ) from None
        return GoogleCredentials(creds, str(info["client_email"]), "service_account", source)
    if kind == "authorized_user":
        from google.oauth2.credentials import Credentials as UserCredentials

        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not info.get(k)]
        if missing:
            raise CredentialsError(f"the OAuth user credentials in {source} lack {', '.join(missing)} (see {DOCS})")
        creds = UserCredentials(
            token=None,
            refresh_token=info["refresh_token"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            token_uri=info.get("token_uri") or GOOGLE_TOKEN_URI,
            scopes=[*SCOPES, *_granted_drive_scopes(info)],
            quota_project_id=info.get("quota_project_id"),
        )
        return GoogleCredentials(creds, info.get("account") or None, "authorized_user", source)
    raise CredentialsError(
        f"{source} holds credentials of type {kind!r}; crm-pulse accepts a service-account key "
        f'("type": "service_account") or OAuth user credentials ("type": "authorized_user") '
        f"(see {DOCS})"
    )


def _granted_drive_scopes(info: Mapping[str, Any]) -> list[str]:
    """The Drive read scopes an authorized-user JSON says were granted (its "scopes" list), in its order."""
    listed = info.get("scopes")
    if isinstance(listed, str):
        listed = listed.split()
    return [s for s in listed or [] if s in DRIVE_READ_SCOPES]


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except json.JSONDecodeError as err:
        raise CredentialsError(
            f"{source} is not valid JSON (line {err.lineno}, column {err.colno}) — it must hold "
            f"the service-account key exactly as downloaded (see {DOCS})"
        ) from None
    if not isinstance(info, dict):
        raise CredentialsError(f"{source} must hold a JSON object (the service-account key) (see {DOCS})")
    return info
