"""What ``/metrics`` serves: the controller's state in Prometheus's text format.

Names start with ``tenantctl_``; labels are ``tenant`` (a tenant's short name from git),
``service`` (login, graph, exchange, cipp, partnerCenter) and ``reason`` (a hold reason or a
notification result), so cardinality is bounded by the estate: never a UPN, an object id or an
error text.

Per tenant (gauges, the state after its last reconcile; a tenant that leaves the desired state
or the shard leaves the metrics):

- ``tenantctl_tenant_last_observed_timestamp_seconds``: when it was last observed (in full or
  in part; not when observing it failed);
- ``tenantctl_tenant_operations_pending``: operations its last plan found that were not done
  (held or failed): the drift that remains;
- ``tenantctl_tenant_operations_held{reason}``: of those, the held ones by hold reason;
- ``tenantctl_tenant_operations_failed``: of those, the failed ones;
- ``tenantctl_tenant_unknown_areas``, ``tenantctl_tenant_findings``;
- ``tenantctl_tenant_next_reconcile_timestamp_seconds``, ``tenantctl_tenant_consecutive_failures``.

Per service (counters since the controller started): ``tenantctl_requests_total``,
``tenantctl_round_trips_total``, ``tenantctl_throttled_requests_total``,
``tenantctl_resource_units_total`` (Graph's, estimated as in ``connectors/_accounting.py``).

The loop: ``tenantctl_cycle_duration_seconds`` (histogram), ``tenantctl_cycles_total``,
``tenantctl_last_cycle_timestamp_seconds``, ``tenantctl_ready``,
``tenantctl_desired_state_refresh_failures_total``, ``tenantctl_notifications_total{reason}``
(``sent``, ``failed``), ``tenantctl_tenants``.

Times are seconds since 1970 on the controller's clock (the sandbox's virtual clock with
``--sandbox``). The loop writes under a lock at the end of each cycle; a scrape reads a
consistent copy from another thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

__all__ = ["CYCLE_BUCKETS", "ControllerMetrics", "ServiceUsage", "TenantStatus"]

#: Seconds: an idle cycle takes a moment, a large estate minutes.
CYCLE_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass(frozen=True)
class TenantStatus:
    """A tenant as its last reconcile left it."""

    observed_at: float | None = None
    pending: int = 0
    held: Mapping[str, int] = field(default_factory=dict)  # by hold reason
    failed: int = 0
    unknown_areas: int = 0
    findings: int = 0
    next_reconcile: float | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True)
class ServiceUsage:
    """What one cycle cost one service, over every tenant."""

    requests: int = 0
    round_trips: int = 0
    throttles: int = 0
    resource_units: float = 0.0


class ControllerMetrics:
    """The registry ``/metrics`` serves (one per controller, never the global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._tenants: dict[str, TenantStatus] = {}
        self._ready = False
        self._last_cycle: float | None = None
        self.cycle_duration = Histogram(
            "tenantctl_cycle_duration_seconds",
            "How long a cycle took (refresh, observe, plan, apply, notify).",
            buckets=CYCLE_BUCKETS,
            registry=self.registry,
        )
        self.cycles = Counter(
            "tenantctl_cycles", "Cycles the controller ran.", registry=self.registry
        )
        self.refresh_failures = Counter(
            "tenantctl_desired_state_refresh_failures",
            "Refreshes of the desired state that failed (git, or files that do not validate).",
            registry=self.registry,
        )
        self.notifications = Counter(
            "tenantctl_notifications",
            "Notifications of new drift, failures and held work, by result (sent, failed).",
            ["reason"],
            registry=self.registry,
        )
        self.requests = Counter(
            "tenantctl_requests",
            "API requests served, retries included.",
            ["service"],
            registry=self.registry,
        )
        self.round_trips = Counter(
            "tenantctl_round_trips",
            "HTTP exchanges on the wire ($batch is one).",
            ["service"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "tenantctl_throttled_requests",
            "Requests the service answered 429.",
            ["service"],
            registry=self.registry,
        )
        self.resource_units = Counter(
            "tenantctl_resource_units",
            "Graph resource units spent (estimated where Graph does not say).",
            ["service"],
            registry=self.registry,
        )
        self.registry.register(_StateCollector(self))

    # -- written by the loop ---------------------------------------------------------------

    def cycle_done(self, seconds: float, at: float) -> None:
        self.cycle_duration.observe(seconds)
        self.cycles.inc()
        with self._lock:
            self._last_cycle = at

    def used(self, usage: Mapping[str, ServiceUsage]) -> None:
        for service, used in usage.items():
            self.requests.labels(service).inc(used.requests)
            self.round_trips.labels(service).inc(used.round_trips)
            self.throttled.labels(service).inc(used.throttles)
            self.resource_units.labels(service).inc(used.resource_units)

    def set_tenants(self, tenants: Mapping[str, TenantStatus]) -> None:
        """Every tenant's status (those missing are no longer reported)."""
        with self._lock:
            self._tenants = dict(tenants)

    def set_ready(self, ready: bool) -> None:
        with self._lock:
            self._ready = ready

    # -- read by a scrape ------------------------------------------------------------------

    def snapshot(self) -> tuple[dict[str, TenantStatus], bool, float | None]:
        with self._lock:
            return dict(self._tenants), self._ready, self._last_cycle


class _StateCollector:
    """The gauges, computed at scrape time from the loop's last published state."""

    def __init__(self, metrics: ControllerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        tenants, ready, last_cycle = self.metrics.snapshot()
        yield _gauge(
            "tenantctl_ready",
            "1 when the desired state is loaded and the last connection check passed.",
            value=float(ready),
        )
        yield _gauge(
            "tenantctl_tenants",
            "Tenants this controller (shard) reconciles.",
            value=float(len(tenants)),
        )
        last = GaugeMetricFamily(
            "tenantctl_last_cycle_timestamp_seconds", "When the last cycle ended."
        )
        if last_cycle is not None:
            last.add_metric([], last_cycle)
        yield last
        per_tenant = {
            "last_observed_timestamp_seconds": "When the tenant was last observed.",
            "operations_pending": "Operations of its last plan not done (held or failed).",
            "operations_failed": "Operations that failed in its last reconcile.",
            "unknown_areas": "Areas its last observation could not read.",
            "findings": "Findings of its last plan (security checks, licences).",
            "next_reconcile_timestamp_seconds": "When it is due next.",
            "consecutive_failures": "Failed or throttled reconciles in a row (its back-off).",
        }
        families = {
            name: GaugeMetricFamily(f"tenantctl_tenant_{name}", text, labels=["tenant"])
            for name, text in per_tenant.items()
        }
        held = GaugeMetricFamily(
            "tenantctl_tenant_operations_held",
            "Operations held in its last reconcile, by hold reason.",
            labels=["tenant", "reason"],
        )
        for name, status in sorted(tenants.items()):
            values: dict[str, float | None] = {
                "last_observed_timestamp_seconds": status.observed_at,
                "operations_pending": status.pending,
                "operations_failed": status.failed,
                "unknown_areas": status.unknown_areas,
                "findings": status.findings,
                "next_reconcile_timestamp_seconds": status.next_reconcile,
                "consecutive_failures": status.consecutive_failures,
            }
            for metric, value in values.items():
                if value is not None:
                    families[metric].add_metric([name], float(value))
            for reason, count in sorted(status.held.items()):
                held.add_metric([name, reason], float(count))
        yield from families.values()
        yield held


def _gauge(name: str, documentation: str, *, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family
