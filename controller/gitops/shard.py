"""``--shard K/N``: split the estate's tenants deterministically across N machines.

Pure: no I/O, no clock, no randomness. The assignment is a function of the tenant id and N
only, so every machine of a CI matrix or a Kubernetes Indexed Job computes the same partition
without talking to the others.

It uses rendezvous (highest-random-weight) hashing: tenant *t* goes to the shard *k* whose
weight ``sha256(t, k)`` is highest. Compared with the obvious alternatives:

- ``index in sorted(tenants) % N`` moves almost every tenant when one tenant is added;
- ``hash(t) % N`` is stable under additions, but Python's ``hash`` is salted per process
  (PYTHONHASHSEED), and changing N moves nearly every tenant;
- rendezvous is stable under additions, identical on every machine (sha256), and when N grows
  to N+1 only the tenants that now land on the new shard move (about 1/(N+1) of them), so a
  resharded estate does not reshuffle every tenant's apply slot.

Balance is statistical: each tenant lands on a shard independently and uniformly, so shard
sizes spread like a multinomial draw (a standard deviation of about ``sqrt(n/N)`` tenants
around the mean ``n/N``). Any scheme that is stable when unrelated tenants are added has this
property; a perfectly even split would have to move tenants whenever one is added.

The key is the tenant id (a GUID), lower-cased: it never changes, whereas a tenant's short
name or file name may be renamed in git.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from controller.errors import UsageError
from controller.models import TenantConfig

__all__ = ["Shard", "parse_shard", "select", "shard_of"]

T = TypeVar("T")

# At most nine digits each: int() of a 5,000-digit string raises, and no estate needs more.
_SHARD = re.compile(r"^\s*([0-9]{1,9})\s*/\s*([0-9]{1,9})\s*$")
MAX_SHARDS = 10_000  # far beyond any real estate; stops `--shard 1/99999999999` loops


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``; ``str()`` gives the ``K/N`` form back."""

    index: int
    total: int

    def __post_init__(self) -> None:
        if not 1 <= self.total <= MAX_SHARDS:
            raise UsageError(f"shard count must be between 1 and {MAX_SHARDS}, got {self.total}")
        if not 1 <= self.index <= self.total:
            raise UsageError(
                f"shard {self.index}/{self.total} does not exist: K counts from 1 to N "
                f"(1/{self.total} .. {self.total}/{self.total})"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def holds(self, tenant_id: str) -> bool:
        return shard_of(tenant_id, self.total) == self.index


def parse_shard(text: str) -> Shard:
    """Parse ``K/N`` (1-based K, as a CI matrix or ``JOB_COMPLETION_INDEX + 1`` gives it)."""
    match = _SHARD.match(text)
    if match is None:
        raise UsageError(
            f"--shard expects K/N with whole numbers, 1 <= K <= N <= {MAX_SHARDS:,} (e.g. 2/4), "
            f"got {text[:40]!r}"
        )
    return Shard(int(match.group(1)), int(match.group(2)))


def _weight(tenant_key: str, index: int) -> int:
    digest = hashlib.sha256(f"{tenant_key}\x00{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def shard_of(tenant_id: str, total: int) -> int:
    """The 1-based shard that owns ``tenant_id`` among ``total`` shards."""
    if not 1 <= total <= MAX_SHARDS:
        raise UsageError(f"shard count must be between 1 and {MAX_SHARDS}, got {total}")
    key = tenant_id.strip().lower()
    # max() keeps the first of equal weights, so a (practically impossible) tie goes to the
    # lowest index on every machine alike.
    return max(range(1, total + 1), key=lambda index: _weight(key, index))


def _tenant_key(tenant: object) -> str:
    if isinstance(tenant, str):
        return tenant
    if isinstance(tenant, TenantConfig):
        return tenant.metadata.tenant_id
    raise TypeError(f"cannot shard a {type(tenant).__name__}: pass key=")


def select(tenants: Iterable[T], shard: Shard, *, key: Callable[[T], str] | None = None) -> list[T]:
    """The tenants that ``shard`` owns, in their original order.

    ``tenants`` are tenant ids (``str``) or :class:`TenantConfig` values (sharded by
    ``metadata.tenantId``); for anything else pass ``key`` returning the tenant id.
    """
    tenant_key: Callable[[T], str] = key if key is not None else _tenant_key
    return [tenant for tenant in tenants if shard.holds(tenant_key(tenant))]
