"""Everything tenantctl reads in the partner tenant (GDAP) and about it (CIPP), in one place.

- :func:`check_connections`: what ``tenantctl connect check`` runs: an app-only token in the
  partner tenant, when the app's secret or certificate expires (its own app registration),
  the GDAP customers it can see, and CIPP's ``/api/me``;
- :func:`read_partner_facts`: what every tenant's observation shares, read once per run (the
  GDAP relationships, CIPP's tenants and access checks);
- :func:`gdap_customers` and :func:`read_undeclared`: the GDAP customers, and those that
  ``desired/`` does not declare yet with their domains (``tenantctl discover`` and
  ``tenantctl import``).

The reads go through the connectors; a failed read is diagnosed by the connectors' checks
(:func:`~controller.connectors.diagnose_gdap`, ...). Below the reads, the translation of the
answers is pure.

Customers are compared with the desired state by tenant id (case-insensitive), never by name:
a customer's display name in Partner Center rarely matches the slug in ``desired/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import (
    CheckResult,
    ClientAssertion,
    Connections,
    ConnectionSettings,
    CredentialExpiry,
    credential_expiry,
    diagnose_cipp,
    diagnose_gdap,
    diagnose_partner,
)
from controller.connectors._check import CHECK_RETRY
from controller.errors import ServiceError, TenantctlError
from controller.event_loop import gather_or_cancel
from controller.models import DesiredState
from controller.models.observed import Unknown
from controller.models.permissions import (
    EXCHANGE_ADMINISTRATOR_ROLE,
    GLOBAL_ADMINISTRATOR_ROLE,
    PRIVILEGED_ROLE_ADMINISTRATOR_ROLE,
)
from controller.observe import translate
from controller.observe.translate import gdap_state

__all__ = [
    "DiscoveredCustomer",
    "DomainSource",
    "PartnerFacts",
    "check_connections",
    "customer_identity",
    "default_domain_of_customer_record",
    "domains_of_organization",
    "gdap_customers",
    "read_partner_facts",
    "read_undeclared",
    "role_name",
    "undeclared_customers",
]

T = TypeVar("T")


# -- tenantctl connect check ---------------------------------------------------------------


async def check_connections(
    settings: ConnectionSettings,
    *,
    expiry: CredentialExpiry | None = None,
    connections: Connections | None = None,
) -> list[CheckResult]:
    """Run every check that the settings configure: the partner app's token, its credential's
    expiry (with ``expiry``), the GDAP customers it sees, and CIPP when configured. Each
    failure is a result, never an exception. Opens (and closes) its own
    :class:`Connections` unless one is given."""
    owned = connections is None
    conn = connections or Connections(settings, retry=CHECK_RETRY, timeout=20.0)
    try:
        results: list[CheckResult] = []
        partner = settings.partner_tenant_id
        try:
            await conn.tokens.token(partner, "graph")
        except ServiceError as error:
            results.append(diagnose_partner(settings, error))
        else:
            results.append(
                CheckResult(
                    "partner app",
                    True,
                    f"app-only token acquired in partner tenant {partner} "
                    f"(app {settings.client_id})",
                )
            )
            if expiry is not None:
                results.append(await _check_credential(settings, conn, expiry))
            results.append(await _check_gdap(settings, conn))
        if settings.cipp is not None:
            results.append(await _check_cipp(settings, conn))
        return results
    finally:
        if owned:
            await conn.aclose()


async def _check_credential(
    settings: ConnectionSettings, conn: Connections, expiry: CredentialExpiry
) -> CheckResult:
    """The app reads its own registration in the partner tenant (Application.Read.All or
    Directory.Read.All there); a federated credential has nothing to read."""
    if isinstance(settings.credential, ClientAssertion):
        return credential_expiry(settings, expiry, None)
    try:
        application = await conn.partner_graph().application(settings.client_id)
    except ServiceError as error:
        return credential_expiry(settings, expiry, None, error)
    return credential_expiry(settings, expiry, application)


async def _check_gdap(settings: ConnectionSettings, conn: Connections) -> CheckResult:
    try:
        customers = await gdap_customers(conn)
    except ServiceError as error:
        return diagnose_gdap(settings, error)
    names = sorted(str(c.get("displayName") or c.get("tenantId") or "?") for c in customers)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if not customers:
        return CheckResult("GDAP", True, "no GDAP customers visible yet")
    return CheckResult("GDAP", True, f"{len(customers)} customer(s) visible: {shown}")


async def _check_cipp(settings: ConnectionSettings, conn: Connections) -> CheckResult:
    cipp = settings.cipp
    assert cipp is not None
    try:
        await conn.tokens.token(cipp.tenant_id, "cipp")
        me = await conn.cipp().me()
    except ServiceError as error:
        return diagnose_cipp(settings, error)
    who = me.get("clientPrincipal") if isinstance(me, dict) else None
    roles = who.get("userRoles") if isinstance(who, dict) else None
    suffix = f" (roles: {', '.join(map(str, roles))})" if isinstance(roles, list) and roles else ""
    return CheckResult("CIPP", True, f"{cipp.base_url} answers /api/me{suffix}")


# -- what every tenant's observation shares --------------------------------------------------


@dataclass(frozen=True)
class PartnerFacts:
    """What the partner tenant and CIPP say about all customers, read once per run.

    ``failed_checks``: the reads that failed for a reason ``tenantctl connect check`` would
    report (the app's credential, the GDAP permission, CIPP unreachable or refusing), each with
    the same one-line diagnosis; a run with any of them did not see what it was asked to.
    """

    relationships: list[dict[str, Any]] | Unknown
    cipp_tenants: dict[str, dict[str, Any]] | Unknown | None  # tenant id -> row; None: no CIPP
    cipp_access: dict[str, dict[str, Any]] | Unknown | None  # tenant id -> ExecAccessChecks row
    failed_checks: tuple[CheckResult, ...] = ()

    def cipp_manageable(self, tenant_id: str) -> bool | None:
        """Can CIPP manage the tenant? None without CIPP; False when CIPP's tenants could not
        be read, when CIPP does not list it, or when its access check could not reach Graph
        there (:func:`cipp_reaches`)."""
        tenants = self.cipp_tenants
        if tenants is None:
            return None
        if isinstance(tenants, Unknown) or tenant_id.lower() not in tenants:
            return False
        return cipp_reaches(self._access_row(tenant_id))

    def cipp_notes(self, tenant_id: str) -> tuple[str, ...]:
        """What CIPP's access check says is wrong in the tenant (:func:`cipp_access_notes`)."""
        return cipp_access_notes(self._access_row(tenant_id))

    def _access_row(self, tenant_id: str) -> Mapping[str, Any] | None:
        access = self.cipp_access
        return access.get(tenant_id.lower()) if isinstance(access, dict) else None


def cipp_reaches(row: Mapping[str, Any] | None) -> bool:
    """Does CIPP's access check (an ``ExecAccessChecks?Type=Tenants`` row) say it reaches the
    tenant? ``GraphStatus`` is a boolean (CIPP-API Test-CIPPAccessTenant.ps1; the words are in
    ``GraphTest``), or the text "Not run yet" before the first check (Invoke-ExecAccessChecks.ps1):
    only a check that ran and failed says no."""
    status = (row or {}).get("GraphStatus")
    return status is not False and str(status).lower() != "false"


def cipp_access_notes(row: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The access check's failure and the roles it misses, as plan notes. ``MissingRoles``
    lists ``{Name, Type, Optional}`` objects (Test-CIPPAccessTenant.ps1)."""
    if not row:
        return ()
    notes: list[str] = []
    if not cipp_reaches(row):
        notes.append(f"CIPP access check: {row.get('GraphTest') or 'CIPP cannot reach Graph'}")
    missing = row.get("MissingRoles") or []
    names = [
        str(role.get("Name") or role.get("name") or "") if isinstance(role, Mapping) else str(role)
        for role in (missing if isinstance(missing, list) else [missing])
    ]
    if any(names):
        notes.append(f"CIPP access check: missing roles {', '.join(n for n in names if n)}")
    return tuple(notes)


async def read_partner_facts(
    connections: Connections, *, cipp: bool, gdap: PartnerFacts | None = None
) -> PartnerFacts:
    """The partner's GDAP relationships and, with ``cipp``, CIPP's tenants and access checks.
    ``gdap``: the relationships read already, with the same settings (a run reads them while
    its desired state loads, ``controller.reconcile._early``): they are not read again."""
    settings = connections.settings
    failed: dict[str, CheckResult] = {}

    async def attempt(
        what: str, call: Awaitable[T], diagnose: Callable[[ServiceError], CheckResult]
    ) -> T | Unknown:
        try:
            return await call
        except ServiceError as error:
            check = diagnose(error)
            failed.setdefault(check.name, check)
            return translate.unknown_from_error(error, what)

    async def relationships() -> list[dict[str, Any]]:
        return await connections.partner_graph().gdap_relationships()

    async def cipp_rows(
        call: Callable[[], Awaitable[list[dict[str, Any]]]], key: str
    ) -> dict[str, dict[str, Any]]:
        rows = await call()
        return {str(r.get(key, "")).lower(): r for r in rows if r.get(key)}

    def on_gdap(error: ServiceError) -> CheckResult:
        return diagnose_gdap(settings, error)

    def on_cipp(error: ServiceError) -> CheckResult:
        return diagnose_cipp(settings, error)

    rel_task: Awaitable[list[dict[str, Any]] | Unknown]
    if gdap is None:
        rel_task = attempt("GDAP relationships", relationships(), on_gdap)
    else:
        for check in gdap.failed_checks:
            failed.setdefault(check.name, check)
        rel_task = _already(gdap.relationships)
    if not cipp:
        return PartnerFacts(await rel_task, None, None, tuple(failed.values()))
    client = connections.cipp()
    rels, tenants, access = await gather_or_cancel(
        rel_task,
        attempt("CIPP tenants", cipp_rows(client.list_tenants, "customerId"), on_cipp),
        attempt("CIPP access checks", cipp_rows(client.access_checks, "TenantId"), on_cipp),
    )
    return PartnerFacts(rels, tenants, access, tuple(sorted(failed.values(), key=_check_order)))


async def _already(value: T) -> T:
    return value


def _check_order(check: CheckResult) -> tuple[int, str]:
    return ({"partner app": 0, "GDAP": 1, "CIPP": 2}.get(check.name, 3), check.name)


# -- GDAP customers --------------------------------------------------------------------------


async def gdap_customers(connections: Connections) -> list[dict[str, Any]]:
    """The partner tenant's ``delegatedAdminCustomers``, as Graph returns them."""
    return await connections.partner_graph().gdap_customers()


async def read_undeclared(
    connections: Connections,
    state: DesiredState,
    now: dt.datetime,
    concurrency: int = TENANTS_AT_ONCE,
) -> list[DiscoveredCustomer]:
    """GDAP customers no tenant file declares, with their domains: GDAP customers and
    relationships in the partner tenant, then each customer's organization, else (for those
    the app cannot read yet) Partner Center's customer record."""
    partner = connections.partner_graph()
    customers, relationships = await gather_or_cancel(
        gdap_customers(connections), partner.gdap_relationships()
    )
    declared = {t.metadata.tenant_id for t in state.tenants}
    found = undeclared_customers(customers, relationships, declared, now)
    bound = asyncio.Semaphore(concurrency)

    async def organization_domains(customer: DiscoveredCustomer) -> DiscoveredCustomer:
        async with bound:
            try:
                org = await connections.graph(customer.tenant_id).organization()
            except TenantctlError:  # no consent yet, or no right to read it: ask Partner Center
                return customer
        domains = domains_of_organization(org)
        return (
            replace(customer, domains=domains, domains_from="organization") if domains else customer
        )

    found = list(await gather_or_cancel(*(organization_domains(c) for c in found)))
    if any(not c.domains for c in found):
        try:
            records = await connections.partner_center().customers()
        except TenantctlError:
            records = []  # the domain stays unknown; the listing says so
        by_tenant = {
            str((r.get("companyProfile") or {}).get("tenantId") or r.get("id") or "").lower(): r
            for r in records
        }
        for i, customer in enumerate(found):
            record = by_tenant.get(customer.tenant_id)
            domain = default_domain_of_customer_record(record) if record else None
            if not customer.domains and domain:
                found[i] = replace(customer, domains=(domain,), domains_from="partnerCenter")
    return found


# -- the answers, translated (pure) ----------------------------------------------------------

Json = Mapping[str, Any]
DomainSource = Literal["organization", "partnerCenter", "unknown"]

# Directory role template ids (the same in every tenant) that GDAP relationships usually grant.
_ROLE_NAMES = {
    GLOBAL_ADMINISTRATOR_ROLE: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR_ROLE: "Privileged Role Administrator",
    EXCHANGE_ADMINISTRATOR_ROLE: "Exchange Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
    "4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
}


def role_name(role_definition_id: str) -> str:
    """The role's name when it is a well-known template, else its id."""
    return _ROLE_NAMES.get(role_definition_id.lower(), role_definition_id)


@dataclass(frozen=True)
class DiscoveredCustomer:
    tenant_id: str
    display_name: str
    gdap_status: str  # active | expiring | approvalPending | expired | terminated | none
    gdap_ends: dt.datetime | None
    roles: tuple[str, ...]  # role names (or ids), sorted
    domains: tuple[str, ...] = ()  # default domain first
    domains_from: DomainSource = "unknown"
    name: str | None = None  # the slug a skeleton file gets

    @property
    def default_domain(self) -> str | None:
        return self.domains[0] if self.domains else None

    def as_json(self) -> dict[str, Any]:
        return {
            "displayName": self.display_name,
            "tenantId": self.tenant_id,
            "defaultDomain": self.default_domain,
            "domains": list(self.domains),
            "domainsFrom": self.domains_from,
            "gdap": {
                "status": self.gdap_status,
                "ends": self.gdap_ends.date().isoformat() if self.gdap_ends else None,
                "roles": list(self.roles),
            },
            "name": self.name,
        }


def customer_identity(customer: Json) -> tuple[str, str]:
    """A ``delegatedAdminCustomer``'s tenant id (lowercase) and display name ("" if none)."""
    tenant_id = str(customer.get("tenantId") or customer.get("id") or "").lower()
    return tenant_id, str(customer.get("displayName") or "")


def undeclared_customers(
    customers: Iterable[Json],
    relationships: Iterable[Json],
    declared_tenant_ids: Collection[str],
    now: dt.datetime,
) -> list[DiscoveredCustomer]:
    """GDAP customers whose tenant id no tenant file declares, sorted by display name."""
    declared = {t.lower() for t in declared_tenant_ids}
    rels = list(relationships)
    found: dict[str, DiscoveredCustomer] = {}
    for customer in customers:
        tenant_id, display_name = customer_identity(customer)
        if not tenant_id or tenant_id in declared or tenant_id in found:
            continue
        state = gdap_state(rels, tenant_id, now)
        live = [r for r in state.relationships if r.status in ("active", "expiring")]
        granting = live or list(state.relationships)
        role_ids = frozenset().union(*(r.role_ids for r in granting)) if granting else frozenset()
        found[tenant_id] = DiscoveredCustomer(
            tenant_id=tenant_id,
            display_name=display_name or tenant_id,
            gdap_status=state.status,
            gdap_ends=state.ends,
            roles=tuple(sorted(role_name(r) for r in role_ids if r)),
        )
    return sorted(found.values(), key=lambda c: (c.display_name.lower(), c.tenant_id))


def domains_of_organization(organization: Json) -> tuple[str, ...]:
    """The organization's verified domains, the default one first, then by name."""
    items = [d for d in organization.get("verifiedDomains") or () if d.get("name")]
    default = [str(d["name"]).lower() for d in items if d.get("isDefault")]
    rest = sorted({str(d["name"]).lower() for d in items} - set(default))
    return tuple(default[:1] + rest)


def default_domain_of_customer_record(record: Json) -> str | None:
    """Partner Center's customer record: ``companyProfile.domain`` (the initial domain)."""
    profile = record.get("companyProfile") or {}
    domain = profile.get("domain") or record.get("defaultDomainName")
    return str(domain).lower() if domain else None
