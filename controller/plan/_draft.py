"""The working state of one tenant's plan while the planner's steps fill it in.

Each step (onboarding, users, groups, Exchange objects, actions, checks) adds operations,
problems, unknown areas, findings and notes here, and records what later steps need: which
addresses are created by this plan (members then depend on the create), which are held back
(members then cannot be resolved), the observed objects by matching key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.models import OperationKind, TenantConfig
from controller.models.observed import (
    ObservedDistributionGroup,
    ObservedSharedMailbox,
    ObservedTenant,
    ObservedUser,
    Unknown,
    UnknownCode,
)
from controller.plan.context import PlanContext
from controller.plan.fingerprint import fingerprint
from controller.plan.inventory import Ambiguous, Found, Inventory
from controller.plan.params import OperationParams
from controller.plan.types import (
    Backend,
    FieldChange,
    Finding,
    ManualStep,
    Operation,
    Problem,
    Severity,
    UnknownArea,
)

ObservedExchangeObject = ObservedDistributionGroup | ObservedSharedMailbox

# The order operations are listed in: onboarding first, then objects by section, each object's
# operations together (create before its members, update before licences). Apply orders by
# ``depends_on``; this order is for people reading the plan.
SECTION_ONBOARDING = 0
SECTION_USERS = 1
SECTION_GROUPS = 2
SECTION_DISTRIBUTION_GROUPS = 3
SECTION_SHARED_MAILBOXES = 4
SECTION_ACTIONS = 5
_KIND_RANK = {kind: rank for rank, kind in enumerate(OperationKind)}


@dataclass(frozen=True, slots=True)
class Resolved:
    """A member or permission holder the planner can name to apply."""

    address: str  # lowercase key
    id: str | None  # the object id when it exists; None when this plan creates it
    created_by: str | None  # the create operation's id when this plan creates it


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why a member or permission holder cannot be named: ``unknown`` when a read failed (an
    unknown entry), else the tenant lacks it or it is held by a problem (a problem entry)."""

    reason: str
    unknown: bool = False


@dataclass
class TenantDraft:
    desired: TenantConfig
    observed: ObservedTenant
    ctx: PlanContext

    problems: list[Problem] = field(default_factory=list)
    unknown: dict[str, UnknownArea] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _ops: list[tuple[tuple[int, str, int, str], Operation]] = field(default_factory=list)

    # Learnt by earlier steps, used by later ones.
    users: Inventory[ObservedUser] | None = None  # by UPN; None: users unknown
    # Distribution groups and shared mailboxes together: they share one address space.
    exchange_objects: Inventory[ObservedExchangeObject] = field(
        default_factory=lambda: Inventory({})
    )
    created: dict[str, str] = field(default_factory=dict)  # address -> create op id
    held: dict[str, str] = field(default_factory=dict)  # address -> why not planned
    # Addresses whose earlier create may not be visible yet -> why (unknown, not absent).
    not_visible_yet: dict[str, str] = field(default_factory=dict)
    # Addresses in use by observed objects (UPN, mail, primary SMTP) -> what uses them.
    address_owners: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.desired.metadata.name

    @property
    def tenant_id(self) -> str:
        return self.desired.metadata.tenant_id

    # --- recording ------------------------------------------------------------------------

    def add(
        self,
        params: OperationParams,
        target: str,
        key: str,
        backend: Backend,
        *,
        section: int,
        reason: str,
        desired: Mapping[str, Any],
        observed: Mapping[str, Any],
        changes: Iterable[FieldChange] = (),
        depends_on: Iterable[str | None] = (),
        manual: ManualStep | None = None,
    ) -> str:
        """Add one operation, of the kind of its ``params``; returns its id
        (``tenant/kind/key``)."""
        kind = params.kind
        op_id = f"{self.name}/{kind.value}/{key}"
        op = Operation(
            id=op_id,
            tenant=self.name,
            tenant_id=self.tenant_id,
            kind=kind,
            target=target,
            backend=backend,
            changes=tuple(changes),
            params=params,
            depends_on=tuple(sorted({d for d in depends_on if d})),
            reason=reason,
            fingerprint=fingerprint(self.tenant_id, kind, target, desired, observed),
            manual=manual,
        )
        self._ops.append(((section, target, _KIND_RANK[kind], op_id), op))
        return op_id

    def add_delete(
        self,
        params: OperationParams,
        target: str,
        key: str,
        backend: Backend,
        *,
        section: int,
        existing_id: str,
        note: str | None = None,
        manual: ManualStep | None = None,
    ) -> str:
        """Delete an object declared ``ensure: absent``. Fingerprinted on the id of the object
        found, so an approval goes stale when the key comes to name another object."""
        return self.add(
            params,
            target,
            key,
            backend,
            section=section,
            reason="declared ensure: absent" + (f" ({note})" if note else ""),
            desired={"ensure": "absent"},
            observed={"id": existing_id},
            changes=[FieldChange(field="exists", before=True, after=False)],
            manual=manual,
        )

    def operations(self) -> tuple[Operation, ...]:
        ids = [op.id for _, op in self._ops]
        if len(ids) != len(set(ids)):  # a planner bug, never the operator's
            raise AssertionError(f"duplicate operation ids in {self.name}")
        return tuple(op for _, op in sorted(self._ops, key=lambda item: item[0]))

    def earlier_create_may_exist(self, kind: OperationKind, key: str, area: str) -> bool:
        """Whether an interrupted create of this object (the journal's evidence) forbids
        creating it now: yes until the replication window has passed since that intent and a
        direct lookup by key found nothing; then the create may be made again. When it may
        exist, ``area`` is unknown ("may not be visible yet") and members naming ``key`` wait."""
        earlier = [
            e
            for e in self.observed.earlier_creates
            if e.kind == kind.value and e.key == key.lower()
        ]
        if not earlier:
            return False
        latest = max(earlier, key=lambda e: e.intent_at)
        settled = latest.intent_at + self.ctx.replication_window
        if latest.found is False and self.ctx.now >= settled:
            return False  # proof that it does not exist: create it
        seen = "a lookup by key finds it" if latest.found else "no list or lookup shows it yet"
        reason = (
            f"an earlier create may not be visible yet: run {latest.run_id} called {kind.value} "
            f"{key} at {latest.intent_at:%Y-%m-%dT%H:%M:%SZ} and was stopped before the answer; "
            f"{seen}. Not created again before {settled:%Y-%m-%dT%H:%M:%SZ}, and then only if "
            "a lookup by key still finds nothing: run apply again later"
        )
        self.mark_unknown(area, code="notVisibleYet", reason=reason)
        self.not_visible_yet[key.lower()] = reason
        return True

    def problem(self, subject: str, message: str) -> None:
        self.problems.append(Problem(subject=subject, message=message))

    def mark_unknown(self, area: str, unknown: Unknown | None = None, **kw: str) -> None:
        """Record that ``area`` could not be observed (``unknown``, or ``code``/``reason``)."""
        code: UnknownCode | str = unknown.code if unknown else kw["code"]
        reason = unknown.reason if unknown else kw["reason"]
        self.unknown.setdefault(area, UnknownArea(area=area, code=code, reason=reason))

    def finding(self, check: str, severity: Severity, subject: str, message: str) -> None:
        self.findings.append(
            Finding(check=check, severity=severity, subject=subject, message=message)
        )

    # --- resolving members and permission holders -------------------------------------------

    def is_ambiguous(self, address: str) -> bool:
        """Does ``address`` find two or more users, or two or more Exchange objects?"""
        return any(
            isinstance(objects.match(address), Ambiguous)
            for objects in (self.users, self.exchange_objects)
            if objects is not None
        )

    def resolve(self, address: str, *, recipients: bool) -> Resolved | Unresolved:
        """An address as apply needs it, or why it cannot be named.

        ``recipients``: distribution groups and shared mailboxes count too (Exchange members
        and permission holders); Entra group members are users only.
        """
        if address in self.held:
            return Unresolved(self.held[address])
        if address in self.not_visible_yet:
            return Unresolved(self.not_visible_yet[address], unknown=True)
        if self.is_ambiguous(address):
            return Unresolved(f"{address} matches more than one object in the tenant")
        if address in self.created:
            return Resolved(address, None, self.created[address])
        user = self.users.match(address) if self.users is not None else None
        if isinstance(user, Found):
            return Resolved(address, user.observed.id, None)
        recipient = self.exchange_objects.match(address) if recipients else None
        if isinstance(recipient, Found):
            return Resolved(address, recipient.observed.id, None)
        if self.users is None:
            return Unresolved(
                f"{address} cannot be resolved while the tenant's users are unknown", unknown=True
            )
        return Unresolved(
            f"{address} is not in the tenant: declare it, or fix spec.existingPrincipals "
            "if it was renamed or removed"
        )

    def resolve_or_hold(
        self, address: str, *, recipients: bool, area: str, subject: str, cannot: str
    ) -> Resolved | None:
        """:meth:`resolve`, or None once it is said why not: ``area`` is unknown when a read
        failed, else ``subject`` gets the problem "``cannot`` <why>"."""
        resolved = self.resolve(address, recipients=recipients)
        if not isinstance(resolved, Unresolved):
            return resolved
        if resolved.unknown:
            self.mark_unknown(area, code="error", reason=resolved.reason)
        else:
            self.problem(subject, f"{cannot} {resolved.reason}")
        return None
