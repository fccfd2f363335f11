"""What observe saw in one tenant: the planner's second input.

Pure data, no I/O. Every area is either a value or :class:`Unknown` with the reason it could
not be read. **Unknown is never absent**: a failed read must never look like an empty list,
so the planner plans nothing that depends on an unknown area (no create, no delete, no member
removal) and says why.

Matching keys are normalised here once (``key`` properties, lowercase), so the planner compares
like with like: users by userPrincipalName, Entra groups by mailNickname, Exchange objects by
primary SMTP address, members and permission holders by address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, TypeAlias, TypeVar

from controller.models.ledger import ActionState

T = TypeVar("T")
C = TypeVar("C", bound=type)


def _pickled_by_constructor(cls: C) -> C:
    """Pickle ``cls`` (a frozen, slotted dataclass) as its constructor's arguments.

    Observations cross a pipe from each observing worker (``reconcile/_workers.py``): 10,000
    users and their groups per 200 tenants. Python 3.11's own pickling of a frozen slotted
    dataclass calls :func:`dataclasses.fields` for every object, both ways (0.18 s to pickle
    and 0.39 s to unpickle 200 observed tenants); rebuilding through the constructor takes
    about half of that, and the object is the one the constructor would make."""
    own = fields(cls)
    names = tuple(f.name for f in own)
    if any(not f.init or f.kw_only for f in own):  # pragma: no cover - a class error
        raise TypeError(f"{cls.__name__}: every field must be a positional __init__ argument")

    def reduce(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, tuple([getattr(self, name) for name in names])

    setattr(cls, "__reduce__", reduce)  # noqa: B010 - mypy refuses assigning a method
    return cls


UnknownCode = Literal[
    "consentMissing",  # the app has no service principal in the tenant
    "permissionDenied",  # the app lacks a permission or role for this read
    "propagating",  # the Exchange role is assigned but not effective yet
    "needsLicence",  # the tenant lacks Entra ID P1/P2 for this report
    "notAvailable",  # the service does not exist in this cloud (risky users in China)
    "throttled",  # still throttled after retries
    "unavailable",  # 5xx, timeout, dropped connection after retries
    "notManaged",  # no route: Exchange mode none/unmanaged, or no CIPP and no role
    "notVisibleYet",  # an earlier create was interrupted: the object may exist unlisted
    "error",  # anything else
]


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class Unknown:
    """An area that could not be observed. ``reason`` is written for the MSP engineer."""

    code: UnknownCode
    reason: str


Observed: TypeAlias = T | Unknown


# --- onboarding ----------------------------------------------------------------------------

GdapStatus = Literal["active", "expiring", "expired", "approvalPending", "terminated", "none"]


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class GdapRelationship:
    id: str
    display_name: str
    status: str  # as Graph reports it: active, approvalPending, expiring, expired, terminated...
    end: dt.datetime | None
    role_ids: frozenset[str]  # roleDefinitionIds (template ids)
    auto_extend: bool = False


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class GdapState:
    relationships: tuple[GdapRelationship, ...]
    status: GdapStatus  # summary over the relationships, "expiring" within 30 days of end
    has_global_admin: bool
    has_privileged_role_admin: bool
    ends: dt.datetime | None = None  # the latest end among active relationships


ConsentState = Literal["granted", "partial", "pending"]


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ConsentStatus:
    state: ConsentState
    service_principal_id: str | None
    granted: frozenset[str]  # permission names, e.g. "User.ReadWrite.All", "Exchange.ManageAsApp"
    missing: frozenset[str]


ExchangeState = Literal["pending", "propagating", "working-direct", "working-cipp", "not-managed"]
ExchangeRoute = Literal["direct", "cipp"]


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ExchangeAccess:
    state: ExchangeState
    route: ExchangeRoute | None  # the backend Exchange objects were read through / go through
    role_assigned: bool | None  # the app's SP holds Exchange Administrator (None: unknown)
    role_propagated: bool | None  # Exchange accepted our calls (None: not tried)
    cipp_manageable: bool | None  # CIPP reports it can manage the tenant (None: no CIPP)
    can_assign_role: bool = False  # the app holds RoleManagement.ReadWrite.Directory


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class PasswordResetAccess:
    """What decides whether the app may reset passwords app-only in the tenant: the directory
    roles its service principal holds (it needs at least User Administrator; Privileged
    Authentication Administrator for a target that holds a directory role itself)."""

    app_roles: frozenset[str]  # role template ids (lowercase) held by the app's service principal
    admin_targets: frozenset[str]  # ids of the actions' target users who hold a directory role
    can_assign_role: bool = False  # the app holds RoleManagement.ReadWrite.Directory


# --- directory ------------------------------------------------------------------------------


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class Sku:
    sku_id: str
    sku_part_number: str
    enabled_units: int
    consumed_units: int

    @property
    def free_units(self) -> int:
        return self.enabled_units - self.consumed_units


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class Principal:
    """A member or permission holder as the service reports it."""

    id: str
    address: str | None  # UPN for users, primary SMTP for mail objects; None if it has none
    display_name: str | None = None
    kind: str = "user"  # user | group | mailbox | servicePrincipal | device | other

    @property
    def key(self) -> str | None:
        return self.address.lower() if self.address else None


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ObservedUser:
    id: str
    user_principal_name: str
    display_name: str | None
    mail_nickname: str | None = None
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    account_enabled: bool | None = None
    usage_location: str | None = None
    license_sku_ids: frozenset[str] = frozenset()
    mail: str | None = None

    @property
    def key(self) -> str:
        return self.user_principal_name.lower()


GroupKind = Literal["security", "microsoft365", "distribution", "mailEnabledSecurity"]


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ObservedGroup:
    """An Entra group. ``members`` is None when not read (the group is not declared)."""

    id: str
    display_name: str | None
    mail_nickname: str | None
    kind: GroupKind
    description: str | None = None
    members: Observed[tuple[Principal, ...]] | None = None

    @property
    def key(self) -> str | None:
        return self.mail_nickname.lower() if self.mail_nickname else None


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ObservedDistributionGroup:
    id: str  # Exchange identity (ExternalDirectoryObjectId or Guid)
    name: str
    display_name: str | None
    primary_smtp_address: str
    alias: str | None = None
    members: Observed[tuple[Principal, ...]] | None = None

    @property
    def key(self) -> str:
        return self.primary_smtp_address.lower()


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ObservedSharedMailbox:
    id: str
    name: str
    display_name: str | None
    primary_smtp_address: str
    alias: str | None = None
    # Holders by lowercase address. None when not read (not declared).
    full_access: Observed[frozenset[str]] | None = None
    send_as: Observed[frozenset[str]] | None = None
    send_on_behalf: Observed[frozenset[str]] | None = None

    @property
    def key(self) -> str:
        return self.primary_smtp_address.lower()


# --- security checks -------------------------------------------------------------------------


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class MfaRegistration:
    user_principal_name: str
    is_mfa_registered: bool
    is_mfa_capable: bool
    is_admin: bool = False


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class RiskyUser:
    user_principal_name: str
    risk_level: str  # none | low | medium | high | hidden
    risk_state: str


# --- the tenant ----------------------------------------------------------------------------


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class ActionRecord:
    """A one-shot action the ledger on its user knows: ``started`` (it may have run: an apply
    began it and did not record the end) or ``done``."""

    action_id: str
    state: ActionState = ActionState.DONE


@_pickled_by_constructor
@dataclass(frozen=True, slots=True)
class EarlierCreate:
    """A create an earlier apply called and never saw answered (killed, or cancelled at its
    deadline), from the journal: the object may exist while no list shows it yet (directory
    replication). ``found``: what a direct lookup by the natural key said (True: it exists;
    False: nothing; None: not looked up, or the lookup failed)."""

    kind: str  # the create's operation kind, e.g. "user.create"
    key: str  # the natural key, lowercase: UPN, mailNickname or primary SMTP address
    intent_at: dt.datetime
    run_id: int
    found: bool | None = None


def _unknown(reason: str = "not observed") -> Unknown:
    return Unknown("error", reason)


@dataclass(frozen=True)
class ObservedTenant:
    """Everything observe learnt about one tenant, area by area."""

    name: str
    tenant_id: str
    observed_at: dt.datetime
    gdap: Observed[GdapState] = field(default_factory=_unknown)
    consent: Observed[ConsentStatus] = field(default_factory=_unknown)
    exchange: Observed[ExchangeAccess] = field(default_factory=_unknown)
    verified_domains: Observed[frozenset[str]] = field(default_factory=_unknown)  # lowercase
    skus: Observed[tuple[Sku, ...]] = field(default_factory=_unknown)
    users: Observed[tuple[ObservedUser, ...]] = field(default_factory=_unknown)
    groups: Observed[tuple[ObservedGroup, ...]] = field(default_factory=_unknown)
    distribution_groups: Observed[tuple[ObservedDistributionGroup, ...]] = field(
        default_factory=_unknown
    )
    shared_mailboxes: Observed[tuple[ObservedSharedMailbox, ...]] = field(default_factory=_unknown)
    mfa: Observed[tuple[MfaRegistration, ...]] = field(default_factory=_unknown)
    risky_users: Observed[tuple[RiskyUser, ...]] = field(default_factory=_unknown)
    # Action id -> record, read from the targets' open extensions.
    action_ledger: Observed[Mapping[str, ActionRecord]] = field(default_factory=_unknown)
    # Read for the one-shot actions only: an area of its own in no summary (a tenant without
    # actions is not "partial" because the app's directory roles could not be read).
    password_reset: Observed[PasswordResetAccess] = field(default_factory=_unknown)
    # Free-form notes observe wants the plan to show (e.g. CIPP access-check errors).
    notes: tuple[str, ...] = ()
    # Creates the journal says were interrupted, with what a direct lookup found.
    earlier_creates: tuple[EarlierCreate, ...] = ()

    @classmethod
    def unreachable(
        cls, name: str, tenant_id: str, observed_at: dt.datetime, unknown: Unknown
    ) -> ObservedTenant:
        """A tenant of which nothing could be read: every area is ``unknown``."""
        return cls(
            name=name,
            tenant_id=tenant_id,
            observed_at=observed_at,
            gdap=unknown,
            consent=unknown,
            exchange=unknown,
            verified_domains=unknown,
            skus=unknown,
            users=unknown,
            groups=unknown,
            distribution_groups=unknown,
            shared_mailboxes=unknown,
            mfa=unknown,
            risky_users=unknown,
            action_ledger=unknown,
            password_reset=unknown,
        )

    def unknown_areas(self) -> dict[str, Unknown]:
        """Area name -> why it is unknown, for the plan's observation status."""
        areas = {
            "gdap": self.gdap,
            "consent": self.consent,
            "exchange": self.exchange,
            "domains": self.verified_domains,
            "licences": self.skus,
            "users": self.users,
            "groups": self.groups,
            "distributionGroups": self.distribution_groups,
            "sharedMailboxes": self.shared_mailboxes,
            "mfa": self.mfa,
            "riskyUsers": self.risky_users,
            "actionLedger": self.action_ledger,
        }
        return {name: value for name, value in areas.items() if isinstance(value, Unknown)}
