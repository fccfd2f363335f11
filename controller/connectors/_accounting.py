"""Per-tenant accounting of what the connectors cost: HTTP requests, round trips, batch items,
retries, throttles and estimated Graph resource units.

Definitions (the benchmark reads these):

- ``round_trips``: HTTP exchanges on the wire, retries included (a ``$batch`` is one);
- ``requests``: API requests served: one per plain call, one per item inside a ``$batch``
  (the envelope itself is not a request), retries included;
- ``batch_items``: items sent inside ``$batch`` envelopes, retried items included;
- ``retries``: re-sends of a whole request or of a batch item;
- ``throttles``: 429 answers, whole or per item;
- ``resource_units``: Graph's ``x-ms-resource-unit`` header when the service sends it,
  otherwise the estimate from API-NOTES.md (users list 2, group members 3, subscribedSkus 3,
  ``$select`` saves 1, ``$expand`` adds 1, anything else 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import parse_qs, urlsplit

from controller.errors import Service


@dataclass
class Usage:
    requests: int = 0
    round_trips: int = 0
    batch_items: int = 0
    retries: int = 0
    throttles: int = 0
    resource_units: float = 0.0

    def __iadd__(self, other: Usage) -> Usage:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


class Accounting:
    """Counters per (tenant, service). Not thread-safe; the connectors run on one event loop."""

    def __init__(self) -> None:
        self._usage: dict[tuple[str, Service], Usage] = {}

    def of(self, tenant: str, service: Service) -> Usage:
        return self._usage.setdefault((tenant, service), Usage())

    def tenant(self, tenant: str, service: Service | None = None) -> Usage:
        """The usage of one tenant, for one service or summed over all."""
        total = Usage()
        for (name, svc), usage in self._usage.items():
            if name == tenant and (service is None or svc == service):
                total += usage
        return total

    def total(self, service: Service | None = None) -> Usage:
        total = Usage()
        for (_, svc), usage in self._usage.items():
            if service is None or svc == service:
                total += usage
        return total

    def snapshot(self) -> Mapping[tuple[str, Service], Usage]:
        return dict(self._usage)

    def add(self, other: Accounting) -> None:
        """Count ``other``'s usage too (a worker process's, when observing in several)."""
        for key, usage in other.snapshot().items():
            self.of(*key).__iadd__(usage)


_COSTS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/(?:v1\.0|beta)?/?users/?$"), 2),
    (re.compile(r"/groups/[^/]+/(?:transitive)?members(?:/\$ref)?/?$"), 3),
    (re.compile(r"/subscribedSkus/?$"), 3),
)


def estimate_graph_units(method: str, url: str) -> float:
    """Graph identity resource units of one request (API-NOTES.md, "Throttling")."""
    parts = urlsplit(url)
    path = parts.path
    cost = 1
    if method.upper() == "GET":
        for pattern, units in _COSTS:
            if pattern.search(path):
                cost = units
                break
        query = parse_qs(parts.query)
        if "$select" in query:
            cost = max(1, cost - 1)
        if "$expand" in query:
            cost += 1
    return float(cost)
