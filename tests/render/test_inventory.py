"""The items of ``tenantctl get`` from the demo world: every kind, each item's GIT column (file
and line, or none), and unknown kept unknown: an unreadable area gives no items and a reason,
never an empty list; a cell that needs an unreadable area is ``unknown`` or null with that
area's reason listed once; members not read are null, not zero."""

from __future__ import annotations

import dataclasses

import pytest

from controller.models.declared import Declarations, estate_declarations
from controller.models.observed import ObservedTenant, Unknown
from controller.render.documents import GetMembersReport
from controller.render.inventory import (
    KINDS,
    consent_items,
    gdap_items,
    get_document,
    group_items,
    licence_items,
    member_items,
    shared_mailbox_items,
    user_items,
)
from tests.fixtures.demo_observed import demo_desired, demo_observed


@pytest.fixture(scope="module")
def demo() -> dict[str, tuple[ObservedTenant, Declarations]]:
    state = demo_desired()
    observed = demo_observed(state)
    declared = estate_declarations(state)
    return {name: (observed[name], declared[name]) for name in sorted(observed)}


def test_users_carry_licence_names_mfa_risk_and_where_git_declares_them(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    listing = user_items(*demo["contoso"])
    assert listing.unknown == []
    users = {u.user_principal_name: u for u in listing.items}
    alice, bob, eve = (users[f"{n}@contoso.com"] for n in ("alice", "bob", "eve"))
    assert alice.licences == ("POWER_BI_PRO", "SPE_E3")
    assert (bob.mfa, bob.mfa_capable, bob.risk) == ("notRegistered", False, "medium")
    assert alice.declared is not None
    assert (alice.declared.file, alice.declared.line) == ("desired/tenants/contoso.yaml", 18)
    assert eve.declared is None
    assert users["temp.contractor@contoso.com"].declared.ensure == "absent"  # type: ignore[union-attr]


def test_an_unreadable_area_gives_no_items_and_its_reason(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    listing = user_items(*demo["adatum"])
    assert listing.items == []
    (unknown,) = listing.unknown
    assert (unknown.tenant, unknown.area, unknown.code) == ("adatum", "users", "consentMissing")
    for build in (group_items, licence_items):
        assert build(*demo["adatum"]).unknown, build.__name__
    # Consent is known there: pending, nothing granted.
    consent = consent_items(*demo["adatum"])
    assert consent.unknown == [] and not any(i.granted for i in consent.items)


def test_cells_that_need_an_unreadable_area_say_unknown_and_the_reason_is_listed_once(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    listing = user_items(*demo["woodgrove"])
    assert {(u.mfa, u.risk, u.mfa_capable) for u in listing.items} == {("unknown", "unknown", None)}
    assert [(u.area, u.code) for u in listing.unknown] == [
        ("mfa", "needsLicence"),
        ("riskyUsers", "needsLicence"),
    ]
    seen, declared = demo["contoso"]
    no_skus = dataclasses.replace(seen, skus=Unknown("permissionDenied", "licences: denied"))
    listing = user_items(no_skus, declared)
    alice = next(u for u in listing.items if u.user_principal_name == "alice@contoso.com")
    assert all(len(sku) == 36 for sku in alice.licences)  # ids, not names
    assert [(u.area, u.subject) for u in listing.unknown] == [("licences", "licence names")]


def test_groups_are_the_entra_ones_with_a_member_count_or_null(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    seen, declared = demo["woodgrove"]
    assert isinstance(seen.groups, tuple)
    unread = tuple(
        dataclasses.replace(g, members=None) if g.mail_nickname == "branch-it" else g
        for g in seen.groups
    )
    listing = group_items(dataclasses.replace(seen, groups=unread), declared)
    groups = {g.mail_nickname: g for g in listing.items}
    assert groups["legacy-vpn"].members == 1
    assert groups["legacy-vpn"].declared.ensure == "absent"  # type: ignore[union-attr]
    # branch-it's members were not read (git does not declare it): null, never 0
    assert groups["branch-it"].members is None and groups["branch-it"].declared is None
    assert [(u.area, u.subject, u.code) for u in listing.unknown] == [
        ("members", "branch-it", "notManaged")
    ]


def test_members_of_a_group_say_which_git_lists(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    listing, missing = member_items(*demo["contoso"], "Sales")
    assert not missing
    assert [(m.address, m.declared is not None) for m in listing.items] == [
        ("alice@contoso.com", True),
        ("eve@contoso.com", False),
    ]
    dg, _ = member_items(*demo["contoso"], "allstaff@contoso.com")
    assert {m.group for m in dg.items} == {"allstaff@contoso.com"}
    none, missing = member_items(*demo["fabrikam"], "sales")
    assert missing and none.items == []
    # Not found is not certain when a kind of group could not be read.
    unsure, missing = member_items(*demo["woodgrove"], "sales")
    assert not missing and [u.area for u in unsure.unknown] == ["distributionGroups"]


def test_shared_mailboxes_list_each_right_and_null_where_not_read(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    listing = shared_mailbox_items(*demo["fabrikam"])
    (accounts,) = listing.items
    assert (accounts.full_access, accounts.send_as, accounts.send_on_behalf) == (
        ("erin@fabrikam.com",),
        ("erin@fabrikam.com",),
        ("frank@fabrikam.com",),
    )
    seen, declared = demo["contoso"]
    mailboxes = seen.shared_mailboxes
    assert isinstance(mailboxes, tuple)
    unread = dataclasses.replace(mailboxes[0], send_as=None)
    listing = shared_mailbox_items(dataclasses.replace(seen, shared_mailboxes=(unread,)), declared)
    assert listing.items[0].send_as is None
    assert [(u.area, u.code) for u in listing.unknown] == [("sendAs", "notManaged")]


def test_licences_consent_and_gdap(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    skus = {i.sku_part_number: i for i in licence_items(*demo["contoso"]).items}
    assert (skus["SPE_E3"].consumed, skus["SPE_E3"].enabled, skus["SPE_E3"].available) == (
        20,
        25,
        5,
    )
    assert skus["SPE_E3"].declared is not None and skus["POWER_BI_PRO"].declared is None
    consent = {i.permission: i for i in consent_items(*demo["tailspin"]).items}
    assert (consent["AuditLog.Read.All"].required, consent["AuditLog.Read.All"].granted) == (
        True,
        False,
    )
    assert consent["RoleManagement.ReadWrite.Directory"].required is False
    (rel,) = gdap_items(*demo["contoso"]).items
    assert rel.roles == ("Global Administrator",) and rel.declared is None
    assert rel.ends is not None and rel.ends.endswith("Z")


def test_every_kind_has_a_document_over_every_tenant(
    demo: dict[str, tuple[ObservedTenant, Declarations]],
) -> None:
    pairs = list(demo.values())
    for kind in KINDS:
        document = get_document(kind, pairs, group="sales" if kind == "members" else None)
        assert document.kind == kind
        assert document.tenants == ("adatum", "contoso", "fabrikam", "tailspin", "woodgrove")
        assert document.unknown or kind in ("consent", "gdap"), kind
    members = get_document("members", pairs, group=" Sales ")
    assert isinstance(members, GetMembersReport)
    assert (members.group, members.not_found) == ("sales", ("fabrikam",))
    with pytest.raises(ValueError, match="group"):
        get_document("members", pairs)
