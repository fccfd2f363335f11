"""What happened to each operation of a run, as a value: :class:`Outcome`.

The apply engine records one outcome per operation instead of letting an exception escape.
:func:`gate` is the pure first step of apply: given the re-computed plan (policy already
decided) and the approval records, it says for every operation whether it may execute
(``None``) or is held, and why.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, model_validator

from controller.errors import ServiceError, TenantctlError
from controller.models import Decision
from controller.models.common import CAMEL_CASE
from controller.plan.types import Operation, Plan, TenantPlan
from controller.policy.approvals import ApprovalSet

# The Exchange Administrator role answers 403 until it has propagated.
PROPAGATION_DETAIL = "waiting for propagation (typical 30 minutes to 2 hours; re-run later)"


class OutcomeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    HELD = "held"  # not executed; ``hold`` says why, and a later run may execute it
    SKIPPED = "skipped"  # nothing to do (already done, a one-shot action past notAfter)


class HoldReason(StrEnum):
    PENDING_APPROVAL = "pending-approval"
    STALE = "stale"  # approved, but the tenant changed since: the fingerprint is new
    DENIED = "denied"
    MANUAL = "manual"
    PROPAGATING = "propagating"
    BLOCKED = "blocked"  # a dependency failed or was held
    GUARD = "guard"
    JOURNAL = "journal"  # the journal could not record it, so it was not called
    SECRET_SINK = "secret-sink"  # the password could not be stored, so it was not called
    CANCELLED = "cancelled"  # the run was cancelled (SIGTERM, SIGINT) before it started


class Outcome(BaseModel):
    """One operation's result. ``error`` is a message from the error tree, which never holds a
    secret; ``detail`` is for people (why held, what to do)."""

    model_config = CAMEL_CASE

    status: OutcomeStatus
    hold: HoldReason | None = None
    detail: str = ""
    error: str | None = None
    request_id: str | None = None
    duration_ms: int | None = None
    approval: str | None = None  # the approval record file that allowed it, if any

    @model_validator(mode="after")
    def _consistent(self) -> Outcome:
        if (self.status is OutcomeStatus.HELD) != (self.hold is not None):
            raise ValueError("a held outcome needs a hold reason, and only a held one has one")
        if self.error is not None and self.status is not OutcomeStatus.FAILED:
            raise ValueError("only a failed outcome carries an error")
        return self

    @classmethod
    def succeeded(
        cls,
        *,
        duration_ms: int | None = None,
        request_id: str | None = None,
        approval: str | None = None,
        detail: str = "",
    ) -> Outcome:
        return cls(
            status=OutcomeStatus.SUCCEEDED,
            duration_ms=duration_ms,
            request_id=request_id,
            approval=approval,
            detail=detail,
        )

    @classmethod
    def failed(
        cls,
        error: TenantctlError | str,
        *,
        duration_ms: int | None = None,
        request_id: str | None = None,
        approval: str | None = None,
    ) -> Outcome:
        if isinstance(error, ServiceError):
            request_id = request_id or error.request_id
        return cls(
            status=OutcomeStatus.FAILED,
            error=str(error),
            duration_ms=duration_ms,
            request_id=request_id,
            approval=approval,
        )

    @classmethod
    def held(cls, reason: HoldReason, detail: str) -> Outcome:
        return cls(status=OutcomeStatus.HELD, hold=reason, detail=detail)

    @classmethod
    def propagating(
        cls,
        error: ServiceError | None = None,
        *,
        duration_ms: int | None = None,
        detail: str = PROPAGATION_DETAIL,
    ) -> Outcome:
        """A 403 while a role propagates, or a 404 right after a create: held, not failed."""
        return cls(
            status=OutcomeStatus.HELD,
            hold=HoldReason.PROPAGATING,
            detail=detail,
            request_id=error.request_id if error else None,
            duration_ms=duration_ms,
        )

    @classmethod
    def cancelled(cls, detail: str = "not started: the run was cancelled") -> Outcome:
        return cls.held(HoldReason.CANCELLED, detail)

    @classmethod
    def skipped(cls, detail: str) -> Outcome:
        return cls(status=OutcomeStatus.SKIPPED, detail=detail)

    @classmethod
    def blocked(cls, dependency: Operation, its_outcome: Outcome) -> Outcome:
        """Held because ``dependency`` did not succeed (failed or held) in this run."""
        why = its_outcome.hold.value if its_outcome.hold else its_outcome.status.value
        return cls.held(
            HoldReason.BLOCKED,
            f"waits for {dependency.kind.value} {dependency.target} ({why})",
        )

    @property
    def lets_dependents_run(self) -> bool:
        """Whether an operation that depends on this one may go ahead."""
        return self.status in (OutcomeStatus.SUCCEEDED, OutcomeStatus.SKIPPED)


def gate(plan: Plan, approvals: ApprovalSet) -> dict[str, Outcome | None]:
    """For every operation of ``plan``: ``None`` when it may execute, else why it is held.

    An operation may execute when policy allows it, or when it needs approval and an unexpired
    record names its fingerprint (``approvals.lookup_stored(op.fingerprint)`` gives the record
    to journal). Otherwise, in this order: a manual step is ``manual``; every operation of a
    tenant over a guard is ``guard`` (a mass change suggests the desired state is wrong, so
    none of that tenant's changes run); ``denied``; ``stale`` when an unexpired record
    approved the same tenant, kind and target under another fingerprint; ``pending-approval``.
    An operation that could execute but depends on a held one (transitively) is ``blocked``.
    An operation without a decision (policy not run) needs approval, as by default.
    """
    own: dict[str, Outcome | None] = {}
    by_id: dict[str, Operation] = {}
    for tenant in plan.tenants:
        for op in tenant.operations:
            by_id[op.id] = op
            own[op.id] = _own_hold(op, tenant, approvals)
    resolved: dict[str, Outcome | None] = {}
    for op_id in by_id:
        _resolve(op_id, by_id, own, resolved, visiting=set())
    return resolved


def _own_hold(op: Operation, tenant: TenantPlan, approvals: ApprovalSet) -> Outcome | None:
    if op.is_manual:
        title = op.manual.title if op.manual else f"{op.kind.value} {op.target}"
        return Outcome.held(HoldReason.MANUAL, f"a person must do this: {title}")
    if tenant.guard_violations:
        return Outcome.held(HoldReason.GUARD, "; ".join(tenant.guard_violations))
    if op.decision is Decision.DENY:
        return Outcome.held(HoldReason.DENIED, f"denied by {op.decision_reason}")
    if op.decision is Decision.ALLOW:
        return None
    if approvals.lookup(op.fingerprint) is not None:
        return None
    earlier = [
        (stored, approved)
        for stored in approvals.for_target(op.tenant, op.kind.value, op.target)
        for approved in stored.record.operations
        if (approved.tenant, approved.kind, approved.target)
        == (op.tenant, op.kind.value, op.target)
    ]
    if earlier:
        stored, approved = earlier[0]
        return Outcome.held(
            HoldReason.STALE,
            f"{stored.record.approved_by} approved fingerprint {approved.fingerprint[:12]} "
            f"({stored.path.name}), but the tenant changed since and it is now "
            f"{op.fingerprint[:12]}; review the new plan and approve again",
        )
    expired = approvals.expired_for(op.fingerprint)
    if expired is not None:
        return Outcome.held(
            HoldReason.PENDING_APPROVAL,
            f"the approval by {expired.record.approved_by} ({expired.path.name}) expired at "
            f"{expired.record.expires_at:%Y-%m-%dT%H:%M:%SZ}; approve again "
            f"(tenantctl approve PLAN --only {op.fingerprint[:12]})",
        )
    return Outcome.held(
        HoldReason.PENDING_APPROVAL,
        f"needs approval: tenantctl approve PLAN --only {op.fingerprint[:12]}",
    )


def _resolve(
    op_id: str,
    by_id: Mapping[str, Operation],
    own: Mapping[str, Outcome | None],
    resolved: dict[str, Outcome | None],
    visiting: set[str],
) -> Outcome | None:
    if op_id in resolved:
        return resolved[op_id]
    op = by_id[op_id]
    outcome = own[op_id]
    if outcome is None:
        visiting.add(op_id)
        for dependency in op.depends_on:
            if dependency not in by_id:
                outcome = Outcome.held(
                    HoldReason.BLOCKED, f"waits for {dependency}, which the plan does not hold"
                )
                break
            if dependency in visiting:
                outcome = Outcome.held(HoldReason.BLOCKED, f"dependency cycle through {dependency}")
                break
            held = _resolve(dependency, by_id, own, resolved, visiting)
            if held is not None:
                outcome = Outcome.blocked(by_id[dependency], held)
                break
        visiting.discard(op_id)
    resolved[op_id] = outcome
    return outcome
