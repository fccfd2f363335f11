"""Access tokens: JWTs with Entra's claims, signed HS256 with the sandbox's own key.

Real Entra signs RS256 with keys clients never need (resource servers validate, clients only
read the claims). Clients may decode the payload to read ``roles``, ``tid`` and ``aud`` exactly
as they would a real token. Expiry is checked against the virtual clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from controller.sandbox._ids import request_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: str, claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "sandbox"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def peek(token: str) -> dict[str, Any] | None:
    """The claims without verification (to route faults by tenant), or None if malformed."""
    claims = _claims(token)
    return None if claims is None else dict(claims)


def header(token: str) -> dict[str, Any] | None:
    """A compact JWT's header, or None unless it has three parts and a JSON object first."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        value = json.loads(_unb64(parts[0]))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def verify(key: str, token: str) -> dict[str, Any] | None:
    """The claims if the signature is the sandbox's, else None. Expiry is the caller's check."""
    claims = _claims(token) if _signed(key, token) else None
    return None if claims is None else dict(claims)


# Every request carries its bearer token, and a client sends the same token for an hour:
# decoding it (base64, JSON) and checking its HMAC cost ~11 us a request. Both are functions
# of the token (and key) alone, so each is worked out once; callers get their own copy of
# the claims.
@lru_cache(maxsize=4096)
def _claims(token: str) -> dict[str, Any] | None:
    try:
        claims = json.loads(_unb64(token.split(".")[1]))
    except (IndexError, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


@lru_cache(maxsize=4096)
def _signed(key: str, token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3:
        return False
    expected = hmac.new(key.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        return hmac.compare_digest(expected, _unb64(parts[2]))
    except ValueError:
        return False


def bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def new_id() -> str:
    return request_id()
