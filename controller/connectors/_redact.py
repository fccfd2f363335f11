"""Redaction of payloads before they reach a log line or an error message. Pure."""

from __future__ import annotations

from typing import Any

REDACTED = "***"

# Keys whose values are secrets wherever they appear (compared case-insensitively).
SECRET_KEYS = frozenset(
    {
        "password",
        "passwordprofile",
        "newpassword",
        "client_secret",
        "clientsecret",
        "client_assertion",
        "authorization",
        "access_token",
        "refresh_token",
        "secret",
        "copyfield",
    }
)


def redact(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with every secret-bearing field replaced by ``***``."""
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SECRET_KEYS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
