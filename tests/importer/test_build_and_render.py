"""The pure half of import: observed tenant -> tenant file text.

Covers sorting, defaults left out, members that are not imported users becoming existing
principals, members without an address left out with a comment, --include / --match /
--exclude-disabled, refusal on unknown areas (naming each), and that the text reads back as
the same model through tenantctl's own loader.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from controller.importer import (
    SCHEMA_MODELINE,
    ImportOptions,
    ImportRefused,
    build_tenant_import,
    check_observed,
    render_tenant_yaml,
    skeleton_metadata,
)
from controller.loader.shape import validate_model
from controller.loader.source import parse_yaml
from controller.models import TenantConfig
from controller.models.naming import tenant_slug
from controller.models.observed import (
    ConsentStatus,
    ExchangeAccess,
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    ObservedTenant,
    ObservedUser,
    Principal,
    Sku,
    Unknown,
)
from controller.models.tenant import TenantMetadata
from controller.render.yaml_text import scalar

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
META = TenantMetadata(name="contoso", tenant_id="6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
                      domains=["contoso.com"])  # fmt: skip


def user(upn: str, name: str, **kw: object) -> ObservedUser:
    values: dict[str, object] = {"mail_nickname": upn.partition("@")[0], "account_enabled": True}
    return ObservedUser(f"id-{upn}", upn, name, **{**values, **kw})  # type: ignore[arg-type]


def member(address: str | None, kind: str = "user", name: str | None = None) -> Principal:
    return Principal(id=f"id-{address or name}", address=address, display_name=name, kind=kind)


def observed(**areas: object) -> ObservedTenant:
    base = ObservedTenant(
        name="contoso",
        tenant_id=META.tenant_id,
        observed_at=NOW,
        consent=ConsentStatus("granted", "sp", frozenset(), frozenset()),
        exchange=ExchangeAccess("working-direct", "direct", True, True, None),
        verified_domains=frozenset({"contoso.com"}),
        skus=(Sku(E3, "SPE_E3", 10, 2),),
        users=(
            user("zoe@contoso.com", "Zoe Last", usage_location="us", license_sku_ids=frozenset({E3})),
            user("Alice@contoso.com", "Alice Smith", department="  Sales ", job_title=""),
            user("old@contoso.com", "Old Account", account_enabled=False),
            user("support@contoso.com", "Support"),  # the shared mailbox's user object
        ),
        groups=(
            ObservedGroup("g2", "Sales", "sales", "security",
                          members=(member("zoe@contoso.com"), member("Alice@contoso.com"),
                                   member("partner@fabrikam.com"),
                                   member(None, "device", "Kiosk-01"))),
            ObservedGroup("g1", "Phoenix", "phoenix", "microsoft365", description="Team",
                          members=(member("old@contoso.com"),)),
            ObservedGroup("g3", "All Staff", "allstaff", "distribution"),
        ),
        distribution_groups=(
            ObservedDistributionGroup("d1", "All Staff", "All Staff", "allstaff@contoso.com",
                                      alias="allstaff",
                                      members=(member("support@contoso.com"), member("zoe@contoso.com"))),
        ),
        shared_mailboxes=(
            ObservedSharedMailbox("m1", "support", "Support Desk", "support@contoso.com",
                                  alias="support", full_access=frozenset({"alice@contoso.com"}),
                                  send_as=frozenset(), send_on_behalf=frozenset({"allstaff@contoso.com"})),
        ),
    )  # fmt: skip
    return dataclasses.replace(base, **areas)  # type: ignore[arg-type]


def render(obs: ObservedTenant, options: ImportOptions | None = None) -> str:
    imported = build_tenant_import(obs, META, options or ImportOptions(), imported_at=NOW)
    return render_tenant_yaml(imported)


def test_the_file_is_sorted_commented_and_restates_no_default() -> None:
    assert render(observed()) == "\n".join([
        SCHEMA_MODELINE,
        "# Imported by `tenantctl import` from tenant 6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f on 2026-11-26",
        "# 09:30 UTC (users, groups, distributionGroups, sharedMailboxes).",
        "# Everything below is now managed: member and permission lists are exact, so review them before",
        "# committing. Objects not listed here are left alone.",
        "apiVersion: tenantctl/v1",
        "kind: Tenant",
        "metadata:",
        "  name: contoso",
        "  tenantId: 6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
        "  domains: [contoso.com]",
        "spec:",
        "  consent: granted",
        "  exchange: direct",
        "  # Members and permission holders that exist in the tenant but are not declared in this file",
        "  existingPrincipals: [partner@fabrikam.com]",
        "  users:",
        "    - userPrincipalName: Alice@contoso.com",
        "      displayName: Alice Smith",
        "      department: Sales",
        "      accountEnabled: true",
        "    - userPrincipalName: old@contoso.com",
        "      displayName: Old Account",
        "      accountEnabled: false",
        "    - userPrincipalName: zoe@contoso.com",
        "      displayName: Zoe Last",
        "      accountEnabled: true",
        "      usageLocation: US",
        "      licenses: [SPE_E3]",
        "  groups:",
        "    - displayName: Phoenix",
        "      mailNickname: phoenix",
        "      type: microsoft365",
        "      description: Team",
        "      members: [old@contoso.com]",
        "    # not listed: 1 member(s) without an address, left alone: Kiosk-01 (device)",
        "    - displayName: Sales",
        "      mailNickname: sales",
        "      members: [Alice@contoso.com, partner@fabrikam.com, zoe@contoso.com]",
        "  distributionGroups:",
        "    - name: All Staff",
        "      primarySmtpAddress: allstaff@contoso.com",
        "      members: [support@contoso.com, zoe@contoso.com]",
        "  sharedMailboxes:",
        "    - name: support",
        "      displayName: Support Desk",
        "      primarySmtpAddress: support@contoso.com",
        "      fullAccess: [Alice@contoso.com]",
        "      sendAs: []",
        "      sendOnBehalf: [allstaff@contoso.com]",
        "",
    ])  # fmt: skip


def test_the_text_reads_back_as_the_model_it_was_rendered_from() -> None:
    imported = build_tenant_import(observed(), META, ImportOptions(), imported_at=NOW)
    source = parse_yaml(render_tenant_yaml(imported), "contoso.yaml")
    loaded, problems = validate_model(source, TenantConfig)
    assert problems == []
    assert loaded == imported.config


def test_members_that_are_not_imported_users_become_existing_principals() -> None:
    options = ImportOptions(include=frozenset({"users", "groups"}), exclude_disabled=True)
    config = build_tenant_import(observed(), META, options, imported_at=NOW).config
    assert [u.user_principal_name for u in config.spec.users] == [
        "Alice@contoso.com",
        "zoe@contoso.com",
    ]
    assert config.spec.existing_principals == ["old@contoso.com", "partner@fabrikam.com"]
    assert config.spec.distribution_groups == [] and config.spec.shared_mailboxes == []


def test_match_filters_every_kind_of_object_by_its_key() -> None:
    config = build_tenant_import(
        observed(), META, ImportOptions(match=("s*", "z*")), imported_at=NOW
    ).config
    assert [u.user_principal_name for u in config.spec.users] == ["zoe@contoso.com"]
    assert [g.mail_nickname for g in config.spec.groups] == ["sales"]
    assert config.spec.distribution_groups == []
    assert [m.primary_smtp_address for m in config.spec.shared_mailboxes] == ["support@contoso.com"]
    # Alice is a member of sales but was not imported: she exists, and is listed as such.
    assert "Alice@contoso.com" in config.spec.existing_principals


def test_users_outside_the_files_domains_are_left_out_with_a_comment() -> None:
    obs = observed(users=(user("admin@contoso.onmicrosoft.com", "Admin"),))
    text = render(obs, ImportOptions(include=frozenset({"users"})))
    assert "userPrincipalName: admin" not in text
    assert "# Not imported (users): admin@contoso.onmicrosoft.com (domain not in" in text


def test_licences_need_a_usage_location_else_they_are_not_listed() -> None:
    obs = observed(users=(user("a@contoso.com", "A", license_sku_ids=frozenset({E3})),))
    imported = build_tenant_import(
        obs, META, ImportOptions(include=frozenset({"users"})), imported_at=NOW
    )
    assert imported.config.spec.users[0].licenses is None
    assert imported.notes == ("a@contoso.com: licences not listed (no usage location)",)


def test_an_unknown_area_refuses_the_import_and_names_every_area() -> None:
    propagating = Unknown("propagating", "Exchange: the role is not effective yet")
    throttled = Unknown("throttled", "members of sales: throttled")
    obs = observed(
        shared_mailboxes=propagating,
        distribution_groups=propagating,
        groups=(ObservedGroup("g2", "Sales", "sales", "security", members=throttled),),
    )
    with pytest.raises(ImportRefused) as refused:
        check_observed(obs, ImportOptions(), tenant="contoso")
    assert refused.value.reasons == (
        "distributionGroups, sharedMailboxes: Exchange: the role is not effective yet",
        "groups/sales/members: members of sales: throttled",
    )
    assert "import again" in str(refused.value)
    # Leaving the unknown areas out (or filtering the group out) makes it importable.
    check_observed(obs, ImportOptions(include=frozenset({"users"})), tenant="contoso")
    check_observed(
        obs, ImportOptions(include=frozenset({"users", "groups"}), match=("z*",)), tenant="x"
    )


def test_exchange_alone_unknown_suggests_leaving_it_out() -> None:
    unknown = Unknown("notManaged", "Exchange: no role")
    with pytest.raises(ImportRefused, match="--include users,groups"):
        build_tenant_import(
            observed(shared_mailboxes=unknown), META, ImportOptions(), imported_at=NOW
        )


def test_partial_consent_and_no_exchange_are_written_as_unmanaged_with_why() -> None:
    obs = observed(
        consent=ConsentStatus("partial", "sp", frozenset(), frozenset({"Directory.Read.All"})),
        exchange=ExchangeAccess("propagating", None, True, False, None),
        shared_mailboxes=Unknown("propagating", "Exchange: not yet"),
        distribution_groups=Unknown("propagating", "Exchange: not yet"),
    )
    text = render(obs, ImportOptions(include=frozenset({"users", "groups"})))
    assert "  # Consent is partial (missing: Directory.Read.All)." in text
    assert "  consent: unmanaged\n" in text
    assert "  exchange: unmanaged\n" in text
    assert "# Exchange could not be read: some disabled users may be" in text


def test_a_new_tenants_metadata_is_a_skeleton_from_the_verified_domains() -> None:
    obs = observed(verified_domains=frozenset({"litwareinc.com", "litware.onmicrosoft.com"}))
    meta = skeleton_metadata("litware", META.tenant_id, "Litware Inc", obs)
    assert meta.domains == ["litware.onmicrosoft.com", "litwareinc.com"]
    assert meta.display_name == "Litware Inc"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Litware Inc", "litware"),
        ("Contoso Ltd.", "contoso"),
        ("Synthetic Tenant 0", "synthetic-tenant-0"),
        ("Müller & Söhne GmbH", "muller-sohne"),  # as discover names it
        ("Inc", "inc"),
    ],
)
def test_customer_slug(name: str, slug: str) -> None:
    assert tenant_slug(name) == slug


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Alice Smith", "Alice Smith"),
        ("alice@contoso.com", "alice@contoso.com"),
        ("NO", '"NO"'),
        ("yes", '"yes"'),
        ("null", '"null"'),
        ("1.0", '"1.0"'),
        ("Sales: EMEA", '"Sales: EMEA"'),
        ("#general", '"#general"'),
        ("[x]", '"[x]"'),
        ("trailing ", '"trailing "'),
        ("Zoë", '"Zoë"'),
        (True, "true"),
    ],
)
def test_scalars_are_quoted_only_when_plain_would_change_them(value: object, written: str) -> None:
    assert scalar(value) == written
