"""What the controller already told people about, so a notification says only what is new.

Held work stays held until someone approves it: reported every cycle, the same pending
approval would drown the channel. Each tenant's reconcile gives a set of *report keys*
(:func:`report_keys`): ``held:<fingerprint>`` for an operation held for a person (awaiting
approval, stale, denied, manual, over a guard, ...), ``failed:<fingerprint>`` for one that
failed, ``applied:<fingerprint>`` for drift that was corrected, ``unobserved`` for a tenant
that could not be read. A notification goes out when a tenant has a key it did not have
after its previous reconcile; then the tenant's keys are replaced by the new set, so work that
goes away and comes back is news again.

The memory lasts across restarts through the journal: every cycle is a ``controller`` run,
and its held and failed operations are rows with their fingerprints. :meth:`Reported.from_journal`
reads, for each tenant, the operations of the newest finished controller run that had any.
A tenant whose last reconcile left nothing to report is not in the journal, and a tenant
that could not be observed leaves no operation: after a restart, the first report about
them may repeat one already sent. A notification that could not be delivered is not
remembered: the next cycle tries again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from controller.apply import HoldReason, Journal, Outcome, OutcomeStatus
from controller.plan import TenantPlan

__all__ = ["CONTROLLER_COMMAND", "Reported", "report_keys"]

#: The journal's ``command`` of a controller cycle's run (``tenantctl history`` shows it).
CONTROLLER_COMMAND = "controller"
#: How many of the newest controller runs a restart reads to rebuild its memory.
RUNS_READ_AT_START = 1000


def report_keys(tenant: TenantPlan, outcomes: Mapping[str, Outcome]) -> frozenset[str]:
    """What is worth a notification about ``tenant`` after its reconcile (module docstring)."""
    keys: set[str] = set()
    if tenant.observation == "failed":
        keys.add("unobserved")
    for op in tenant.operations:
        outcome = outcomes.get(op.id)
        if outcome is None:
            continue
        key = _key(outcome.status, outcome.hold, op.fingerprint)
        if key is not None:
            keys.add(key)
    return frozenset(keys)


def _key(status: OutcomeStatus | None, hold: HoldReason | None, fingerprint: str) -> str | None:
    if status is OutcomeStatus.SUCCEEDED:
        return f"applied:{fingerprint}"
    if status is OutcomeStatus.FAILED:
        return f"failed:{fingerprint}"
    # A run cancelled by SIGTERM holds what it did not start: nothing for a person to do.
    if status is OutcomeStatus.HELD and hold is not HoldReason.CANCELLED:
        return f"held:{fingerprint}"
    return None


class Reported:
    """Per tenant, the report keys of its last reconcile that people were told about."""

    def __init__(self, keys: Mapping[str, frozenset[str]] | None = None) -> None:
        self._keys: dict[str, frozenset[str]] = dict(keys or {})

    def news(self, tenant: str, keys: frozenset[str]) -> frozenset[str]:
        """The keys of ``tenant`` that were not reported after its previous reconcile."""
        return keys - self._keys.get(tenant, frozenset())

    def remember(self, tenant: str, keys: frozenset[str]) -> None:
        self._keys[tenant] = keys

    def keep_only(self, tenants: Iterable[str]) -> None:
        """Forget tenants that left the desired state (or this shard)."""
        wanted = set(tenants)
        for gone in set(self._keys) - wanted:
            del self._keys[gone]

    def of(self, tenant: str) -> frozenset[str]:
        return self._keys.get(tenant, frozenset())

    @classmethod
    def from_journal(cls, journal: Journal, tenants: Iterable[str]) -> Reported:
        """The memory as the journal's newest finished controller runs leave it (module
        docstring), for ``tenants``."""
        wanted = set(tenants)
        found: dict[str, frozenset[str]] = {}
        runs = [
            run
            for run in journal.runs()
            if run.command == CONTROLLER_COMMAND and not run.unfinished
        ]
        for run in reversed(runs[-RUNS_READ_AT_START:]):
            if run.operations == 0:
                continue
            keys: dict[str, set[str]] = {}
            for op in journal.operations(run.id):
                if op.tenant in wanted and op.tenant not in found:
                    key = _key(op.status, op.hold, op.fingerprint)
                    keys.setdefault(op.tenant, set())
                    if key is not None and not key.startswith("applied:"):
                        keys[op.tenant].add(key)
            for tenant, tenant_keys in keys.items():
                found[tenant] = frozenset(tenant_keys)
            if len(found) == len(wanted):
                break
        return cls(found)
