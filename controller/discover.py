"""Discovery: GDAP customers that ``desired/`` does not declare yet, and skeleton tenant files.

Pure: no HTTP, no clock, no file system. ``tenantctl discover`` reads the partner tenant's
``delegatedAdminCustomers`` and ``delegatedAdminRelationships`` (and, per customer, its
organization or the Partner Center customer record for the domains), hands the answers here,
and writes the files this module renders.

Customers are compared with the desired state by tenant id (case-insensitive), never by name:
a customer's display name in Partner Center rarely matches the slug in ``desired/``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from controller.importer._yaml import comment_text, scalar
from controller.models.permissions import (
    EXCHANGE_ADMINISTRATOR_ROLE,
    GLOBAL_ADMINISTRATOR_ROLE,
    PRIVILEGED_ROLE_ADMINISTRATOR_ROLE,
)
from controller.observe.translate import gdap_state

__all__ = [
    "DiscoveredCustomer",
    "DomainSource",
    "assign_names",
    "default_domain_of_customer_record",
    "domains_of_organization",
    "role_name",
    "skeleton_tenant_yaml",
    "slug_for",
    "undeclared_customers",
]

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
        tenant_id = str(customer.get("tenantId") or customer.get("id") or "").lower()
        if not tenant_id or tenant_id in declared or tenant_id in found:
            continue
        state = gdap_state(rels, tenant_id, now)
        live = [r for r in state.relationships if r.status in ("active", "expiring")]
        granting = live or list(state.relationships)
        role_ids = frozenset().union(*(r.role_ids for r in granting)) if granting else frozenset()
        found[tenant_id] = DiscoveredCustomer(
            tenant_id=tenant_id,
            display_name=str(customer.get("displayName") or tenant_id),
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


# -- names ------------------------------------------------------------------------------------

# Legal forms dropped from the end of a display name: "Contoso Ltd" -> contoso.
_LEGAL_FORMS = frozenset(
    "inc incorporated ltd limited llc llp lp plc corp corporation co company gmbh ag sa sas "
    "sarl srl spa bv nv oy ab as aps pty kg".split()
)
_MAX_SLUG = 63


def slug_for(display_name: str, taken: Collection[str], tenant_id: str = "") -> str:
    """A valid tenant name (lowercase letters, digits, hyphens; at most 63) from a display
    name, unique against ``taken``: ``Litware Inc`` -> ``litware`` (or ``litware-2``)."""
    ascii_text = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    while len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words.pop()
    base = "-".join(words)[:_MAX_SLUG].strip("-")
    if not base:
        base = f"tenant-{tenant_id.lower()[:8]}".strip("-") or "tenant"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = base[: _MAX_SLUG - len(suffix)].rstrip("-") + suffix
    return candidate


def assign_names(
    customers: Iterable[DiscoveredCustomer], taken: Collection[str]
) -> list[DiscoveredCustomer]:
    """Give each customer a slug, unique against ``taken`` (the declared names) and each
    other, in the order given."""
    used = set(taken)
    named = []
    for customer in customers:
        name = slug_for(customer.display_name, used, customer.tenant_id)
        used.add(name)
        named.append(replace(customer, name=name))
    return named


# -- the skeleton file ------------------------------------------------------------------------

SCHEMA_MODELINE = "# yaml-language-server: $schema=../../schemas/tenant.schema.json"


def skeleton_tenant_yaml(customer: DiscoveredCustomer) -> str:
    """A tenant file that validates as written and manages nothing yet but consent."""
    if customer.name is None or not customer.domains:
        raise ValueError("a skeleton needs a name and at least one domain")
    where = {
        "organization": ["# Domains: the tenant's verified domains, the default one first."],
        "partnerCenter": [
            "# Domains: from the Partner Center customer record, because the app cannot read",
            "# the tenant yet; add its other verified domains.",
        ],
        "unknown": [],
    }[customer.domains_from]
    # Written with the importer's scalar(): the display name is the customer's to choose,
    # and PyYAML leaves NEL and U+2028 raw inside quotes, where libyaml reads line breaks.
    body = "\n".join(
        [
            "apiVersion: tenantctl/v1",
            "kind: Tenant",
            "metadata:",
            f"  name: {scalar(customer.name)}",
            f"  displayName: {scalar(customer.display_name)}",
            f"  tenantId: {scalar(customer.tenant_id)}",
            "  domains:",
            *(f"  - {scalar(domain)}" for domain in customer.domains),
            "spec:",
            "  consent: granted",
            "  exchange: unmanaged",
        ]
    )
    header = [
        SCHEMA_MODELINE,
        f"# {comment_text(customer.display_name)}: a GDAP customer found by "
        "`tenantctl discover --write`.",
        *where,
        "# To fill in:",
        "#   spec.exchange: direct | cipp | auto | none, once Exchange access is set up",
        "#   spec.users, groups, distributionGroups, sharedMailboxes: what tenantctl manages",
        "#     (anything left out is left alone); spec.checks: mfa and riskyUsers findings.",
        "# consent: granted makes the next plan show the admin-consent step for this tenant.",
    ]
    return "\n".join(header) + "\n" + body + "\n"
