"""Scenarios: the YAML description of the world the sandbox serves.

A scenario is data (pydantic models, camelCase keys, unknown keys rejected). It is turned into
live state by :mod:`controller.sandbox._world`. The format is documented in ``README.md`` beside
this file; ``scenarios/default.yaml`` is the world behind the ``desired/`` demo estate.
"""

from __future__ import annotations

import random
import uuid
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from controller.errors import UsageError
from controller.sandbox._clock import DEFAULT_EPOCH

Premium = Literal["none", "P1", "P2"]
RiskLevel = Literal["none", "low", "medium", "high", "hidden"]
GdapStatus = Literal[
    "active", "approvalPending", "activating", "expiring", "expired", "terminated", "terminating"
]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class Behaviour(_Model):
    """Delays and knobs; every one can also be changed at run time on the Sandbox."""

    replication_delay_seconds: float = 3.0
    exchange_role_propagation_seconds: float = 2700.0
    cipp_consent_delay_seconds: float = 60.0
    latency_seconds: float = 0.0
    throttling: bool = True
    token_lifetime_seconds: int = 3600
    # Page size Graph uses when the client gives no $top (Graph's default is 100).
    default_page_size: int = 100
    # Which Microsoft cloud Graph behaves as: in "china" (21Vianet) Identity Protection is not
    # available and $top is at most 500.
    cloud: Literal["global", "usgov-high", "usgov-dod", "china"] = "global"


class PartnerApp(_Model):
    client_id: str
    display_name: str = "tenantctl"
    secret: str
    secret_expired: bool = False
    # When the secret ends, counted from the world's start (the app registration's
    # passwordCredentials[].endDateTime); Entra lets a secret live at most two years.
    secret_ends_in_days: float = 365.0
    # Accept client assertions (certificate or federated credentials) whose iss/sub are the
    # client id; the signature is not verified (the sandbox has no key material of yours).
    accept_assertions: bool = True
    # App roles the app holds in the partner tenant itself (GDAP reads need the first).
    partner_roles: list[str] = Field(
        default_factory=lambda: ["DelegatedAdminRelationship.Read.All", "Directory.Read.All"]
    )


class CippApp(_Model):
    client_id: str
    secret: str
    role: Literal["readonly", "editor", "admin"] = "admin"
    # Tenant names or ids that CIPP can manage; "all" for every customer with active GDAP.
    manages: list[str] | Literal["all"] = "all"
    # Tenant names or ids that CIPP lists but cannot reach: its access check answers
    # GraphStatus false (its own app lost its consent there), and its endpoints fail for them.
    lost: list[str] = Field(default_factory=list)


class PartnerCenterBehaviour(_Model):
    # Partner Center documents applicationconsents with App+User tokens only; the sandbox only
    # issues app-only tokens, so it refuses them unless a scenario says otherwise.
    allow_app_only_consent: bool = False


class Partner(_Model):
    tenant_id: str
    display_name: str = "Partner"
    domains: list[str] = Field(default_factory=lambda: ["partner.onmicrosoft.com"])
    app: PartnerApp
    cipp: CippApp | None = None
    partner_center: PartnerCenterBehaviour = Field(default_factory=PartnerCenterBehaviour)


class Gdap(_Model):
    status: GdapStatus = "active"
    ends_in_days: float = 365.0
    auto_extend: bool = False
    # Role names (as in the catalogue) or role template ids.
    roles: list[str] = Field(
        default_factory=lambda: [
            "Exchange Administrator",
            "User Administrator",
            "Groups Administrator",
            "License Administrator",
            "Privileged Role Administrator",
        ]
    )


class ExchangeRole(_Model):
    """The Exchange Administrator directory role on the app's service principal."""

    # Minutes before the scenario starts that the role was assigned. 0 = just now, so it is
    # still propagating for ``exchangeRolePropagationSeconds``.
    assigned_minutes_ago: float = 525600.0


class AppConsent(_Model):
    service_principal: bool = True
    # "all" = every required permission; or a list of permission names (Graph and Exchange).
    roles: list[str] | Literal["all"] = "all"
    exchange_administrator: ExchangeRole | None = None
    # Other directory roles (names as in the catalogue, or template ids) the app's service
    # principal holds, e.g. User Administrator, which password resets need.
    directory_roles: list[str] = Field(default_factory=list)


class Sku(_Model):
    sku_part_number: str
    sku_id: str | None = None
    units: int
    # Units consumed at start. Users of the scenario holding the SKU count; any excess stands
    # for users outside the scenario.
    consumed: int | None = None


class Mfa(_Model):
    registered: bool = True
    capable: bool = True
    methods: list[str] | None = None


class User(_Model):
    user_principal_name: str
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    usage_location: str | None = None
    account_enabled: bool = True
    licenses: list[str] = Field(default_factory=list)
    mfa: Mfa = Field(default_factory=Mfa)
    risk_level: RiskLevel = "none"
    is_admin: bool = False
    id: str | None = None


class Group(_Model):
    display_name: str
    mail_nickname: str
    type: Literal["security", "microsoft365"] = "security"
    description: str | None = None
    members: list[str] = Field(default_factory=list)
    id: str | None = None


class DistributionGroup(_Model):
    name: str
    primary_smtp_address: str
    display_name: str | None = None
    type: Literal["distribution", "mailEnabledSecurity"] = "distribution"
    members: list[str] = Field(default_factory=list)


class SharedMailbox(_Model):
    name: str
    primary_smtp_address: str
    display_name: str | None = None
    full_access: list[str] = Field(default_factory=list)
    send_as: list[str] = Field(default_factory=list)
    send_on_behalf: list[str] = Field(default_factory=list)


class Tenant(_Model):
    name: str
    tenant_id: str
    display_name: str
    domains: list[str]
    premium: Premium = "none"
    gdap: Gdap | None = Field(default_factory=Gdap)
    app: AppConsent = Field(default_factory=AppConsent)
    skus: list[Sku] = Field(default_factory=list)
    users: list[User] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    distribution_groups: list[DistributionGroup] = Field(default_factory=list)
    shared_mailboxes: list[SharedMailbox] = Field(default_factory=list)


class Scenario(_Model):
    api_version: Literal["tenantctl/v1"] = "tenantctl/v1"
    kind: Literal["SandboxScenario"] = "SandboxScenario"
    # The moment the world starts at. Every date the services report is computed from it, so a
    # scenario gives the same world on any day the tests or the demo run.
    epoch: AwareDatetime = DEFAULT_EPOCH
    behaviour: Behaviour = Field(default_factory=Behaviour)
    partner: Partner
    tenants: list[Tenant] = Field(default_factory=list)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file; one that cannot be read or is not a scenario is a usage
    error naming the file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return Scenario.model_validate(data)
    except (OSError, ValueError, yaml.YAMLError) as problem:
        raise UsageError(f"cannot load scenario {path}: {problem}") from problem


def default_scenario() -> Scenario:
    """The world behind the ``desired/`` demo estate (``scenarios/default.yaml``)."""
    text = resources.files("controller.sandbox").joinpath("scenarios/default.yaml").read_text()
    return Scenario.model_validate(yaml.safe_load(text))


_FIRST = "Ada Alan Grace Linus Ken Barbara Edsger Donald Margaret Dennis Radia Frances".split()
_LAST = "Lovelace Turing Hopper Torvalds Thompson Liskov Dijkstra Knuth Hamilton Ritchie".split()


_M = TypeVar("_M", bound=BaseModel)


def _construct(cls: type[_M], **values: Any) -> _M:
    """``model_construct`` without its per-field bookkeeping (every field is given here):
    a generated world builds 100,000 users and pydantic's version dominates load time."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def generate_scenario(
    tenants: int = 10,
    users: int = 100,
    groups: int = 10,
    members_per_group: int = 10,
    seed: int = 0,
) -> Scenario:
    """A large synthetic world for benchmarks: ``tenants`` x ``users`` x ``groups``.

    Deterministic for a given seed. Every tenant is consented with the Exchange role
    propagated; the partner tenant and app are the demo ones, so the demo credentials work.
    """
    rng = random.Random(seed)
    base = default_scenario()
    registered = Mfa(registered=True, capable=True)
    unregistered = Mfa(registered=False, capable=True)
    built: list[Tenant] = []
    for t in range(tenants):
        name = f"t{t:05d}"
        domain = f"{name}.example.com"
        tenant_users = [
            _construct(
                User,
                user_principal_name=f"user{u:05d}@{domain}",
                display_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                usage_location="US",
                account_enabled=True,
                licenses=["SPE_E3"] if u % 2 == 0 else [],
                mfa=registered if u % 7 else unregistered,
                risk_level="none",
                is_admin=False,
                given_name=None,
                surname=None,
                job_title=None,
                department=None,
                id=None,
            )
            for u in range(users)
        ]
        upns = [u.user_principal_name for u in tenant_users]
        tenant_groups = [
            Group.model_construct(
                display_name=f"Group {g}",
                mail_nickname=f"group{g:04d}",
                type="security" if g % 2 == 0 else "microsoft365",
                description=None,
                members=rng.sample(upns, min(members_per_group, len(upns))),
                id=None,
            )
            for g in range(groups)
        ]
        built.append(
            Tenant.model_construct(
                name=name,
                tenant_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                display_name=f"Synthetic Tenant {t}",
                domains=[domain, f"{name}.onmicrosoft.com"],
                premium="P1",
                gdap=Gdap(),
                app=AppConsent(exchange_administrator=ExchangeRole()),
                skus=[Sku(sku_part_number="SPE_E3", units=users)],
                users=tenant_users,
                groups=tenant_groups,
                distribution_groups=[],
                shared_mailboxes=[],
            )
        )
    return Scenario.model_construct(
        api_version="tenantctl/v1",
        kind="SandboxScenario",
        behaviour=Behaviour(),
        partner=base.partner,
        tenants=built,
    )
