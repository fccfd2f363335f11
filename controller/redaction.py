"""The one place that decides what a log line, an error or a notification may show.

Everything that leaves tenantctl as text for people passes through :func:`redact_text`: the
logging filter installed at start-up (:class:`RedactingFilter`, on every record of every
logger, httpx, httpcore, urllib3 and MSAL included), the one-line error report of the command
line, the error translation of every connector, and the webhook sender. It hides:

- URLs down to scheme and host (``https://hooks.slack.com/***``): a webhook's path and query
  are its secret, a SAS URL's ``sig=`` is one, and ``user:password@`` is one;
- credentials in authorisation headers (``Bearer ...``, ``Basic ...``) and in ``key=value`` or
  ``"key": "value"`` pairs whose key names a secret (``password``, ``client_secret``, ``sig``,
  ``access_token``, ...);
- JSON Web Tokens (``eyJ...``), wherever they stand;
- every value tenantctl knows to be secret: each resolved secret, each access token and the
  parts of the webhook URL are :func:`remember`-ed, and replaced wherever they appear.

:func:`redact` does the same for JSON-like payloads by key. Pure apart from the process-wide
set of remembered secrets, which only grows.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "REDACTED",
    "SECRET_KEYS",
    "RedactingFilter",
    "redact",
    "redact_headers",
    "redact_text",
    "redact_url",
    "remember",
    "remember_url",
]

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
        "proxy-authorization",
        "access_token",
        "refresh_token",
        "id_token",
        "secret",
        "copyfield",
        "cookie",
        "set-cookie",
        "sig",
        "signature",
        "x-api-key",
        "api-key",
        "apikey",
        "api_key",
        "token",
    }
)

# A value shorter than this is not remembered: replacing "abc" everywhere would garble text
# without protecting anything (such a secret is guessable anyway).
MIN_REMEMBERED = 6


class _KnownSecrets:
    """The values this process knows to be secret. It only grows; reading needs no lock
    (``ordered`` is replaced whole, never changed in place)."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        # Longest first, so a secret that contains another is replaced whole.
        self._longest_first: list[str] = []
        self.ordered: tuple[str, ...] = ()
        # An observing worker is forked (reconcile/_workers.py) and remembers every token it
        # is given: a lock another thread held at the fork would never be released there.
        os.register_at_fork(after_in_child=self._new_lock)

    def _new_lock(self) -> None:
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                # Put in its place, not sorted again: a run remembers a token per tenant
                # and scope (2,000 for 1,000 tenants), and sorting them all on each was
                # quadratic.
                bisect.insort(self._longest_first, value, key=lambda v: -len(v))
                self.ordered = tuple(self._longest_first)


_known = _KnownSecrets()

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s\"'<>`]+")
_AUTH_SCHEME = re.compile(
    r"\b(Bearer|Basic|Digest|Negotiate|NTLM|SharedAccessSignature|SSWS)(\s+)[A-Za-z0-9._~+/=:%-]+",
    re.IGNORECASE,
)
_SECRET_KEY_ALTERNATIVES = "|".join(
    re.escape(k) for k in sorted(SECRET_KEYS - {"passwordprofile"}, key=len, reverse=True)
)
# key=value (query strings, form bodies), key: value and "key": "value" (headers, JSON), and
# (b'key', b'value') (httpcore's header tuples)
_KEY_VALUE = re.compile(
    rf"(?P<key>(?<![A-Za-z0-9_-])(?:{_SECRET_KEY_ALTERNATIVES})(?![A-Za-z0-9_-]))"
    r"(?P<sep>[\"']?\s*[=:]\s*(?:b?[\"'])?|[\"'],\s*b?[\"'])"
    r"(?P<value>(?:Bearer |Basic )?[^\s\"'&,;}\])]+)",
    re.IGNORECASE,
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def remember(value: str | None) -> None:
    """From now on, ``value`` is replaced by ``***`` wherever :func:`redact_text` sees it.

    A JSON Web Token (every access token Entra issues) is redacted by its shape wherever it
    stands, so it is not kept: a long-running ``tenantctl controller`` gets a new token per
    tenant and scope every cycle, and remembering each would grow this set (and the work of
    every redaction) without bound."""
    if value and len(value) >= MIN_REMEMBERED and not _JWT.fullmatch(value):
        _known.add(value)


def remember_url(url: str) -> None:
    """Remember the secret parts of a URL: its user name and password, its path and each
    query value (a webhook URL is a bearer credential as a whole)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    for piece in (parts.username, parts.password):
        if piece:
            remember(piece)
            remember(unquote(piece))
    if parts.path not in ("", "/"):
        remember(parts.path)
        remember(parts.path.strip("/"))
    for pair in parts.query.split("&"):
        remember(pair.partition("=")[2])
    remember(parts.query)


def redact_url(url: str, *, unparsable: str = "<URL>") -> str:
    """Scheme and host (and port) only; ``/***`` marks that something was left out. A text
    that is no URL at all is shown as ``unparsable``."""
    for prefix in ("slack+", "teams+"):
        if url.startswith(prefix):
            url = url[len(prefix) :]
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return unparsable
    if not parts.scheme or not host:
        return unparsable
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    return f"{parts.scheme}://{host}{port}" + ("/***" if hidden else "")


def redact_text(text: str) -> str:
    """``text`` with every URL cut to scheme and host and every credential replaced."""
    if not text:
        return text
    for secret in _known.ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "://" in text:
        text = _URL.sub(lambda m: _url_in_text(m.group(0)), text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _KEY_VALUE.sub(_key_value, text)
    return _JWT.sub(REDACTED, text)


def _url_in_text(url: str) -> str:
    # A sentence's full stop or closing bracket is not part of the URL it follows.
    trailing = ""
    while url and url[-1] in ".,;:)]}":
        trailing = url[-1] + trailing
        url = url[:-1]
    return redact_url(url) + trailing


def _key_value(match: re.Match[str]) -> str:
    value = match.group("value")
    if value == REDACTED or value.endswith(REDACTED):
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{REDACTED}"


def redact(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with every secret-bearing field replaced by ``***``
    and every string passed through :func:`redact_text`."""
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SECRET_KEYS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in SECRET_KEYS else v for k, v in headers.items()}


# Attributes every LogRecord has; anything else was passed as ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Redacts every record that passes a handler: its message (arguments merged in), its
    exception text and every string given as ``extra``. Installed on the root handler at
    start-up, so it sees the records of third-party loggers too (a filter on a logger would
    not: records propagated from child loggers skip their ancestors' filters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: show the template only
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact_text(value))
        return True
