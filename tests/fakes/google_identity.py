"""A stand-in for Google's OAuth2 certificate endpoint on 127.0.0.1 and a minter of identity tokens signed with a
locally generated RSA key, shaped like `ScriptApp.getIdentityToken()` tokens (RS256, kid, iss, aud, email claims)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

CLIENT_ID = "1234567890-pulse.apps.googleusercontent.com"


def _key_and_cert(kid: str) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kid)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, cert.public_bytes(serialization.Encoding.PEM).decode()


class FakeGoogleCerts:
    """Serves `{kid: certificate PEM}` like https://www.googleapis.com/oauth2/v1/certs; `token()` signs claims."""

    def __init__(self) -> None:
        self.key, cert = _key_and_cert("kid-1")
        self.certs = {"kid-1": cert}
        self.fetches = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake.fetches += 1
                body = json.dumps(fake.certs).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/v1/certs"

    def __enter__(self) -> "FakeGoogleCerts":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, email: str = "ana@example.com", *, key: bytes | None = None, **claims: Any) -> str:
        """An identity token for `email`; override any claim (aud, iss, exp, email_verified …)."""
        now = int(time.time())
        payload = {"iss": "https://accounts.google.com", "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": "1" + str(abs(hash(email)))[:12],
                   "email": email, "email_verified": True, "iat": now, "exp": now + 3600, **claims}
        signer = crypt.RSASigner.from_string(key or self.key, key_id="kid-1")
        return jwt.encode(signer, payload).decode()

    def other_key(self) -> bytes:
        """A private key Google never published (its tokens must be refused)."""
        return _key_and_cert("kid-1")[0]
