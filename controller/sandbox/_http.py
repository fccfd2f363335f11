"""HTTP plumbing: a threaded HTTPS server per service on 127.0.0.1, and the plain
request/response values the service modules work with.

The only sockets the sandbox opens are listening sockets bound to 127.0.0.1; no code path
connects anywhere. A handler thread measures its own CPU time (``time.thread_time``) per
request, so benchmarks can tell the emulator's cost from the client's.

The request line is read as ``http.server`` reads it (the same answers: 400, 414, 505); the
header section by a parser of its own, stricter than ``http.server``'s email parser and at a
third of its cost (see ``read_fields``). Bodies are written with orjson (``Response.encode``).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate
from functools import lru_cache
from http import HTTPStatus
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from controller.sandbox._clock import whole_second

LOOPBACK = "127.0.0.1"


@dataclass
class Request:
    service: str
    method: str
    path: str  # percent-decoded, no query
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    base_url: str = ""
    _json: Any = None

    def json(self) -> Any:
        if self._json is None and self.body:
            self._json = json.loads(self.body)
        return self._json

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.raw_query}" if self.raw_query else self.path

    @classmethod
    def build(  # noqa: PLR0917 - mirrors the request line, header block and body
        cls,
        service: str,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        base_url: str,
    ) -> Request:
        parts = urlsplit(target)
        return cls(
            service=service,
            method=method.upper(),
            path=unquote(parts.path),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            raw_query=parts.query,
            headers=headers,
            body=body,
            base_url=base_url,
        )


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, bytes, or None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    # Accounting, filled by the services.
    tenant_id: str | None = None
    resource_units: float = 0.0
    batch_size: int | None = None
    throttled: bool = False
    fault: bool = False

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return encode_json(self.body)


# Types orjson would write that json.dumps refuses: handed back to json.dumps, which raises
# the TypeError the sandbox always raised for them.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def encode_json(value: Any) -> bytes:
    """``value`` as compact JSON in UTF-8, the same JSON values as ``json.dumps``.

    orjson writes in about a tenth of json.dumps' time. It writes characters outside ASCII as
    UTF-8, where json.dumps escaped them (``\\u00e9``): both are the same JSON string (RFC 8259
    section 7), and JSON between systems is UTF-8 (section 8.1; every answer says
    ``charset=utf-8``). What orjson refuses (integers beyond 64 bits, keys that are not
    strings, strings with lone surrogates) is written by json.dumps as before, and what
    json.dumps refuses (sets, dataclasses, datetimes) still raises. Left different, and in no
    body the sandbox builds: a float that is not finite (a client's own ``NaN`` echoed back)
    is written as ``null`` where json.dumps wrote ``NaN``, which is not JSON (RFC 8259 section
    6); a ``uuid.UUID`` or an ``Enum`` is written as its value where json.dumps raised.
    """
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":")).encode("utf-8")


class DropConnection(Exception):
    """Close the connection without an answer (a fault rule with ``drop=True``)."""


Dispatch = Callable[[Request], Response]


# What http.client enforces on a header section, and so http.server (the sandbox's limits
# since it was written): a line of at most 65,536 bytes, at most 100 lines counting the empty
# one that ends the section; beyond either, 431 (RFC 6585 section 5).
MAX_FIELD_LINE = 65536
MAX_FIELD_LINES = 100

# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# RFC 9110 section 5.5: a field value is visible characters, obs-text, SP and HTAB; CR, LF
# and NUL "MUST" be refused (or replaced), and so are the other controls here. Looked for in
# the line's bytes with ``bytes.translate`` (1 us for a bearer token, where a set of
# characters took 12 us).
_CONTROLS = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])


class BadFields(Exception):
    """A header section the sandbox refuses: ``status`` (400 or 431), a reason phrase, and
    the explanation http.server puts in its error page."""

    def __init__(self, status: HTTPStatus, reason: str, explain: str) -> None:
        super().__init__(explain)
        self.status = status
        self.reason = reason
        self.explain = explain


def read_fields(readline: Callable[[int], bytes]) -> list[tuple[str, str]]:
    """The request's header fields (read with ``readline(limit)``), in order, names as sent
    and values without the white space around them (RFC 9112 section 5.1); raises
    ``BadFields``.

    The limits are http.server's (431 "Line too long" past 65,536 bytes, 431 "Too many
    headers" past 100 lines, the empty line included). What it let through and the sandbox
    refuses with 400, as RFC 9112 says a server should (section 2.2: a message that does not
    match the grammar): a line without a colon, or a name that is not a token, which includes
    white space before the colon (section 5.1: "MUST" be rejected with 400); a line folded
    onto the one before (obs-fold, section 5.2: rejected or replaced with a space); a control
    character (a bare CR among them) in a value. http.server's email parser ended the header
    section at a line without a colon and quietly dropped every field after it (and so a
    ``Content-Length`` after it, leaving the body to be read as the next request), and kept
    folded lines with their line break. A bare LF ending a line is accepted (section 2.2), as
    it was.
    """
    fields: list[tuple[str, str]] = []
    lines = 0
    while True:
        raw = readline(MAX_FIELD_LINE + 1)
        if len(raw) > MAX_FIELD_LINE:
            raise BadFields(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Line too long",
                f"got more than {MAX_FIELD_LINE} bytes when reading header line",
            )
        lines += 1
        if lines > MAX_FIELD_LINES:
            raise BadFields(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Too many headers",
                f"got more than {MAX_FIELD_LINES} headers",
            )
        if raw in (b"\r\n", b"\n", b""):  # the end of the section (or of the stream)
            return fields
        raw = raw[:-2] if raw.endswith(b"\r\n") else raw.removesuffix(b"\n")
        if raw[0] in b" \t":
            raise _bad_field("obs-fold: a field line folded onto the one before")
        if len(raw.translate(None, _CONTROLS)) != len(raw):
            raise _bad_field("a control character in a field line")
        name, colon, value = raw.decode("iso-8859-1").partition(":")
        if not colon or not name or not _TOKEN.issuperset(name):
            raise _bad_field("a field line is not a token name followed by a colon")
        fields.append((name, value.strip(" \t")))


def check_content_length(fields: list[tuple[str, str]]) -> None:
    """Raises ``BadFields`` (400) for a ``Content-Length`` that is not a number of bytes, or
    two that differ: the body's length is unknown, and RFC 9112 section 6.3 says a server
    "MUST" answer 400 and close the connection. http.server's handler in the sandbox dropped
    the connection for a value that is not a number and waited for the client to close it
    for a negative one."""
    lengths = {value for name, value in fields if name.lower() == "content-length"}
    if len(lengths) > 1 or not all(value.isascii() and value.isdigit() for value in lengths):
        raise _bad_field("Content-Length is not one number of bytes")


def _bad_field(explain: str) -> BadFields:
    return BadFields(HTTPStatus.BAD_REQUEST, "Bad header field", explain)


@lru_cache(maxsize=4)
def _http_date(second: int) -> str:
    return formatdate(second, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ServiceServer
    raw_requestline: bytes  # set by BaseHTTPRequestHandler.handle_one_request
    # The fields by lower-cased name, the last of a repeated name (as the request sees them);
    # ``_first``: the first, as ``email.message.Message.get`` finds (as http.server read
    # Connection, Expect and Content-Length).
    fields: dict[str, str]
    _first: dict[str, str]
    _field_lines: Sequence[tuple[str, str]] = ()
    _message: Message | None = None

    @property
    def headers(self) -> Message:
        """The header fields as http.server gives them (an ``email.message.Message``), built
        when first asked for: the sandbox reads ``fields`` and nothing else asks."""
        if self._message is None:
            self._message = message = HTTPMessage()
            for name, value in self._field_lines:
                message[name] = value
        return self._message

    @headers.setter
    def headers(self, message: Message) -> None:
        self._message = message

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header, formatted once a second instead of once an answer (the same text:
        # formatdate of the second that datetime would round the time to).
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return _http_date(whole_second(time.time()))

    def parse_request(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` (CPython 3.11) with ``read_fields`` in
        place of ``http.client.parse_headers``: the request line gets the same answers."""
        self.command = None  # type: ignore[assignment]  # as http.server: no command yet
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if not words:
            return False
        if len(words) >= 3:  # enough to determine the protocol version
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                numbers = version.split("/", 1)[1].split(".")
                if len(numbers) != 2:
                    raise ValueError
                version_number = int(numbers[0]), int(numbers[1])
            except (ValueError, IndexError):
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if version_number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if version_number >= (2, 0):
                self.send_error(
                    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED,
                    f"Invalid HTTP version ({version.split('/', 1)[1]})",
                )
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command, self.path = command, path
        if self.path.startswith("//"):  # gh-87389, as http.server: no open redirect
            self.path = "/" + self.path.lstrip("/")
        try:
            fields = read_fields(self.rfile.readline)
            check_content_length(fields)
        except BadFields as refused:
            self.send_error(refused.status, refused.reason, refused.explain)
            return False
        self._field_lines = fields
        self._message = None
        first: dict[str, str] = {}
        self.fields = {}
        for name, value in fields:
            lower = name.lower()
            self.fields[lower] = value
            first.setdefault(lower, value)
        self._first = first
        connection = first.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        if (
            first.get("expect", "").lower() == "100-continue"
            and self.protocol_version >= "HTTP/1.1"
            and self.request_version >= "HTTP/1.1"
        ):
            return self.handle_expect_100()
        return True

    def handle_one_request(self) -> None:
        started = time.thread_time()
        try:
            super().handle_one_request()
        finally:
            self.server.cpu_sink(time.thread_time() - started, False)

    def _serve(self) -> None:
        length = int(self._first.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.build(
            self.server.service, self.command, self.path, self.fields, body, self.server.base_url
        )
        try:
            response = self.server.dispatch(request)
        except DropConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = response.encode()
        self.send_response(response.status)
        if payload or response.status not in (204, 304):
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if payload and self.command != "HEAD":
            # Headers and body in one write: two small TLS records meet the client's delayed
            # ACK and cost ~40 ms per request.
            self.end_headers_with(payload)
        else:
            self.end_headers()

    def end_headers_with(self, payload: bytes) -> None:
        # BaseHTTPRequestHandler buffers header lines in ``_headers_buffer`` until flushed.
        buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]
        buffer.append(b"\r\n" + payload)
        self.flush_headers()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve  # noqa: N815


class ServiceServer(ThreadingHTTPServer):
    """One service ("host") of the sandbox: its own port, TLS, and a dispatch function."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        service: str,
        port: int,
        context: ssl.SSLContext,
        dispatch: Dispatch,
        cpu_sink: Callable[[float, bool], None],
    ) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.service = service
        self.context = context
        self.dispatch = dispatch
        self.cpu_sink = cpu_sink
        self.base_url = f"https://{LOOPBACK}:{self.server_address[1]}"
        self.thread: threading.Thread | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the connection's own thread, not in the accept loop.
        started = time.thread_time()
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        finally:
            self.cpu_sink(time.thread_time() - started, True)
        try:
            with contextlib.suppress(ssl.SSLError, ConnectionError, TimeoutError):
                _Handler(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up is not the sandbox's problem

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.service}",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
