"""The Sandbox: six HTTPS servers on 127.0.0.1 (login, Graph, Exchange, CIPP, Partner
Center, Key Vault) over one shared world, with the run-time behaviours tests drive."""

from __future__ import annotations

import contextlib
import json
import ssl
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from controller.files import PRIVATE, write_atomically
from controller.sandbox._behaviour import (
    Accounting,
    Faults,
    RequestRecord,
    Throttle,
    changes_world,
)
from controller.sandbox._cipp import CippService, settle_consents
from controller.sandbox._clock import VirtualClock
from controller.sandbox._exchange import ExchangeService
from controller.sandbox._graph import GraphError, GraphService
from controller.sandbox._http import DropConnection, Request, Response, ServiceServer
from controller.sandbox._ids import request_id
from controller.sandbox._keyvault import KeyVaultService
from controller.sandbox._login import LoginService
from controller.sandbox._partner_center import PartnerCenterService
from controller.sandbox._runtime import Runtime, tenant_hint
from controller.sandbox._scenario import Scenario
from controller.sandbox._seed import build_world
from controller.sandbox._tls import ensure_certificates
from controller.sandbox._world import World

SERVICES = ("login", "graph", "exchange", "partnerCenter", "cipp", "keyVault")
STATE_FILE = "state.json"


class Sandbox:
    """A faithful, stateful emulator of the Microsoft endpoints and CIPP.

    ``Sandbox(scenario, state_dir=None)``: with a ``state_dir`` the world is loaded from (and
    saved to) ``state_dir/state.json`` so it lasts between processes, and the CA lives there.
    ``start()`` binds free ports (or ``port``, ``port+1``, ... when given).

    ``epoch``: where a new (or reset) world's clock starts, in seconds since 1970; the
    scenario's epoch by default. Where tenantctl runs with ``--sandbox`` it reads the time from
    this clock, so a fixed epoch gives the same world on any day. A sandbox that serves
    clients as real endpoints (``tenantctl sandbox serve``, tests that point msp.yaml at it)
    is started at the wall clock instead, because those clients read the wall clock, as they
    would against the real services.
    """

    def __init__(
        self,
        scenario: Scenario,
        state_dir: str | Path | None = None,
        *,
        port: int = 0,
        epoch: float | None = None,
    ) -> None:
        self.scenario = scenario
        self._epoch = epoch
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._port = port
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.clock = VirtualClock(self.epoch)
        world = self._load()
        self.throttle = Throttle(self.clock, enabled=world.settings.throttling)
        self.faults = Faults()
        self.accounting = Accounting()
        self.rt = Runtime(
            world=world,
            clock=self.clock,
            throttle=self.throttle,
            faults=self.faults,
            accounting=self.accounting,
        )
        self.login = LoginService(self.rt)
        self.graph = GraphService(self.rt)
        self.exchange = ExchangeService(self.rt)
        self.cipp = CippService(self.rt, self.exchange)
        self.partner_center = PartnerCenterService(self.rt)
        self.key_vault = KeyVaultService(self.rt)
        self._servers: dict[str, ServiceServer] = {}
        self._handshake_cpu = 0.0
        self.ca_path: Path = Path()

    # --- state ---------------------------------------------------------------------------

    def _state_file(self) -> Path | None:
        return self.state_dir / STATE_FILE if self.state_dir else None

    def _load(self) -> World:
        path = self._state_file()
        if path is not None and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            self.clock = VirtualClock.restore(data.get("clock", {}), default=self.epoch)
            return World.from_json(data["world"])
        return build_world(self.scenario, self.clock.now())

    @property
    def epoch(self) -> float:
        """Where a new or reset world begins, in seconds since 1970."""
        return self._epoch if self._epoch is not None else self.scenario.epoch.timestamp()

    @property
    def world(self) -> World:
        return self.rt.world

    def save(self) -> None:
        """Write the state to ``state_dir`` (no-op without one)."""
        path = self._state_file()
        if path is None:
            return
        with self.rt.lock:
            data = {"clock": self.clock.snapshot(), "world": self.rt.world.to_json()}
        # The world holds the sandbox's client secrets and its tenants' data.
        write_atomically(path, json.dumps(data), mode=PRIVATE)

    def reset(self) -> None:
        """Return to the scenario (and forget faults, budgets and the request log)."""
        with self.rt.lock:
            self.clock.unfreeze()
            self.clock.set(self.epoch)
            self.rt.world = build_world(self.scenario, self.clock.now())
            self.throttle.enabled = self.rt.world.settings.throttling
            self.throttle.reset()
            self.faults.clear()
            self.accounting.clear()
        self.save()

    # --- run-time knobs ------------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self.rt.world.settings.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.rt.world.settings.latency = float(seconds)

    @property
    def replication_delay(self) -> float:
        return self.rt.world.settings.replication_delay

    @replication_delay.setter
    def replication_delay(self, seconds: float) -> None:
        self.rt.world.settings.replication_delay = float(seconds)

    @property
    def exchange_role_propagation(self) -> float:
        return self.rt.world.settings.exchange_role_propagation

    @exchange_role_propagation.setter
    def exchange_role_propagation(self, seconds: float) -> None:
        self.rt.world.settings.exchange_role_propagation = float(seconds)

    @property
    def cipp_consent_delay(self) -> float:
        return self.rt.world.settings.cipp_consent_delay

    @cipp_consent_delay.setter
    def cipp_consent_delay(self, seconds: float) -> None:
        self.rt.world.settings.cipp_consent_delay = float(seconds)

    @property
    def secrets(self) -> dict[str, str]:
        partner = self.rt.world.partner
        found = {"partner": partner.app.secret}
        if partner.cipp is not None:
            found["cipp"] = partner.cipp.secret
        return found

    @property
    def requests(self) -> list[RequestRecord]:
        return self.accounting.records

    @property
    def endpoints(self) -> dict[str, str]:
        return dict(self.rt.endpoints)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the sandbox's CA (for httpx's ``verify=``)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def stats(self) -> dict[str, Any]:
        records = list(self.accounting.records)
        by_service: dict[str, int] = {}
        by_status: dict[str, int] = {}
        for r in records:
            if r.in_batch:
                continue
            by_service[r.service] = by_service.get(r.service, 0) + 1
            by_status[str(r.status)] = by_status.get(str(r.status), 0) + 1
        handled = self.accounting.handled
        cpu = self.accounting.cpu_seconds
        return {
            "requests": sum(by_service.values()),
            "batchItems": sum(1 for r in records if r.in_batch),
            "byService": by_service,
            "byStatus": by_status,
            "throttled": sum(1 for r in records if r.throttled),
            "faults": sum(1 for r in records if r.fault),
            "resourceUnits": sum(r.resource_units for r in records if not r.in_batch),
            "cpuSeconds": cpu,
            "cpuSecondsPerRequest": cpu / handled if handled else 0.0,
            "tlsHandshakeCpuSeconds": self._handshake_cpu,
        }

    # --- serving -------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._servers:
            return self
        if self.state_dir is not None:
            cert_dir = self.state_dir / "tls"
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="tenantctl-sandbox-")
            cert_dir = Path(self._tmp.name)
        self.ca_path, cert, key = ensure_certificates(cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        handlers = {
            "login": self.login.handle,
            "graph": self.graph.handle,
            "exchange": self.exchange.handle,
            "partnerCenter": self.partner_center.handle,
            "cipp": self.cipp.handle,
            "keyVault": self.key_vault.handle,
        }
        try:
            for index, service in enumerate(SERVICES):
                port = self._port + index if self._port else 0
                handler = handlers[service]
                server = ServiceServer(
                    service,
                    port,
                    context,
                    lambda request, s=service, h=handler: self._dispatch(s, h, request),  # type: ignore[misc]
                    self._cpu,
                )
                self._servers[service] = server
                self.rt.endpoints[service] = server.base_url
            for server in self._servers.values():
                server.start()
        except OSError:
            self.stop()
            raise
        return self

    def _cpu(self, seconds: float, handshake: bool) -> None:
        if handshake:
            self._handshake_cpu += seconds
        else:
            self.accounting.add_cpu(seconds)

    def _dispatch(self, service: str, handler: Any, request: Request) -> Response:
        latency = self.rt.world.settings.latency
        if latency > 0:
            time.sleep(latency)
        hints = {
            "login": self.login.tenant_hint,
            "exchange": self.exchange.tenant_hint,
            "cipp": self.cipp.tenant_hint,
            "partnerCenter": self.partner_center.tenant_hint,
            "keyVault": self.key_vault.tenant_hint,
        }
        hint = hints.get(service)
        tenant = hint(request) if hint else None
        tenant = tenant or tenant_hint(self.rt, request)
        write = changes_world(service, request.method, request.full_path, request.body)
        fault = self.faults.take(service, request.method, request.full_path, tenant, write=write)
        now = self.clock.now()
        hook = fault.then if fault is not None else None
        lose_answer = fault is not None and fault.drop and (fault.after or hook is not None)
        if lose_answer or hook is not None:
            fault = None
        if fault is not None:
            self.accounting.add(
                RequestRecord(
                    service,
                    request.method,
                    request.full_path,
                    tenant,
                    0 if fault.drop else fault.status,
                    at=now,
                    fault=True,
                    client_request_id=request.headers.get("client-request-id"),
                )
            )
            if fault.drop:
                raise DropConnection()
            message = fault.message or "Injected fault."
            if fault.echo_request:
                echoed = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
                message += f" Request: {request.method} {request.full_path}; {echoed}"
            return self._fault_response(
                service,
                fault.status,
                fault.retry_after,
                request.headers.get("client-request-id"),
                message,
            )
        with self.rt.lock:
            if self.rt.consents_pending and service in ("login", "graph"):
                settle_consents(self.rt, now)
            response: Response = handler(request)
        self.accounting.add(
            RequestRecord(
                service=service,
                method=request.method,
                path=request.full_path,
                tenant_id=response.tenant_id or tenant,
                status=response.status,
                batch_size=response.batch_size,
                resource_units=response.resource_units,
                at=now,
                throttled=response.throttled,
                fault=lose_answer,
                client_request_id=request.headers.get("client-request-id"),
            )
        )
        if hook is not None:
            hook()
        if lose_answer:
            raise DropConnection()
        return response

    def _fault_response(
        self,
        service: str,
        status: int,
        retry_after: int | None,
        client_request_id: str | None,
        message: str = "Injected fault.",
    ) -> Response:
        headers = {"Retry-After": str(retry_after or 1)} if status in (429, 503) else {}
        if service == "graph":
            code = {429: "TooManyRequests", 503: "serviceNotAvailable", 504: "gatewayTimeout"}.get(
                status, "generalException"
            )
            # As every Graph answer: a GUID request-id, and the client's client-request-id
            # echoed (a new GUID when it sent none).
            rid = request_id()
            response = self.graph.error_response(
                GraphError(status, code, message, headers), rid, client_request_id or rid
            )
        elif service == "login":
            response = Response(
                status,
                {
                    "error": "temporarily_unavailable",
                    "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
                    "error_codes": [90033],
                },
                headers,
            )
        else:
            response = Response(
                status, {"error": {"code": str(status), "message": message}}, headers
            )
        response.fault = True
        return response

    def stop(self) -> None:
        for server in self._servers.values():
            with contextlib.suppress(OSError):
                server.stop()
        self._servers.clear()
        self.save()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
