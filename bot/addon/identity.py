"""Google-signed identity tokens for the add-on (`ScriptApp.getIdentityToken()`), so no shared secret has to sit in
Script Properties where every editor can read it. Verified with google-auth against Google's certificates (cached):
signature, expiry, audience (the script's OAuth client id), issuer Google, a verified e-mail on the allow-list."""

from __future__ import annotations

import threading
import time
from typing import Any

from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import id_token

from bot.addon.auth import AuthError
from config import secret

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("accounts.google.com", "https://accounts.google.com")
CERTS_TTL_SECONDS = 3600


class CachingRequest:
    """A google-auth transport that keeps successful GET answers (the certificates) for `ttl` seconds."""

    def __init__(self, ttl: float = CERTS_TTL_SECONDS):
        self.inner = GoogleRequest()
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def __call__(
        self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **kwargs: Any
    ) -> Any:
        if method != "GET":
            return self.inner(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        with self._lock:
            hit = self._cache.get(url)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        response = self.inner(url, method=method, body=body, headers=headers, timeout=timeout or 10, **kwargs)
        if response.status == 200:
            with self._lock:
                self._cache[url] = (time.monotonic() + self.ttl, response)
        return response


class IdentityVerifier:
    """Checks an identity token and returns the caller's e-mail (lower case), or raises AuthError saying why not."""

    def __init__(
        self, client_id: str, allowed_emails: list[str], allowed_domains: list[str], certs_url: str | None = None
    ):
        self.client_id = client_id
        self.emails = {e.strip().lower() for e in allowed_emails}
        self.domains = {d.strip().lower().lstrip("@") for d in allowed_domains}
        self.certs_url = certs_url or secret("PULSE_GOOGLE_CERTS_URL") or GOOGLE_CERTS_URL
        self.request = CachingRequest()

    def verify(self, token: str) -> str:
        try:
            claims = id_token.verify_token(
                token, self.request, audience=self.client_id, certs_url=self.certs_url, clock_skew_in_seconds=30
            )
        except (ValueError, google_exceptions.GoogleAuthError) as err:
            raise AuthError(f"identity token refused: {_reason(err)}") from None
        if claims.get("iss") not in ISSUERS:
            raise AuthError("identity token refused: not issued by Google")
        email = str(claims.get("email") or "").lower()
        if not email or claims.get("email_verified") is not True:
            raise AuthError(
                "identity token refused: it carries no verified e-mail (the script needs the userinfo.email scope)"
            )
        if email not in self.emails and email.rpartition("@")[2] not in self.domains:
            raise AuthError(
                f"{email} may not use this add-on: add it to addon.allowed_emails "
                "or its domain to addon.allowed_domains"
            )
        return email


def _reason(err: Exception) -> str:
    """A short reason from google-auth's message (expired, wrong audience, bad signature …), one line, bounded."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:160]


def identity_verifier(settings) -> IdentityVerifier | None:
    """The verifier when `addon.oauth_client_id` and an allow-list are configured, else None."""
    s = settings.addon
    if not s.oauth_client_id or not (s.allowed_emails or s.allowed_domains):
        return None
    return IdentityVerifier(s.oauth_client_id, s.allowed_emails, s.allowed_domains)


def identity_missing(settings) -> str | None:
    """Why identity tokens are off (None when on)."""
    s = settings.addon
    if not s.oauth_client_id:
        return "addon.oauth_client_id is not set"
    if not (s.allowed_emails or s.allowed_domains):
        return "addon.oauth_client_id is set but neither addon.allowed_emails nor addon.allowed_domains"
    return None
