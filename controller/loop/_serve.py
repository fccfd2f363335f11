"""``--listen HOST:PORT``: ``/healthz``, ``/readyz`` and ``/metrics`` over plain HTTP, served
from a thread beside the loop.

- ``/healthz`` answers 200 while the loop is alive: it made progress (a cycle began or ended,
  a tenant was observed, an operation finished) within the last few intervals; 503 with the
  reason otherwise. Kubernetes' liveness probe restarts a controller stuck in a call.
- ``/readyz`` answers 200 once the desired state is loaded and the last connection check
  (partner credential, GDAP, CIPP, as ``tenantctl connect check``) passed; 503 with the
  reason otherwise.
- ``/metrics``: :mod:`~controller.loop._metrics`, through ``prometheus_client``'s WSGI app
  (gzip when the scraper asks for it).

Meant for a cluster's network or loopback: it serves no tenant data beyond tenant names and
counts, and takes no input. Requests are not logged (a scrape every 15 s would drown the
controller's own lines).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from controller.errors import UsageError
from controller.loop._metrics import ControllerMetrics

__all__ = ["Probe", "ProbeServer", "parse_listen"]

log = logging.getLogger("tenantctl.controller")

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class Probe:
    ok: bool
    reason: str


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9090`` for IPv6, ``:9090`` for every interface; port 0: any
    free port) -> (host, port)."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
        raise UsageError(f"--listen expects HOST:PORT (e.g. 127.0.0.1:9090), got {text[:60]!r}")
    host = host.strip("[]") or "0.0.0.0"  # ":9090" asks for every interface
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise UsageError(
                f"--listen: {host[:60]!r} is not an IP address (or localhost)"
            ) from None
    return host, int(port_text)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never holds the process at exit


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class ProbeServer:
    """The three endpoints on ``host:port``, from :meth:`start` until :meth:`stop`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: ControllerMetrics,
        health: Callable[[], Probe],
        ready: Callable[[], Probe],
    ) -> None:
        metrics_app = make_wsgi_app(metrics.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == METRICS_PATH:
                return metrics_app(environ, start_response)  # type: ignore[no-any-return]
            probe = {HEALTH_PATH: health, READY_PATH: ready}.get(path)
            if probe is None:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"not found: /healthz, /readyz, /metrics\n"]
            result = probe()
            status = "200 OK" if result.ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [f"{result.reason}\n".encode()]

        server = _Server6 if ":" in host else _Server
        self._server = make_server(host, port, app, server, _QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> ProbeServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tenantctl-probes", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
