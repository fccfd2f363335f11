"""Hand-built plans for policy, approval and apply tests (no planner involved)."""

from __future__ import annotations

import datetime as dt
import hashlib

from controller.models import Decision, OperationKind
from controller.plan.params import OperationParams
from controller.plan.types import Backend, Badges, ManualStep, Operation, Plan, TenantPlan
from tests.fixtures.operation_params import example_params

CREATED = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
BADGES = Badges(gdap="active", consent="granted", exchange="working (direct)")


def fingerprint(tenant: str, kind: str, target: str, observed: str = "") -> str:
    return hashlib.sha256(f"{tenant}|{kind}|{target}|{observed}".encode()).hexdigest()


def op(
    kind: str,
    target: str,
    *,
    tenant: str = "contoso",
    op_id: str | None = None,
    backend: Backend = Backend.GRAPH,
    depends_on: tuple[str, ...] = (),
    observed: str = "",
    params: OperationParams | None = None,
    decision: Decision | None = None,
) -> Operation:
    return Operation(
        id=op_id or f"{tenant}:{kind}:{target}",
        tenant=tenant,
        tenant_id=f"tid-{tenant}",
        kind=OperationKind(kind),
        target=target,
        backend=backend,
        params=params or example_params(kind),
        depends_on=depends_on,
        fingerprint=fingerprint(tenant, kind, target, observed),
        decision=decision,
        manual=ManualStep(title="do it", instructions="by hand")
        if backend is Backend.MANUAL
        else None,
    )


def tenant(name: str, *operations: Operation, source: str | None = None) -> TenantPlan:
    return TenantPlan(
        name=name,
        tenant_id=f"tid-{name}",
        source=source,
        badges=BADGES,
        observation="complete",
        operations=operations,
    )


def plan(*tenants: TenantPlan, plan_id: str = "p" * 64) -> Plan:
    return Plan(plan_id=plan_id, created_at=CREATED, desired_digest="d" * 64, tenants=tenants)


def deletions(count: int, *, tenant_name: str = "woodgrove") -> list[Operation]:
    return [op("user.delete", f"user:u{i}@w.example", tenant=tenant_name) for i in range(count)]
