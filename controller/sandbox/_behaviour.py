"""Run-time behaviours: fault rules, per-tenant throttling budgets, request accounting.

Each is a small object the Sandbox exposes (``sb.faults``, ``sb.throttle``, ``sb.requests``)
so tests can change them while the servers run. All times are virtual-clock seconds.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from controller.sandbox._clock import VirtualClock

# --- fault rules ----------------------------------------------------------------------------


@dataclass
class FaultRule:
    """For requests matching method + path pattern (+ tenant, + service): answer ``status``
    (or drop the connection) for the next ``count`` matches (``None``: every match)."""

    method: str | None
    path: re.Pattern[str]
    status: int = 503
    count: int | None = 1
    drop: bool = False
    tenant_id: str | None = None
    service: str | None = None
    retry_after: int | None = None
    #: with ``drop``: run the request first, then drop the connection (the answer is lost
    #: but the change was made, as when a connection breaks after the service acted)
    after: bool = False
    #: the error message of the answer (default "Injected fault.")
    message: str | None = None
    #: put the request line and its headers (the bearer token too) into the message, as a
    #: misbehaving proxy or service does: what a client must never show
    echo_request: bool = False
    #: only requests that change the world (:func:`changes_world`)
    writes: bool = False
    #: let this many matching requests through first (the rule acts on the next one)
    skip: int = 0
    #: instead of a fault: serve the request, then call this before answering (a test ends
    #: or signals the client here: "the Nth write was made, and the process died")
    then: Callable[[], None] | None = None
    hits: int = 0

    def matches(
        self, service: str, method: str, path: str, tenant_id: str | None, write: bool = False
    ) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.writes and not write:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.service is not None and self.service != service:
            return False
        if self.tenant_id is not None and (tenant_id or "").lower() != self.tenant_id.lower():
            return False
        return self.path.search(path) is not None


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []

    def add(
        self,
        method: str | None = None,
        path: str = ".*",
        status: int = 503,
        count: int | None = 1,
        *,
        drop: bool = False,
        tenant: str | None = None,
        service: str | None = None,
        retry_after: int | None = None,
        after: bool = False,
        message: str | None = None,
        echo_request: bool = False,
        writes: bool = False,
        skip: int = 0,
        then: Callable[[], None] | None = None,
    ) -> FaultRule:
        rule = FaultRule(
            method=method,
            path=re.compile(path),
            status=status,
            count=count,
            drop=drop,
            tenant_id=tenant,
            service=service,
            retry_after=retry_after,
            after=after,
            message=message,
            echo_request=echo_request,
            writes=writes,
            skip=skip,
            then=then,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def take(
        self,
        service: str,
        method: str,
        path: str,
        tenant_id: str | None,
        *,
        write: bool = False,
    ) -> FaultRule | None:
        """The first rule matching this request, consuming one of its counts (or of the
        requests it lets through first)."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule.matches(service, method, path, tenant_id, write):
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    if rule.count is not None:
                        rule.count -= 1
                    rule.hits += 1
                    return rule
        return None


def changes_world(service: str, method: str, path: str, body: bytes) -> bool:
    """Whether a request asks a service to change something: a Graph write (not a ``$batch``
    of reads), an Exchange cmdlet other than ``Get-*``, a CIPP POST (its lists are GETs).
    Token requests and Partner Center reads never do; a Key Vault PUT or PATCH does."""
    if method == "GET":
        return False
    if service == "graph":
        return not path.split("?", maxsplit=1)[0].endswith("/$batch")
    if service == "exchange":
        try:
            name = json.loads(body or b"{}")["CmdletInput"]["CmdletName"]
        except (ValueError, KeyError, TypeError):
            return False
        return not str(name).lower().startswith("get-")
    if service == "keyVault":
        return method in ("PUT", "PATCH", "DELETE")
    return service == "cipp" and method == "POST"


# --- throttling -----------------------------------------------------------------------------


@dataclass
class Bucket:
    capacity: float
    window: float
    tokens: float
    updated: float

    def take(self, cost: float, now: float) -> float:
        """Consume ``cost``; 0 if granted, else the seconds until it would be.

        A request that costs more than the whole budget runs once the bucket is full and
        leaves it in debt (later requests wait longer): a Retry-After is always one that
        can be met."""
        rate = self.capacity / self.window
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now
        needed = min(cost, self.capacity)
        if needed <= self.tokens:
            self.tokens -= cost
            return 0.0
        return max(1.0, math.ceil((needed - self.tokens) / rate))


@dataclass
class Budget:
    units: float | None = None  # None: by tenant size, as Graph does
    window: float = 10.0
    write_units: float = 3000.0
    write_window: float = 150.0


def identity_budget(user_count: int) -> float:
    """Graph identity limits per app and tenant, resource units per 10 s (API-NOTES)."""
    if user_count < 50:
        return 3500.0
    if user_count <= 500:
        return 5000.0
    return 8000.0


class Throttle:
    """Per-tenant token buckets in Graph resource units (reads and writes), on the virtual
    clock. ``configure`` changes budgets at run time; ``enabled = False`` turns it off."""

    def __init__(self, clock: VirtualClock, enabled: bool = True) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.enabled = enabled
        self.default = Budget()
        self.per_tenant: dict[str, Budget] = {}
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def configure(
        self,
        tenant: str | None = None,
        *,
        units: float | None = None,
        window_seconds: float = 10.0,
        write_units: float = 3000.0,
        write_window_seconds: float = 150.0,
    ) -> None:
        budget = Budget(units, window_seconds, write_units, write_window_seconds)
        with self._lock:
            if tenant is None:
                self.default = budget
                self._buckets.clear()
            else:
                self.per_tenant[tenant.lower()] = budget
                for kind in ("read", "write", "risky"):
                    self._buckets.pop((tenant.lower(), kind), None)

    def disable(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def take(
        self, tenant_id: str, cost: float, *, write: bool, user_count: int, kind: str = ""
    ) -> float:
        """0 if the request may proceed, else Retry-After seconds."""
        if not self.enabled:
            return 0.0
        now = self._clock.now()
        tid = tenant_id.lower()
        budget = self.per_tenant.get(tid, self.default)
        with self._lock:
            if kind == "risky":
                # riskyUsers: 1 request per second per tenant.
                bucket = self._bucket(tid, "risky", 1.0, 1.0, now)
                return bucket.take(1.0, now)
            units = budget.units if budget.units is not None else identity_budget(user_count)
            read = self._bucket(tid, "read", units, budget.window, now)
            wait = read.take(cost, now)
            if wait or not write:
                return wait
            writes = self._bucket(tid, "write", budget.write_units, budget.write_window, now)
            return writes.take(1.0, now)

    def _bucket(self, tid: str, kind: str, capacity: float, window: float, now: float) -> Bucket:
        key = (tid, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(capacity, window, capacity, now)
            self._buckets[key] = bucket
        return bucket


# --- accounting -----------------------------------------------------------------------------


@dataclass
class RequestRecord:
    service: str
    method: str
    path: str
    tenant_id: str | None
    status: int
    batch_size: int | None = None
    resource_units: float = 0.0
    at: float = 0.0
    in_batch: bool = False
    fault: bool = False
    throttled: bool = False
    client_request_id: str | None = None


@dataclass
class Accounting:
    records: list[RequestRecord] = field(default_factory=list)
    cpu_seconds: float = 0.0
    handled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: RequestRecord) -> None:
        with self.lock:
            self.records.append(record)

    def add_cpu(self, seconds: float) -> None:
        with self.lock:
            self.cpu_seconds += seconds
            self.handled += 1

    def clear(self) -> None:
        with self.lock:
            self.records.clear()
            self.cpu_seconds = 0.0
            self.handled = 0
