"""HTTP plumbing: a threaded HTTPS server per service on 127.0.0.1, and the plain
request/response values the service modules work with.

The only sockets the sandbox opens are listening sockets bound to 127.0.0.1; no code path
connects anywhere. A handler thread measures its own CPU time (``time.thread_time``) per
request, so benchmarks can tell the emulator's cost from the client's.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

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
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


class DropConnection(Exception):
    """Close the connection without an answer (a fault rule with ``drop=True``)."""


Dispatch = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ServiceServer

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def handle_one_request(self) -> None:
        started = time.thread_time()
        try:
            super().handle_one_request()
        finally:
            self.server.cpu_sink(time.thread_time() - started, False)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request.build(
            self.server.service, self.command, self.path, headers, body, self.server.base_url
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
