"""The types of a plan, and nothing else.

A plan is a value: saved as JSON (the contract: ``schemas/plan.schema.json``), rendered for
people by ``controller.render``, approved by fingerprint, and re-computed by apply to detect
that the world changed since approval.

Its JSON keys are camelCase (``planId``, ``createdAt``, ``dependsOn``), as everywhere else in
tenantctl's output; Python code uses the field names. Format version 2 is the first with
camelCase keys: ``approve`` refuses a version 1 file (snake_case) and says to plan again.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum
from typing import Any, Literal

from pydantic import Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from controller.models.common import CAMEL_CASE, SharingFieldNames
from controller.models.operations import Decision, OperationKind
from controller.models.provenance import Source
from controller.plan.params import OperationParams

PLAN_FORMAT_VERSION = 2


class Backend(StrEnum):
    GRAPH = "graph"
    EXCHANGE = "exchange"
    CIPP = "cipp"
    MANUAL = "manual"


class _PlanModel(SharingFieldNames):
    model_config = CAMEL_CASE


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
    params: OperationParams = Field(
        description="What apply needs to execute it (ids, bodies); no secret. Its shape is "
        "the kind's (controller/plan/params.py)"
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
    source: Source | None = Field(
        default=None,
        description="Where the desired value came from (tenant file or profile, and line); "
        "not part of the fingerprint",
    )

    @model_validator(mode="before")
    @classmethod
    def _params_take_the_kind(cls, data: Any) -> Any:
        """Plan JSON carries params without their kind, which the operation has: hand it down
        so the union of params models can pick the kind's model."""
        if isinstance(data, dict) and isinstance(data.get("params"), dict) and "kind" in data:
            data = {**data, "params": {**data["params"], "kind": data["kind"]}}
        return data

    @model_validator(mode="after")
    def _params_are_the_kinds(self) -> Operation:
        if self.params.kind != self.kind:
            raise ValueError(f"params of {self.params.kind.value} given to a {self.kind.value}")
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """``params`` is discriminated by the operation's ``kind``, not by a key of its own:
        say so as ``if kind then params`` (a plain ``oneOf`` would match several models whose
        fields are the same, such as distributionGroup.create and sharedMailbox.create)."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        params = schema["properties"]["params"]
        by_kind: dict[str, str] = params["discriminator"]["mapping"]
        schema["properties"]["params"] = {
            "description": params.get("description", ""),
            "type": "object",
        }
        schema["allOf"] = [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"properties": {"params": {"$ref": ref}}},
            }
            for kind, ref in sorted(by_kind.items())
        ]
        return schema

    @property
    def is_manual(self) -> bool:
        return self.backend is Backend.MANUAL


Severity = Literal["info", "warning", "high"]


class Finding(_PlanModel):
    """A result of a security check (or a licence shortage): reported, not changed."""

    check: str  # mfa | riskyUsers | licences | gdap | profile
    severity: Severity
    subject: str
    message: str
    source: Source | None = Field(
        default=None, description="Where what the finding checks was declared"
    )


class GdapBadge(StrEnum):
    """The GDAP relationship with the customer, as the MSP sees it."""

    ACTIVE = "active"
    EXPIRING = "expiring"  # ends within the warning window (msp.yaml)
    EXPIRED = "expired"
    NONE = "none"
    UNKNOWN = "unknown"


class ConsentBadge(StrEnum):
    """The app's admin consent in the customer tenant."""

    GRANTED = "granted"
    PARTIAL = "partial"  # consented, but some required permissions are missing
    PENDING = "pending"  # no service principal in the tenant yet
    UNKNOWN = "unknown"


class ExchangeBadge(StrEnum):
    """Whether tenantctl can manage Exchange in the tenant, and by which route."""

    PENDING = "pending"
    PROPAGATING = "propagating"  # the role is assigned, Exchange does not accept it yet
    WORKING_DIRECT = "working (direct)"
    WORKING_CIPP = "working (cipp)"
    NOT_MANAGED = "not managed"
    UNKNOWN = "unknown"


class Badges(_PlanModel):
    """The onboarding badges an MSP sees per tenant, each with a detail for people."""

    gdap: GdapBadge
    gdap_detail: str | None = None
    consent: ConsentBadge
    consent_detail: str | None = None
    exchange: ExchangeBadge
    exchange_detail: str | None = None


class UnknownArea(_PlanModel):
    area: str
    code: str
    reason: str


class Problem(_PlanModel):
    """An error for one object (e.g. an ambiguous match): that object is not planned."""

    subject: str
    message: str


class FailedCheck(_PlanModel):
    """A connection check that failed while observing (the app's credential, the GDAP read,
    CIPP): the same diagnosis ``tenantctl connect check`` gives. A plan with one did not see
    what it was asked to, so it can never say "No changes"."""

    check: str = Field(description="partner app | GDAP | CIPP")
    summary: str
    fix: str | None = None

    def line(self) -> str:
        """As ``tenantctl connect check`` prints a failed check."""
        text = f"FAIL  {self.check:<12}  {self.summary}"
        return f"{text}; fix: {self.fix}" if self.fix else text


class ServiceUsage(_PlanModel):
    """What observing cost at one service (the connectors' accounting): HTTP round trips,
    API requests (items inside a ``$batch`` count one each), retries, 429 answers, and Graph's
    resource units (what its per-app and per-tenant throttling budgets count; 0 elsewhere)."""

    round_trips: int
    requests: int
    retries: int = 0
    throttles: int = 0
    resource_units: float = 0.0

    def __add__(self, other: ServiceUsage) -> ServiceUsage:
        return ServiceUsage(
            round_trips=self.round_trips + other.round_trips,
            requests=self.requests + other.requests,
            retries=self.retries + other.retries,
            throttles=self.throttles + other.throttles,
            resource_units=self.resource_units + other.resource_units,
        )


Accounting = dict[str, ServiceUsage]  # service name ("graph", "exchange", ...) -> usage


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
    accounting: Accounting | None = Field(
        default=None,
        description="What observing this tenant cost, per service; it varies with retries, so "
        "neither the plan id nor a fingerprint covers it",
    )

    @property
    def manual_steps(self) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.is_manual)

    @property
    def changes(self) -> tuple[Operation, ...]:
        """The operations an API can carry out (every operation but the manual steps)."""
        return tuple(op for op in self.operations if not op.is_manual)


class ExitStatus(IntEnum):
    """What a command that observes exits with (``terraform plan -detailed-exitcode``).

    ``MATCHES`` (0): every selected tenant was observed in full and matches git.
    ``ERROR`` (1): a connection, credential or policy check failed, an object could not be
    planned (a problem), or nothing at all could be observed.
    ``CHANGES`` (2): changes or manual steps are planned, or some area could not be observed.
    ``USAGE`` (64, as sysexits' EX_USAGE): the command line itself was wrong.
    ``INTERRUPTED`` (130) / ``TERMINATED`` (143): an apply stopped by SIGINT / SIGTERM (128 +
    the signal, as a shell reports it) after it finished the call in flight and wrote its
    outputs.
    """

    MATCHES = 0
    ERROR = 1
    CHANGES = 2
    USAGE = 64
    INTERRUPTED = 130
    TERMINATED = 143


class Plan(_PlanModel):
    format_version: int = PLAN_FORMAT_VERSION
    plan_id: str = Field(description="Hash of the plan's content (without the timestamp)")
    created_at: dt.datetime
    desired_digest: str = Field(description="Hash of the desired state the plan was made from")
    failed_checks: tuple[FailedCheck, ...] = Field(
        default=(),
        description="Connection checks that failed while observing (credential, GDAP, CIPP)",
    )
    tenants: tuple[TenantPlan, ...]
    accounting: Accounting | None = Field(
        default=None,
        description="What the run cost in the partner tenant (GDAP, CIPP, Partner Center), per "
        "service; outside the plan id, as the tenants' accounting",
    )

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for tenant in self.tenants for op in tenant.operations)

    @property
    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def unknown_areas(self) -> int:
        """How many (tenant, area) pairs could not be observed."""
        return sum(len(t.unknown) for t in self.tenants)

    @property
    def complete(self) -> bool:
        """Everything selected was observed: no failed check, no unknown area."""
        return not self.failed_checks and self.unknown_areas == 0

    @property
    def nothing_observed(self) -> bool:
        """Not one tenant could be read at all (or no tenant was selected to read)."""
        return all(t.observation == "failed" for t in self.tenants)

    @property
    def errored(self) -> bool:
        """A connection check failed, an object could not be planned, or nothing was seen."""
        return (
            bool(self.failed_checks)
            or any(t.problems for t in self.tenants)
            or (bool(self.tenants) and self.nothing_observed)
        )

    @property
    def policy_ok(self) -> bool:
        """No denied operation and no guard exceeded."""
        return not any(
            t.guard_violations or any(op.decision is Decision.DENY for op in t.operations)
            for t in self.tenants
        )

    @property
    def exit_status(self) -> ExitStatus:
        """The one rule every command that plans exits by; see :class:`ExitStatus`."""
        if self.errored or not self.policy_ok:
            return ExitStatus.ERROR
        if self.has_changes or not self.complete:
            return ExitStatus.CHANGES
        return ExitStatus.MATCHES
