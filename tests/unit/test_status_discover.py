"""Discovery without I/O: which GDAP customers are undeclared (by tenant id), their GDAP
summary and role names, domains from an organization or a customer record, slugs derived from
display names, and skeleton files that pass the tenant model."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import yaml

from controller.importer import assign_names, skeleton_tenant_yaml
from controller.models import TenantConfig
from controller.models.naming import tenant_slug
from controller.models.permissions import (
    GLOBAL_ADMINISTRATOR_ROLE,
    PRIVILEGED_ROLE_ADMINISTRATOR_ROLE,
)
from controller.observe.partner import (
    DiscoveredCustomer,
    default_domain_of_customer_record,
    domains_of_organization,
    role_name,
    undeclared_customers,
)

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"


def _relationship(tenant: str, status: str, days: int, roles: list[str]) -> dict[str, object]:
    return {
        "id": f"rel-{tenant[:4]}-{status}",
        "displayName": "r",
        "status": status,
        "customer": {"tenantId": tenant.upper()},
        "endDateTime": (NOW + dt.timedelta(days=days)).isoformat(),
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in roles]},
    }


def test_customers_already_declared_are_left_out_by_tenant_id_whatever_their_name() -> None:
    customers = [
        {"id": A, "tenantId": A, "displayName": "Zeta Corp"},
        {"id": B, "tenantId": B.upper(), "displayName": "Alpha Ltd"},
    ]
    found = undeclared_customers(customers, [], {A.upper()}, NOW)
    assert [(c.display_name, c.tenant_id) for c in found] == [("Alpha Ltd", B)]
    assert found[0].gdap_status == "none"
    assert found[0].roles == ()


def test_gdap_status_end_and_roles_come_from_the_live_relationships() -> None:
    rels = [
        _relationship(A, "active", 200, [GLOBAL_ADMINISTRATOR_ROLE, "custom-role-id"]),
        _relationship(A, "expired", -10, [PRIVILEGED_ROLE_ADMINISTRATOR_ROLE]),
    ]
    (found,) = undeclared_customers([{"tenantId": A, "displayName": "A"}], rels, set(), NOW)
    assert found.gdap_status == "active"
    assert found.gdap_ends is not None and found.gdap_ends.date() == dt.date(2027, 6, 14)
    assert found.roles == ("Global Administrator", "custom-role-id")


def test_role_names_for_well_known_templates_and_ids_otherwise() -> None:
    assert role_name(PRIVILEGED_ROLE_ADMINISTRATOR_ROLE.upper()) == "Privileged Role Administrator"
    assert role_name("not-a-template") == "not-a-template"


def test_domains_of_an_organization_put_the_default_first() -> None:
    org = {
        "verifiedDomains": [
            {"name": "Contoso.onmicrosoft.com", "isDefault": False},
            {"name": "zz.contoso.com", "isDefault": False},
            {"name": "contoso.com", "isDefault": True},
        ]
    }
    assert domains_of_organization(org) == (
        "contoso.com",
        "contoso.onmicrosoft.com",
        "zz.contoso.com",
    )
    assert domains_of_organization({}) == ()


def test_the_customer_record_gives_the_initial_domain() -> None:
    record = {"companyProfile": {"domain": "Litware.onmicrosoft.com"}}
    assert default_domain_of_customer_record(record) == "litware.onmicrosoft.com"
    assert default_domain_of_customer_record({}) is None


@pytest.mark.parametrize(
    ("display_name", "taken", "expected"),
    [
        ("Litware Inc", set(), "litware"),
        ("Contoso Ltd.", {"contoso"}, "contoso-2"),
        ("Contoso Ltd.", {"contoso", "contoso-2"}, "contoso-3"),
        ("Société Générale SA", set(), "societe-generale"),
        ("  A & B  Services, LLC ", set(), "a-b-services"),
        ("Inc", set(), "inc"),
        ("株式会社", set(), "tenant-aaaaaaaa"),
        ("x" * 80, {"x" * 63}, "x" * 61 + "-2"),
    ],
)
def test_slugs_are_valid_unique_names_derived_from_the_display_name(
    display_name: str, taken: set[str], expected: str
) -> None:
    slug = tenant_slug(display_name, taken, A)
    assert slug == expected
    assert len(slug) <= 63


def test_names_are_unique_across_the_customers_found_in_one_run() -> None:
    base = DiscoveredCustomer(A, "Fabrikam Inc", "active", None, ())
    named = assign_names(
        [base, dataclasses.replace(base, tenant_id=B, display_name="Fabrikam, Inc.")],
        {"contoso"},
    )
    assert [c.name for c in named] == ["fabrikam", "fabrikam-2"]


def test_a_skeleton_passes_the_tenant_model_and_says_what_to_fill_in() -> None:
    customer = DiscoveredCustomer(
        A,
        "Litware: Inc # 1",
        "active",
        None,
        (),
        domains=("litware.onmicrosoft.com",),
        domains_from="partnerCenter",
        name="litware",
    )
    text = skeleton_tenant_yaml(customer)
    assert text.splitlines()[0] == (
        "# yaml-language-server: $schema=../../schemas/tenant.schema.json"
    )
    assert "spec.exchange" in text
    tenant = TenantConfig.model_validate(yaml.safe_load(text))
    assert tenant.metadata.name == "litware"
    assert tenant.metadata.display_name == "Litware: Inc # 1"
    assert tenant.metadata.tenant_id == A
    assert (tenant.spec.consent, tenant.spec.exchange) == ("granted", "unmanaged")


def test_no_skeleton_without_a_domain() -> None:
    with pytest.raises(ValueError, match="domain"):
        skeleton_tenant_yaml(DiscoveredCustomer(A, "A", "active", None, (), name="a"))
