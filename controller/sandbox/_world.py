"""The live state of the simulated world, shared by every service (built from a scenario by
:mod:`~controller.sandbox._seed`).

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

from controller.sandbox._catalog import (
    EXCHANGE_APP_ID,
    EXCHANGE_APP_ROLES,
    GRAPH_APP_ID,
    GRAPH_APP_ROLES,
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
    extension_owners: dict[str, str] = field(default_factory=dict)  # name -> creator app id
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
    # CIPP lists the tenant but cannot reach it (its access check fails Graph).
    cipp_lost: bool = False
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
    # Sandbox time the secret starts and ends (its app registration); None in a state saved
    # before the app registration was served.
    secret_starts_at: float | None = None
    secret_ends_at: float | None = None
    secret_key_id: str = "5f3c1d2e-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
    object_id: str = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"  # the application object's id


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
class SecretVersion:
    """One version of a Key Vault secret (times in seconds since 1970, as Key Vault's
    attributes carry them)."""

    version: str
    value: str
    content_type: str | None
    tags: dict[str, str]
    enabled: bool
    created: int
    updated: int
    expires: int | None = None
    not_before: int | None = None


@dataclass(slots=True)
class Vault:
    """The partner tenant's Key Vault. ``authorization``: ``rbac`` (roles such as Key Vault
    Secrets Officer) or ``accessPolicy``; ``secrets_officers``: the client ids that may set and
    get secrets (the partner app, unless a test takes it away)."""

    name: str = "tenantctl-sandbox"
    authorization: str = "rbac"
    secrets_officers: list[str] = field(default_factory=list)
    secrets: dict[str, list[SecretVersion]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vault:
        return cls(
            name=data["name"],
            authorization=data["authorization"],
            secrets_officers=list(data["secrets_officers"]),
            secrets={
                name: [SecretVersion(**v) for v in versions]
                for name, versions in data["secrets"].items()
            },
        )


@dataclass(slots=True)
class World:
    partner: Partner
    settings: Settings
    tenants: dict[str, Tenant]
    token_key: str
    domain_index: dict[str, str] = field(default_factory=dict)  # domain/name -> tenant id
    vault: Vault = field(default_factory=Vault)

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
            "vault": self.vault.to_json(),
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
            vault=Vault.from_json(data["vault"]) if "vault" in data else Vault(),
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
        cipp_lost=data.get("cipp_lost", False),
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
