"""The types of a plan, and nothing else.

A plan is a value: saved as JSON (the contract: ``schemas/plan.schema.json``), rendered for
people by ``controller.render``, approved by fingerprint, and re-computed by apply to detect
that the world changed since approval.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from controller.models.operations import Decision, OperationKind

PLAN_FORMAT_VERSION = 1


class Backend(StrEnum):
    GRAPH = "graph"
    EXCHANGE = "exchange"
    CIPP = "cipp"
    MANUAL = "manual"


class _PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldChange(_PlanModel):
    """One field's change: ``before`` is what the tenant has, ``after`` what git declares."""

    field: str
    before: Any = None
    after: Any = None


class ManualStep(_PlanModel):
    """What no API can do here: a person follows ``instructions`` (and opens ``link``)."""

    title: str
    instructions: str
    link: str | None = None


class Operation(_PlanModel):
    id: str = Field(description="Unique within the plan, stable across runs")
    tenant: str
    tenant_id: str
    kind: OperationKind
    target: str = Field(description="What it acts on, e.g. user:alice@contoso.com")
    backend: Backend
    changes: tuple[FieldChange, ...] = ()
    params: dict[str, Any] = Field(
        default_factory=dict, description="What apply needs to execute it (ids, bodies); no secret"
    )
    depends_on: tuple[str, ...] = ()
    reason: str = ""
    fingerprint: str = Field(
        description="Hash of tenant, kind, target, desired values and the observed values the "
        "operation was computed from: an approval names it, and it changes when the tenant does"
    )
    decision: Decision | None = Field(default=None, description="Filled in by policy")
    decision_reason: str | None = None
    manual: ManualStep | None = None

    @property
    def is_manual(self) -> bool:
        return self.backend is Backend.MANUAL


Severity = Literal["info", "warning", "high"]


class Finding(_PlanModel):
    """A result of a security check (or a licence shortage): reported, not changed."""

    check: str  # mfa | riskyUsers | licences | gdap
    severity: Severity
    subject: str
    message: str


class Badges(_PlanModel):
    """The onboarding badges an MSP sees per tenant."""

    gdap: str  # active | expiring | expired | none | unknown (+ detail)
    gdap_detail: str | None = None
    consent: str  # granted | partial | pending | unknown
    consent_detail: str | None = None
    # pending | propagating | working (direct) | working (cipp) | not managed | unknown
    exchange: str
    exchange_detail: str | None = None


class UnknownArea(_PlanModel):
    area: str
    code: str
    reason: str


class Problem(_PlanModel):
    """An error for one object (e.g. an ambiguous match): that object is not planned."""

    subject: str
    message: str


class TenantPlan(_PlanModel):
    name: str
    tenant_id: str
    source: str | None = Field(default=None, description="The desired-state file")
    badges: Badges
    observation: Literal["complete", "partial", "failed"]
    unknown: tuple[UnknownArea, ...] = ()
    operations: tuple[Operation, ...] = ()
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = Field(
        default=(), description="Information that needs no action (e.g. an action already done)"
    )
    problems: tuple[Problem, ...] = ()
    guard_violations: tuple[str, ...] = ()

    @property
    def manual_steps(self) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.is_manual)


class Plan(_PlanModel):
    format_version: int = PLAN_FORMAT_VERSION
    plan_id: str = Field(description="Hash of the plan's content (without the timestamp)")
    created_at: dt.datetime
    desired_digest: str = Field(description="Hash of the desired state the plan was made from")
    tenants: tuple[TenantPlan, ...]

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for tenant in self.tenants for op in tenant.operations)

    @property
    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def complete(self) -> bool:
        """Every tenant fully observed: nothing was left unplanned for lack of knowledge."""
        return all(t.observation == "complete" for t in self.tenants)

    @property
    def errored(self) -> bool:
        return any(t.problems or t.observation == "failed" for t in self.tenants)

    @property
    def policy_ok(self) -> bool:
        """No denied operation and no guard exceeded."""
        return not any(
            t.guard_violations or any(op.decision is Decision.DENY for op in t.operations)
            for t in self.tenants
        )
