"""Small builders of desired and observed values for planner tests (no I/O)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from controller.models import TenantConfig
from controller.models.observed import (
    ActionRecord,
    ConsentStatus,
    ExchangeAccess,
    GdapRelationship,
    GdapState,
    MfaRegistration,
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    ObservedTenant,
    ObservedUser,
    PasswordResetAccess,
    Principal,
    RiskyUser,
    Sku,
    Unknown,
)
from controller.models.permissions import (
    GLOBAL_ADMINISTRATOR_ROLE,
    REQUIRED_PERMISSIONS,
    USER_ADMINISTRATOR_ROLE,
)
from controller.plan import Operation, PlanContext, TenantPlan
from controller.plan.planner import plan_tenant

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
APP_ID = "3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
TENANT_ID = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
CTX = PlanContext(
    now=NOW,
    app_id=APP_ID,
    cipp_connected=True,
    default_usage_location="US",
)


def oid(*parts: str) -> str:
    """A deterministic object id (GUID-shaped) for a name."""
    h = hashlib.sha256("/".join(parts).lower().encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def sku_id(part: str) -> str:
    return oid("sku", part)


# --- desired -----------------------------------------------------------------------------------


def tenant(
    name: str = "contoso",
    domains: tuple[str, ...] = ("contoso.com", "contoso.onmicrosoft.com"),
    **spec: Any,
) -> TenantConfig:
    """A tenant file; ``spec`` in the YAML's camelCase."""
    return TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {"name": name, "tenantId": TENANT_ID, "domains": list(domains)},
            "spec": spec,
        }
    )


# --- observed ----------------------------------------------------------------------------------


def user(upn: str, **kw: Any) -> ObservedUser:
    licences = kw.pop("licences", ())
    kw.setdefault("display_name", upn.split("@", maxsplit=1)[0].title())
    kw.setdefault("account_enabled", True)
    return ObservedUser(
        id=oid("user", upn),
        user_principal_name=upn,
        license_sku_ids=frozenset(sku_id(p) for p in licences),
        **kw,
    )


def principal(address: str, kind: str = "user") -> Principal:
    return Principal(id=oid(kind, address), address=address, kind=kind)


def members(*addresses: str) -> tuple[Principal, ...]:
    return tuple(principal(a) for a in addresses)


def group(
    nick: str,
    *member_addresses: str,
    kind: Any = "security",
    display_name: str | None = None,
    description: str | None = None,
    member_list: Any = None,
    gid: str | None = None,
) -> ObservedGroup:
    return ObservedGroup(
        id=gid or oid("group", nick),
        display_name=display_name or nick.title(),
        mail_nickname=nick,
        kind=kind,
        description=description,
        members=member_list if member_list is not None else members(*member_addresses),
    )


def dg(
    address: str,
    *member_addresses: str,
    name: str | None = None,
    display_name: str | None = None,
    member_list: Any = None,
    gid: str | None = None,
) -> ObservedDistributionGroup:
    return ObservedDistributionGroup(
        id=gid or oid("dg", address),
        name=name or address.split("@", maxsplit=1)[0].title(),
        display_name=display_name,
        primary_smtp_address=address,
        members=member_list if member_list is not None else members(*member_addresses),
    )


def mailbox(
    address: str,
    *,
    name: str | None = None,
    display_name: str | None = None,
    full_access: Any = (),
    send_as: Any = (),
    send_on_behalf: Any = (),
) -> ObservedSharedMailbox:
    def holders(value: Any) -> Any:
        return value if isinstance(value, Unknown) else frozenset(a.lower() for a in value)

    return ObservedSharedMailbox(
        id=oid("mailbox", address),
        name=name or address.split("@", maxsplit=1)[0].title(),
        display_name=display_name,
        primary_smtp_address=address,
        full_access=holders(full_access),
        send_as=holders(send_as),
        send_on_behalf=holders(send_on_behalf),
    )


def sku(part: str, enabled: int = 25, consumed: int = 0) -> Sku:
    return Sku(
        sku_id=sku_id(part), sku_part_number=part, enabled_units=enabled, consumed_units=consumed
    )


def gdap(
    ends: dt.datetime | None = None, *, global_admin: bool = True, status: Any = "active"
) -> GdapState:
    ends = ends or NOW + dt.timedelta(days=365)
    roles = frozenset({GLOBAL_ADMINISTRATOR_ROLE} if global_admin else ())
    return GdapState(
        relationships=(GdapRelationship("rel-1", "Northwind GDAP", status, ends, roles),),
        status=status,
        has_global_admin=global_admin,
        has_privileged_role_admin=False,
        ends=ends,
    )


def consent_granted() -> ConsentStatus:
    return ConsentStatus(
        state="granted",
        service_principal_id=oid("sp", "tenantctl"),
        granted=REQUIRED_PERMISSIONS,
        missing=frozenset(),
    )


def consent_partial(*missing: str) -> ConsentStatus:
    return ConsentStatus(
        state="partial",
        service_principal_id=oid("sp", "tenantctl"),
        granted=REQUIRED_PERMISSIONS - set(missing),
        missing=frozenset(missing),
    )


def consent_pending() -> ConsentStatus:
    return ConsentStatus(
        state="pending",
        service_principal_id=None,
        granted=frozenset(),
        missing=REQUIRED_PERMISSIONS,
    )


def exchange_direct() -> ExchangeAccess:
    return ExchangeAccess(
        state="working-direct",
        route="direct",
        role_assigned=True,
        role_propagated=True,
        cipp_manageable=None,
    )


def exchange_cipp() -> ExchangeAccess:
    return ExchangeAccess(
        state="working-cipp",
        route="cipp",
        role_assigned=False,
        role_propagated=None,
        cipp_manageable=True,
    )


def exchange_none(*, can_assign_role: bool = False) -> ExchangeAccess:
    return ExchangeAccess(
        state="pending",
        route=None,
        role_assigned=False,
        role_propagated=None,
        cipp_manageable=False,
        can_assign_role=can_assign_role,
    )


def mfa(upn: str, *, registered: bool = True, capable: bool = True) -> MfaRegistration:
    return MfaRegistration(upn, is_mfa_registered=registered, is_mfa_capable=capable)


def risky(upn: str, level: str, state: str = "atRisk") -> RiskyUser:
    return RiskyUser(upn, risk_level=level, risk_state=state)


def done(action_id: str) -> ActionRecord:
    return ActionRecord(action_id=action_id)


def reset_access(
    *roles: str, admin_targets: frozenset[str] = frozenset(), can_assign: bool = False
) -> PasswordResetAccess:
    """The app's directory roles (User Administrator unless ``roles`` are given)."""
    return PasswordResetAccess(
        app_roles=frozenset(roles or (USER_ADMINISTRATOR_ROLE,)),
        admin_targets=admin_targets,
        can_assign_role=can_assign,
    )


def observed(name: str = "contoso", **areas: Any) -> ObservedTenant:
    """A fully onboarded tenant with nothing in it; ``areas`` override (users=..., ...)."""
    base: dict[str, Any] = {
        "gdap": gdap(),
        "consent": consent_granted(),
        "exchange": exchange_direct(),
        "verified_domains": frozenset({"contoso.com", "contoso.onmicrosoft.com"}),
        "skus": (sku("SPE_E3"), sku("POWER_BI_PRO")),
        "users": (),
        "groups": (),
        "distribution_groups": (),
        "shared_mailboxes": (),
        "mfa": (),
        "risky_users": (),
        "action_ledger": {},
        "password_reset": reset_access(),
    }
    base.update(areas)
    return ObservedTenant(name=name, tenant_id=TENANT_ID, observed_at=NOW, **base)


def plan(desired: TenantConfig, seen: ObservedTenant, ctx: PlanContext = CTX) -> TenantPlan:
    return plan_tenant(desired, seen, ctx)


def kinds(tp: TenantPlan) -> list[tuple[str, str]]:
    """(kind, id suffix after the kind) of every operation, for compact assertions."""
    return [(op.kind.value, op.id.split("/", 2)[2]) for op in tp.operations]


def mirror(desired: TenantConfig) -> ObservedTenant:
    """An observation that equals ``desired`` in substance (for "no change" tests)."""
    spec = desired.spec
    users = []
    for u in spec.users:
        if u.ensure == "absent":
            continue
        users.append(
            user(
                u.user_principal_name,
                display_name=u.display_name,
                given_name=u.given_name,
                surname=u.surname,
                job_title=u.job_title,
                department=u.department,
                account_enabled=True if u.account_enabled is None else u.account_enabled,
                usage_location=u.usage_location or CTX.default_usage_location,
                mail_nickname=u.mail_nickname,
                licences=tuple(u.licenses or ()),
            )
        )
    for p in spec.existing_principals:
        users.append(user(p))
    groups = [
        group(
            g.mail_nickname,
            *(g.members or ()),
            kind=g.type,
            display_name=g.display_name,
            description=g.description,
        )
        for g in spec.groups
        if g.ensure == "present"
    ]
    dgs = [
        dg(d.primary_smtp_address, *(d.members or ()), name=d.name, display_name=d.display_name)
        for d in spec.distribution_groups
        if d.ensure == "present"
    ]
    mailboxes = [
        mailbox(
            m.primary_smtp_address,
            name=m.name,
            display_name=m.display_name,
            full_access=m.full_access or (),
            send_as=m.send_as or (),
            send_on_behalf=m.send_on_behalf or (),
        )
        for m in spec.shared_mailboxes
        if m.ensure == "present"
    ]
    parts = {p for u in spec.users for p in (u.licenses or ())}
    return observed(
        desired.metadata.name,
        verified_domains=frozenset(d.lower() for d in desired.metadata.domains),
        skus=tuple(sku(p) for p in sorted(parts | {"SPE_E3"})),
        users=tuple(users),
        groups=tuple(groups),
        distribution_groups=tuple(dgs),
        shared_mailboxes=tuple(mailboxes),
        action_ledger={a.id: done(a.id) for a in spec.actions},
    )


def params_json(operation: Operation) -> dict[str, Any]:
    """An operation's params as plan JSON writes them."""
    data: dict[str, Any] = operation.params.model_dump(mode="json")
    return data
