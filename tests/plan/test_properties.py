"""Properties over generated tenants: a tenant that already matches its desired state needs
no operation; with members unknown, no removal is ever planned."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.models import MEMBER_REMOVALS, TenantConfig
from controller.models.observed import Unknown
from tests.plan.factories import mirror, plan, tenant

LOCALS = st.sampled_from(["alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi"])
NICKS = st.sampled_from(["sales", "ops", "it", "hr", "eng"])
LICENCES = st.lists(st.sampled_from(["SPE_E3", "POWER_BI_PRO", "EMS"]), max_size=2)


@st.composite
def tenants(draw: st.DrawFn) -> TenantConfig:
    upns = sorted(set(draw(st.lists(LOCALS, min_size=1, max_size=6))))
    users = []
    for local in upns:
        case = draw(st.sampled_from([str.lower, str.upper, str.title]))
        user: dict[str, object] = {
            "userPrincipalName": f"{case(local)}@contoso.com",
            "displayName": draw(st.sampled_from(["A B", "Name", "Ünïcode Name"])),
        }
        if draw(st.booleans()):
            user["jobTitle"] = draw(st.sampled_from(["Sales", "IT Lead"]))
        if draw(st.booleans()):
            user["accountEnabled"] = draw(st.booleans())
        if draw(st.booleans()):
            user["usageLocation"] = draw(st.sampled_from(["us", "GB", "De"]))
        if draw(st.booleans()):
            user["licenses"] = draw(LICENCES)
        users.append(user)
    addresses = [f"{u}@contoso.com" for u in upns]
    member_lists = st.lists(st.sampled_from(addresses), max_size=len(addresses))
    groups = [
        {
            "displayName": nick.title(),
            "mailNickname": nick,
            "type": draw(st.sampled_from(["security", "microsoft365"])),
            "members": draw(member_lists),
            "membership": draw(st.sampled_from(["exact", "additive"])),
        }
        for nick in sorted(set(draw(st.lists(NICKS, max_size=3))))
    ]
    dgs = [{"name": "All", "primarySmtpAddress": "all@contoso.com", "members": draw(member_lists)}]
    mailboxes = [
        {
            "name": "Support",
            "primarySmtpAddress": "support@contoso.com",
            "fullAccess": draw(member_lists),
            "sendAs": draw(member_lists),
        }
    ]
    return tenant(
        exchange="direct",
        users=users,
        groups=groups,
        distributionGroups=dgs,
        sharedMailboxes=mailboxes,
    )


@settings(max_examples=150, deadline=None)
@given(tenants())
def test_a_tenant_equal_to_its_desired_state_needs_no_operation(desired: TenantConfig) -> None:
    tp = plan(desired, mirror(desired))
    assert tp.operations == (), [op.id for op in tp.operations]
    assert tp.problems == () and tp.observation == "complete"


@settings(max_examples=150, deadline=None)
@given(tenants())
def test_with_members_unknown_no_removal_is_ever_planned(desired: TenantConfig) -> None:
    seen = mirror(desired)
    unknown = Unknown("throttled", "429")
    groups = tuple(dataclasses.replace(g, members=unknown) for g in seen.groups)  # type: ignore[union-attr]
    dgs = tuple(dataclasses.replace(g, members=unknown) for g in seen.distribution_groups)  # type: ignore[union-attr]
    boxes = tuple(
        dataclasses.replace(m, full_access=unknown, send_as=unknown, send_on_behalf=unknown)
        for m in seen.shared_mailboxes  # type: ignore[union-attr]
    )
    tp = plan(
        desired,
        dataclasses.replace(seen, groups=groups, distribution_groups=dgs, shared_mailboxes=boxes),
    )
    assert not [op for op in tp.operations if op.kind in MEMBER_REMOVALS]
    member_kinds = {"group.addMember", "distributionGroup.addMember", "mailboxPermission.add"}
    assert not [op for op in tp.operations if op.kind.value in member_kinds]
    if any(g.members is not None for g in desired.spec.groups):
        assert tp.observation == "partial"
