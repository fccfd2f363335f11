"""When each tenant is reconciled next: the controller's schedule, as pure decisions.

Pure: no clock, no I/O; every time is a number of seconds handed in, and the jitter's
randomness is an injected function, so a test drives the schedule with plain numbers.

Every tenant has its own due time:

- a tenant seen for the first time, or whose desired state changed (its file, a profile it
  takes, ``msp.yaml``, or an approval naming it: :func:`tenant_digests`), is due at once;
- after a reconcile that went well it is due one ``interval`` later, give or take ``jitter``
  (a fraction: 0.1 spreads due times over ±10 % so tenants reconciled together drift apart);
- after one that failed (an operation failed, the tenant could not be observed in full) or
  was throttled (a service answered 429), it backs off on its own: ``interval x 2^k`` for its
  k-th failure in a row, at most ``backoff_cap``, jittered alike. Other tenants keep their
  interval. The first good reconcile resets k.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from controller.errors import UsageError
from controller.models import DesiredState
from controller.policy import ApprovalSet

__all__ = [
    "Schedule",
    "TenantTimer",
    "Timing",
    "Verdict",
    "parse_duration",
    "parse_jitter",
    "tenant_digests",
]

#: The longest a failing tenant waits between attempts (never less than the interval).
DEFAULT_BACKOFF_CAP = 6 * 3600.0


class Verdict(StrEnum):
    """How a tenant's reconcile went, as far as its schedule is concerned."""

    OK = "ok"  # observed in full; whatever it planned was done or is held for a person
    FAILED = "failed"  # an operation failed, or the tenant was not observed (in full)
    THROTTLED = "throttled"  # a service throttled it (429): give its budget time to refill


@dataclass(frozen=True)
class Timing:
    interval: float
    jitter: float = 0.1
    backoff_cap: float = DEFAULT_BACKOFF_CAP

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("the interval must be positive")
        if not 0 <= self.jitter < 1:
            raise ValueError("the jitter is a fraction of the interval, from 0 up to 1")

    def delay(self, failures: int) -> float:
        """Seconds until the next reconcile after ``failures`` failures in a row (0: none),
        before jitter."""
        if failures <= 0:
            return self.interval
        cap = max(self.backoff_cap, self.interval)
        # 2**failures grows past any cap quickly; stop doubling before it overflows a float.
        return min(cap, self.interval * 2.0 ** min(failures, 64))


@dataclass
class TenantTimer:
    digest: str  # of its desired state (and the approvals naming it)
    due: float
    failures: int = 0  # in a row
    last_reconciled: float | None = None
    last_verdict: Verdict | None = None


class Schedule:
    """The due time of every tenant the controller reconciles."""

    def __init__(self, timing: Timing, *, random: Callable[[], float]) -> None:
        self.timing = timing
        self._random = random
        self.tenants: dict[str, TenantTimer] = {}

    def track(self, digests: Mapping[str, str], now: float) -> tuple[str, ...]:
        """Follow the tenants of ``digests`` (name -> digest): a new one, or one whose digest
        changed, is due at ``now``; one no longer there is forgotten. The new and changed
        names, sorted."""
        for gone in set(self.tenants) - set(digests):
            del self.tenants[gone]
        changed: list[str] = []
        for name, digest in digests.items():
            timer = self.tenants.get(name)
            if timer is None:
                self.tenants[name] = TenantTimer(digest, now)
                changed.append(name)
            elif timer.digest != digest:
                timer.digest = digest
                timer.due = min(timer.due, now)
                changed.append(name)
        return tuple(sorted(changed))

    def due(self, now: float) -> tuple[str, ...]:
        """The tenants due at ``now``, longest overdue first (then by name)."""
        ready = [(t.due, name) for name, t in self.tenants.items() if t.due <= now]
        return tuple(name for _, name in sorted(ready))

    def reconciled(self, name: str, now: float, verdict: Verdict) -> float:
        """Record how ``name``'s reconcile at ``now`` went; its next due time."""
        timer = self.tenants[name]
        timer.failures = 0 if verdict is Verdict.OK else timer.failures + 1
        timer.last_reconciled = now
        timer.last_verdict = verdict
        spread = 1 + self.timing.jitter * (2 * self._random() - 1)
        timer.due = now + self.timing.delay(timer.failures) * spread
        return timer.due

    def next_due(self) -> float | None:
        """The earliest due time of any tenant (``None`` without tenants)."""
        return min((t.due for t in self.tenants.values()), default=None)


def tenant_digests(state: DesiredState, approvals: ApprovalSet) -> dict[str, str]:
    """Per tenant, a digest of what its reconcile depends on from git: the tenant as planned
    (its file with its profiles applied, report-mode profiles included), ``msp.yaml``, and the
    fingerprints that unexpired approvals name for it. A new approval merged for a tenant
    makes it due at once, as a change to its file does."""
    msp = state.msp.model_dump_json()
    approved: dict[str, set[str]] = {}
    for stored in approvals.active:
        for op in stored.record.operations:
            approved.setdefault(op.tenant, set()).add(op.fingerprint)
    observed = {t.metadata.name: t for t in state.tenants_to_observe()}
    digests: dict[str, str] = {}
    for tenant in state.tenants:
        name = tenant.metadata.name
        parts: Iterable[str] = (
            msp,
            tenant.model_dump_json(),
            observed[name].model_dump_json() if observed.get(name) is not tenant else "",
            json.dumps(sorted(approved.get(name, ()))),
        )
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part.encode())
            digest.update(b"\0")
        digests[name] = digest.hexdigest()
    return digests


_DURATION = re.compile(r"^\s*([0-9]{1,7})\s*(s|m|h|d)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Bounds of --interval and --refresh: nothing sub-second, nothing beyond a week.
SHORTEST, LONGEST = 1.0, 7 * 86400.0


def parse_duration(text: str, option: str) -> float:
    """``30s``, ``15m``, ``6h``, ``1d`` -> seconds, between a second and a week."""
    match = _DURATION.match(text)
    seconds = int(match.group(1)) * _SECONDS[match.group(2)] if match else 0
    if not SHORTEST <= seconds <= LONGEST:
        raise UsageError(
            f"{option} expects a duration from 1s to 7d as a whole number with s, m, h or d "
            f"(e.g. 15m), got {text[:40]!r}"
        )
    return float(seconds)


def parse_jitter(text: str) -> float:
    """``10%`` (or ``0.1``) -> 0.1; from 0 up to 50 %."""
    stripped = text.strip()
    try:
        value = float(stripped[:-1]) / 100 if stripped.endswith("%") else float(stripped)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 0.5:
        raise UsageError(f"--jitter expects a share from 0% to 50% (e.g. 10%), got {text[:40]!r}")
    return value
