"""The live state of the simulated world, built from a scenario and shared by every service.

Login, Graph, Exchange, CIPP and Partner Center all read and write this one object (under one
lock), so a shared mailbox created through CIPP is the one Exchange lists and the disabled user
Graph shows. Times are virtual-clock seconds since the epoch. The state serialises to JSON so a
sandbox can live on between processes (``state_dir``).

Entra facts the model follows:
- shared mailboxes are also (disabled) user objects; distribution groups and mail-enabled
  security groups are also group objects, read-only in Graph;
- objects created at run time become visible to reads only after the replication delay;
- a deleted user is soft-deleted (restorable 30 days) and keeps holding its UPN meanwhile.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from typing import Any

from controller.sandbox import _scenario as sc
from controller.sandbox._catalog import (
    DIRECTORY_ROLES,
    EXCHANGE_ADMINISTRATOR,
    EXCHANGE_APP_ID,
    EXCHANGE_APP_ROLES,
    GRAPH_APP_ID,
    GRAPH_APP_ROLES,
    REQUIRED_EXCHANGE_ROLES,
    REQUIRED_GRAPH_ROLES,
    role_template,
    sku_id,
    stable_id,
)

SOFT_DELETE_RETENTION = 30 * 86400.0
GROUP_KINDS = ("security", "microsoft365", "distribution", "mailEnabledSecurity")


@dataclass(slots=True)
class User:
    id: str
    user_principal_name: str
    display_name: str
    mail_nickname: str
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    usage_location: str | None = None
    account_enabled: bool = True
    mail: str | None = None
    licenses: list[str] = field(default_factory=list)  # skuIds
    disabled_plans: dict[str, list[str]] = field(default_factory=dict)
    mfa_registered: bool = False
    mfa_capable: bool = False
    methods: list[str] = field(default_factory=list)
    risk_level: str = "none"
    risk_updated_at: float = 0.0
    is_admin: bool = False
    created_at: float = 0.0
    visible_at: float = 0.0
    deleted_at: float | None = None
    password_changed_at: float = 0.0
    force_change_password: bool = False
    extensions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Exchange: None (no mailbox), "UserMailbox" or "SharedMailbox".
    recipient_type: str | None = None
    full_access: list[str] = field(default_factory=list)  # user ids
    send_as: list[str] = field(default_factory=list)
    send_on_behalf: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Group:
    id: str
    display_name: str
    mail_nickname: str
    kind: str  # one of GROUP_KINDS
    description: str | None = None
    mail: str | None = None
    members: list[str] = field(default_factory=list)  # object ids, in insertion order
    created_at: float = 0.0
    visible_at: float = 0.0
    deleted_at: float | None = None
    # Exchange's Name of a mail-enabled group when it differs from its display name.
    exchange_name: str | None = None

    @property
    def graph_writable(self) -> bool:
        # Graph cannot write distribution groups or mail-enabled security groups.
        return self.kind in ("security", "microsoft365")


@dataclass(slots=True)
class ServicePrincipal:
    id: str
    app_id: str
    display_name: str
    app_roles: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = 0.0
    visible_at: float = 0.0


@dataclass(slots=True)
class AppRoleAssignment:
    id: str
    principal_id: str
    resource_id: str
    app_role_id: str
    created_at: float = 0.0


@dataclass(slots=True)
class RoleAssignment:
    id: str
    role_definition_id: str
    principal_id: str
    directory_scope_id: str = "/"
    created_at: float = 0.0


@dataclass(slots=True)
class Sku:
    sku_id: str
    sku_part_number: str
    units: int
    reserved: int = 0  # consumed by users outside the scenario


@dataclass(slots=True)
class Gdap:
    id: str
    display_name: str
    status: str
    created_at: float
    end_at: float
    auto_extend: bool
    roles: list[str]


@dataclass(slots=True)
class PendingConsent:
    """A consent queued through CIPP's bulk consent, effective at ``effective_at``."""

    app_id: str
    roles: list[str]
    effective_at: float


@dataclass(slots=True)
class Tenant:
    tenant_id: str
    name: str
    display_name: str
    domains: list[str]
    premium: str
    gdap: Gdap | None
    cipp_manages: bool
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    service_principals: dict[str, ServicePrincipal] = field(default_factory=dict)
    app_role_assignments: list[AppRoleAssignment] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    skus: dict[str, Sku] = field(default_factory=dict)
    pending_consents: list[PendingConsent] = field(default_factory=list)
    # Derived indexes (not persisted): lower-cased UPN -> user id.
    upn_index: dict[str, str] = field(default_factory=dict)

    @property
    def default_domain(self) -> str:
        return self.domains[0]

    @property
    def initial_domain(self) -> str:
        for domain in self.domains:
            if domain.endswith(".onmicrosoft.com"):
                return domain
        return self.domains[0]

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self.upn_index[user.user_principal_name.lower()] = user.id

    def reindex(self) -> None:
        self.upn_index = {u.user_principal_name.lower(): u.id for u in self.users.values()}

    def user_by_upn(self, upn: str) -> User | None:
        uid = self.upn_index.get(upn.lower())
        return self.users.get(uid) if uid else None

    def sp_by_app_id(self, app_id: str) -> ServicePrincipal | None:
        for sp in self.service_principals.values():
            if sp.app_id == app_id:
                return sp
        return None

    def consumed(self, sku: Sku) -> int:
        holders = sum(
            1 for u in self.users.values() if u.deleted_at is None and sku.sku_id in u.licenses
        )
        return holders + sku.reserved


@dataclass(slots=True)
class PartnerApp:
    client_id: str
    display_name: str
    secret: str
    secret_expired: bool
    accept_assertions: bool
    partner_roles: list[str]


@dataclass(slots=True)
class CippApp:
    client_id: str
    secret: str
    role: str


@dataclass(slots=True)
class Partner:
    tenant_id: str
    display_name: str
    domains: list[str]
    app: PartnerApp
    cipp: CippApp | None
    allow_app_only_consent: bool


@dataclass(slots=True)
class Settings:
    """Behaviour knobs persisted with the state; the Sandbox exposes them at run time."""

    replication_delay: float
    exchange_role_propagation: float
    cipp_consent_delay: float
    latency: float
    throttling: bool
    token_lifetime: int
    default_page_size: int
    # The Microsoft cloud the sandbox stands for: "china" serves no Identity Protection and
    # pages at most 500 items (state saved before this knob reads as "global").
    cloud: str = "global"


@dataclass(slots=True)
class World:
    partner: Partner
    settings: Settings
    tenants: dict[str, Tenant]
    token_key: str
    domain_index: dict[str, str] = field(default_factory=dict)  # domain/name -> tenant id

    def reindex(self) -> None:
        self.domain_index = {}
        for tenant in self.tenants.values():
            self.domain_index[tenant.name.lower()] = tenant.tenant_id
            for domain in tenant.domains:
                self.domain_index[domain.lower()] = tenant.tenant_id
            tenant.reindex()

    def tenant(self, key: str) -> Tenant | None:
        """A customer tenant by id, domain or scenario name."""
        found = self.tenants.get(key.lower())
        if found is not None:
            return found
        tid = self.domain_index.get(key.lower())
        return self.tenants.get(tid) if tid else None

    # --- persistence -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "partner": dataclasses.asdict(self.partner),
            "settings": dataclasses.asdict(self.settings),
            "tokenKey": self.token_key,
            "tenants": [_tenant_to_json(t) for t in self.tenants.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> World:
        p = data["partner"]
        partner = Partner(
            **{
                **p,
                "app": PartnerApp(**p["app"]),
                "cipp": CippApp(**p["cipp"]) if p["cipp"] else None,
            }
        )
        world = cls(
            partner=partner,
            settings=Settings(**data["settings"]),
            tenants={t["tenant_id"]: _tenant_from_json(t) for t in data["tenants"]},
            token_key=data["tokenKey"],
        )
        world.reindex()
        return world


def _tenant_to_json(tenant: Tenant) -> dict[str, Any]:
    data = {f.name: getattr(tenant, f.name) for f in dataclasses.fields(tenant)}
    data.pop("upn_index")
    data["gdap"] = dataclasses.asdict(tenant.gdap) if tenant.gdap else None
    for name in ("users", "groups", "service_principals", "skus"):
        data[name] = [dataclasses.asdict(v) for v in getattr(tenant, name).values()]
    for name in ("app_role_assignments", "role_assignments", "pending_consents"):
        data[name] = [dataclasses.asdict(v) for v in getattr(tenant, name)]
    return data


def _tenant_from_json(data: dict[str, Any]) -> Tenant:
    return Tenant(
        tenant_id=data["tenant_id"],
        name=data["name"],
        display_name=data["display_name"],
        domains=data["domains"],
        premium=data["premium"],
        gdap=Gdap(**data["gdap"]) if data["gdap"] else None,
        cipp_manages=data["cipp_manages"],
        users={u["id"]: User(**u) for u in data["users"]},
        groups={g["id"]: Group(**g) for g in data["groups"]},
        service_principals={s["id"]: ServicePrincipal(**s) for s in data["service_principals"]},
        app_role_assignments=[AppRoleAssignment(**a) for a in data["app_role_assignments"]],
        role_assignments=[RoleAssignment(**a) for a in data["role_assignments"]],
        skus={s["sku_id"]: Sku(**s) for s in data["skus"]},
        pending_consents=[PendingConsent(**c) for c in data["pending_consents"]],
    )


# --- building the world from a scenario ---------------------------------------------------


def resource_app_roles(names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": role_id,
            "value": value,
            "displayName": value,
            "description": f"Allows the app to {value} without a signed-in user.",
            "allowedMemberTypes": ["Application"],
            "isEnabled": True,
            "origin": "Application",
        }
        for value, role_id in names.items()
    ]


def resource_principals(tenant_id: str, now: float) -> list[ServicePrincipal]:
    """The Microsoft Graph and Exchange Online service principals every tenant has."""
    return [
        ServicePrincipal(
            id=stable_id(tenant_id, "sp", app_id),
            app_id=app_id,
            display_name=name,
            app_roles=resource_app_roles(roles),
            created_at=now - 86400 * 1000,
        )
        for app_id, name, roles in (
            (GRAPH_APP_ID, "Microsoft Graph", GRAPH_APP_ROLES),
            (EXCHANGE_APP_ID, "Office 365 Exchange Online", EXCHANGE_APP_ROLES),
        )
    ]


def seed_resource_principals(tenant: Tenant, now: float) -> None:
    """Every tenant has the Microsoft Graph and Exchange Online service principals."""
    for sp in resource_principals(tenant.tenant_id, now):
        tenant.service_principals[sp.id] = sp


def role_resource(name: str) -> tuple[str, str] | None:
    """(resource app id, app role id) for a permission name, or None if unknown."""
    if name in GRAPH_APP_ROLES:
        return GRAPH_APP_ID, GRAPH_APP_ROLES[name]
    if name in EXCHANGE_APP_ROLES:
        return EXCHANGE_APP_ID, EXCHANGE_APP_ROLES[name]
    return None


def grant_app_roles(
    tenant: Tenant, principal: ServicePrincipal, names: list[str], now: float
) -> list[str]:
    """Assign app roles (by permission name) to ``principal``; returns the names granted."""
    granted: list[str] = []
    for name in names:
        found = role_resource(name)
        if found is None:
            continue
        resource = tenant.sp_by_app_id(found[0])
        if resource is None:
            continue
        if any(
            a.principal_id == principal.id and a.app_role_id == found[1]
            for a in tenant.app_role_assignments
        ):
            continue
        tenant.app_role_assignments.append(
            AppRoleAssignment(
                id=secrets.token_urlsafe(32)[:43],
                principal_id=principal.id,
                resource_id=resource.id,
                app_role_id=found[1],
                created_at=now,
            )
        )
        granted.append(name)
    return granted


def create_app_principal(
    tenant: Tenant, app_id: str, display_name: str, now: float, visible_at: float
) -> ServicePrincipal:
    sp = ServicePrincipal(
        id=stable_id(tenant.tenant_id, "sp", app_id),
        app_id=app_id,
        display_name=display_name,
        created_at=now,
        visible_at=visible_at,
    )
    tenant.service_principals[sp.id] = sp
    return sp


def build_world(scenario: sc.Scenario, now: float) -> World:
    b = scenario.behaviour
    p = scenario.partner
    partner = Partner(
        tenant_id=p.tenant_id.lower(),
        display_name=p.display_name,
        domains=list(p.domains),
        app=PartnerApp(
            client_id=p.app.client_id.lower(),
            display_name=p.app.display_name,
            secret=p.app.secret,
            secret_expired=p.app.secret_expired,
            accept_assertions=p.app.accept_assertions,
            partner_roles=list(p.app.partner_roles),
        ),
        cipp=CippApp(client_id=p.cipp.client_id.lower(), secret=p.cipp.secret, role=p.cipp.role)
        if p.cipp
        else None,
        allow_app_only_consent=p.partner_center.allow_app_only_consent,
    )
    settings = Settings(
        replication_delay=b.replication_delay_seconds,
        exchange_role_propagation=b.exchange_role_propagation_seconds,
        cipp_consent_delay=b.cipp_consent_delay_seconds,
        latency=b.latency_seconds,
        throttling=b.throttling,
        token_lifetime=b.token_lifetime_seconds,
        default_page_size=b.default_page_size,
        cloud=b.cloud,
    )
    manages = p.cipp.manages if p.cipp else []
    tenants: dict[str, Tenant] = {}
    for spec in scenario.tenants:
        tenant = _build_tenant(spec, partner, manages, now)
        tenants[tenant.tenant_id] = tenant
    world = World(
        partner=partner, settings=settings, tenants=tenants, token_key=secrets.token_hex(32)
    )
    world.reindex()
    return world


def _build_tenant(
    spec: sc.Tenant, partner: Partner, manages: list[str] | str, now: float
) -> Tenant:
    tid = spec.tenant_id.lower()
    gdap = None
    if spec.gdap is not None:
        gdap = Gdap(
            id=stable_id(tid, "gdap") + "-" + stable_id(tid, "gdap2"),
            display_name=f"{spec.name}-tenantctl",
            status=spec.gdap.status,
            created_at=now - 86400 * 30,
            end_at=now + spec.gdap.ends_in_days * 86400,
            auto_extend=spec.gdap.auto_extend,
            roles=[role_template(r) for r in spec.gdap.roles],
        )
    cipp_manages = (manages == "all" and gdap is not None and gdap.status == "active") or any(
        m.lower() in (spec.name.lower(), tid) for m in manages if manages != "all"
    )
    tenant = Tenant(
        tenant_id=tid,
        name=spec.name,
        display_name=spec.display_name,
        domains=list(spec.domains),
        premium=spec.premium,
        gdap=gdap,
        cipp_manages=cipp_manages,
    )
    long_ago = now - 86400 * 400
    seed_resource_principals(tenant, now)
    for sku in spec.skus:
        sid = (sku.sku_id or sku_id(sku.sku_part_number)).lower()
        tenant.skus[sid] = Sku(sku_id=sid, sku_part_number=sku.sku_part_number, units=sku.units)
    part_to_id = {s.sku_part_number: s.sku_id for s in tenant.skus.values()}

    for u in spec.users:
        upn = u.user_principal_name
        licences = [part_to_id[name] for name in u.licenses if name in part_to_id]
        tenant.add_user(
            User(
                id=(u.id or stable_id(tid, "user", upn.lower())).lower(),
                user_principal_name=upn,
                display_name=u.display_name or upn.split("@")[0],
                mail_nickname=upn.split("@")[0],
                given_name=u.given_name,
                surname=u.surname,
                job_title=u.job_title,
                department=u.department,
                usage_location=u.usage_location,
                account_enabled=u.account_enabled,
                mail=upn if licences else None,
                licenses=licences,
                mfa_registered=u.mfa.registered,
                mfa_capable=u.mfa.capable,
                methods=list(u.mfa.methods)
                if u.mfa.methods is not None
                else (["microsoftAuthenticatorPush"] if u.mfa.registered else []),
                risk_level=u.risk_level,
                risk_updated_at=long_ago,
                is_admin=u.is_admin,
                created_at=long_ago,
                recipient_type="UserMailbox" if licences else None,
            )
        )
    for live in tenant.skus.values():
        spec_sku = next(s for s in spec.skus if s.sku_part_number == live.sku_part_number)
        holders = tenant.consumed(live)
        if spec_sku.consumed is not None and spec_sku.consumed > holders:
            live.reserved = spec_sku.consumed - holders

    def ids(upns: list[str]) -> list[str]:
        out = []
        for upn in upns:
            user = tenant.user_by_upn(upn)
            if user is None:
                raise ValueError(f"tenant {spec.name}: {upn} is not a user of the scenario")
            out.append(user.id)
        return out

    for g in spec.groups:
        gid = (g.id or stable_id(tid, "group", g.mail_nickname.lower())).lower()
        unified = g.type == "microsoft365"
        tenant.groups[gid] = Group(
            id=gid,
            display_name=g.display_name,
            mail_nickname=g.mail_nickname,
            kind=g.type,
            description=g.description,
            mail=f"{g.mail_nickname}@{tenant.default_domain}" if unified else None,
            members=ids(g.members),
            created_at=long_ago,
        )
    for dg in spec.distribution_groups:
        gid = stable_id(tid, "dg", dg.primary_smtp_address.lower())
        tenant.groups[gid] = Group(
            id=gid,
            display_name=dg.display_name or dg.name,
            mail_nickname=dg.primary_smtp_address.split("@")[0],
            kind=dg.type,
            mail=dg.primary_smtp_address,
            members=ids(dg.members),
            created_at=long_ago,
        )
    for mb in spec.shared_mailboxes:
        uid = stable_id(tid, "user", mb.primary_smtp_address.lower())
        tenant.add_user(
            User(
                id=uid,
                user_principal_name=mb.primary_smtp_address,
                display_name=mb.display_name or mb.name,
                mail_nickname=mb.primary_smtp_address.split("@")[0],
                account_enabled=False,
                mail=mb.primary_smtp_address,
                created_at=long_ago,
                recipient_type="SharedMailbox",
                full_access=ids(mb.full_access),
                send_as=ids(mb.send_as),
                send_on_behalf=ids(mb.send_on_behalf),
            )
        )

    if spec.app.service_principal:
        sp = create_app_principal(tenant, partner.app.client_id, partner.app.display_name, 0, 0)
        sp.created_at = long_ago
        roles = (
            [*REQUIRED_GRAPH_ROLES, *REQUIRED_EXCHANGE_ROLES]
            if spec.app.roles == "all"
            else list(spec.app.roles)
        )
        grant_app_roles(tenant, sp, roles, long_ago)
        if spec.app.exchange_administrator is not None:
            assigned = now - spec.app.exchange_administrator.assigned_minutes_ago * 60
            tenant.role_assignments.append(
                RoleAssignment(
                    id=stable_id(tid, "roleassignment", sp.id),
                    role_definition_id=EXCHANGE_ADMINISTRATOR,
                    principal_id=sp.id,
                    created_at=assigned,
                )
            )
        for role in spec.app.directory_roles:
            template = role_template(role)
            tenant.role_assignments.append(
                RoleAssignment(
                    id=stable_id(tid, "roleassignment", sp.id, template),
                    role_definition_id=template,
                    principal_id=sp.id,
                    created_at=long_ago,
                )
            )
    for user in tenant.users.values():
        if user.is_admin:
            tenant.role_assignments.append(
                RoleAssignment(
                    id=stable_id(tid, "roleassignment", user.id),
                    role_definition_id=DIRECTORY_ROLES["Global Administrator"],
                    principal_id=user.id,
                    created_at=long_ago,
                )
            )
    return tenant
