"""Entra groups: create (security / Microsoft 365), update, delete on absent, members exact
vs additive, members that this plan creates, ambiguous and mismatched groups."""

from __future__ import annotations

from controller.models.observed import Principal, Unknown
from tests.plan.factories import (
    group,
    kinds,
    observed,
    oid,
    params_json,
    plan,
    principal,
    tenant,
    user,
)

USERS = [
    {"userPrincipalName": "alice@contoso.com", "displayName": "Alice"},
    {"userPrincipalName": "bob@contoso.com", "displayName": "Bob"},
]
SEEN_USERS = (
    user("alice@contoso.com", display_name="Alice"),
    user("bob@contoso.com", display_name="Bob"),
)


def test_a_security_group_is_created_then_its_members_added() -> None:
    desired = tenant(
        users=USERS,
        groups=[
            {"displayName": "Sales", "mailNickname": "sales", "members": ["alice@contoso.com"]}
        ],
    )
    tp = plan(desired, observed(users=SEEN_USERS))
    assert kinds(tp) == [("group.create", "sales"), ("group.addMember", "sales/alice@contoso.com")]
    create, add = tp.operations
    assert params_json(create)["body"] == {
        "displayName": "Sales",
        "mailNickname": "sales",
        "mailEnabled": False,
        "securityEnabled": True,
        "groupTypes": [],
    }
    assert add.depends_on == (create.id,)
    assert params_json(add) == {
        "groupId": None,
        "memberId": oid("user", "alice@contoso.com"),
        "member": "alice@contoso.com",
    }


def test_a_microsoft_365_group_is_unified_and_mail_enabled() -> None:
    desired = tenant(groups=[{"displayName": "P", "mailNickname": "p", "type": "microsoft365"}])
    (create,) = plan(desired, observed()).operations
    assert params_json(create)["body"]["groupTypes"] == ["Unified"]
    assert params_json(create)["body"]["mailEnabled"] is True


def test_exact_membership_adds_and_removes() -> None:
    desired = tenant(
        users=USERS,
        groups=[{"displayName": "Sales", "mailNickname": "sales", "members": ["bob@contoso.com"]}],
    )
    seen = observed(
        users=SEEN_USERS, groups=(group("sales", "alice@contoso.com", display_name="Sales"),)
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [
        ("group.addMember", "sales/bob@contoso.com"),
        ("group.removeMember", "sales/alice@contoso.com"),
    ]
    remove = tp.operations[1]
    assert params_json(remove)["memberId"] == oid("user", "alice@contoso.com")


def test_additive_membership_never_removes() -> None:
    desired = tenant(
        users=USERS,
        groups=[
            {
                "displayName": "Sales",
                "mailNickname": "sales",
                "members": ["bob@contoso.com"],
                "membership": "additive",
            }
        ],
    )
    seen = observed(
        users=SEEN_USERS, groups=(group("sales", "alice@contoso.com", display_name="Sales"),)
    )
    assert kinds(plan(desired, seen)) == [("group.addMember", "sales/bob@contoso.com")]


def test_members_omitted_means_members_not_managed() -> None:
    desired = tenant(groups=[{"displayName": "Sales", "mailNickname": "sales"}])
    seen = observed(groups=(group("sales", "eve@contoso.com", display_name="Sales"),))
    assert plan(desired, seen).operations == ()


def test_member_order_and_case_do_not_matter() -> None:
    desired = tenant(
        users=USERS,
        groups=[
            {
                "displayName": "Sales",
                "mailNickname": "SALES",
                "members": ["BOB@contoso.com", "alice@CONTOSO.com", "bob@contoso.com"],
            }
        ],
    )
    seen = observed(
        users=SEEN_USERS,
        groups=(group("sales", "Alice@Contoso.com", "bob@contoso.com", display_name="Sales"),),
    )
    assert plan(desired, seen).operations == ()


def test_a_member_created_by_this_plan_is_added_after_its_creation() -> None:
    desired = tenant(
        users=[{"userPrincipalName": "carol@contoso.com", "displayName": "Carol"}],
        groups=[
            {"displayName": "Sales", "mailNickname": "sales", "members": ["carol@contoso.com"]}
        ],
    )
    seen = observed(groups=(group("sales", display_name="Sales"),))
    create, add = plan(desired, seen).operations
    assert add.depends_on == (create.id,)
    assert params_json(add)["memberId"] is None


def test_update_display_name_and_description() -> None:
    desired = tenant(
        groups=[{"displayName": "Sales EU", "mailNickname": "sales", "description": "EU"}]
    )
    seen = observed(groups=(group("sales", display_name="Sales", description=None),))
    (update,) = plan(desired, seen).operations
    assert [(c.field, c.before, c.after) for c in update.changes] == [
        ("displayName", "Sales", "Sales EU"),
        ("description", None, "EU"),
    ]


def test_delete_on_absent_only_if_it_exists() -> None:
    desired = tenant(
        groups=[
            {"mailNickname": "old", "ensure": "absent"},
            {"mailNickname": "never", "ensure": "absent"},
        ]
    )
    seen = observed(groups=(group("old"), group("other")))
    assert kinds(plan(desired, seen)) == [("group.delete", "old")]


def test_two_groups_with_one_mail_nickname_are_a_problem_and_nothing_is_planned() -> None:
    desired = tenant(
        users=USERS,
        groups=[{"displayName": "Sales", "mailNickname": "sales", "members": ["bob@contoso.com"]}],
    )
    seen = observed(
        users=SEEN_USERS,
        groups=(group("sales", gid="g1"), group("Sales", gid="g2")),
    )
    tp = plan(desired, seen)
    assert tp.operations == ()
    assert tp.problems[0].subject == "group:sales"
    assert "2 groups" in tp.problems[0].message


def test_a_distribution_group_nickname_is_a_problem_for_an_entra_group() -> None:
    desired = tenant(groups=[{"displayName": "Sales", "mailNickname": "sales"}])
    seen = observed(groups=(group("sales", kind="distribution"),))
    tp = plan(desired, seen)
    assert tp.operations == () and "distributionGroups" in tp.problems[0].message


def test_a_type_mismatch_is_a_problem() -> None:
    desired = tenant(
        groups=[{"displayName": "Sales", "mailNickname": "sales", "type": "microsoft365"}]
    )
    seen = observed(groups=(group("sales", display_name="Sales", kind="security"),))
    tp = plan(desired, seen)
    assert tp.operations == () and "cannot change a group's type" in tp.problems[0].message


def test_an_existing_principal_not_in_the_tenant_is_a_problem_for_that_member() -> None:
    desired = tenant(
        existingPrincipals=["admin@contoso.com"],
        groups=[
            {"displayName": "Sales", "mailNickname": "sales", "members": ["admin@contoso.com"]}
        ],
    )
    seen = observed(groups=(group("sales", display_name="Sales"),))
    tp = plan(desired, seen)
    assert tp.operations == ()
    assert tp.problems[0].subject == "group:sales"
    assert "admin@contoso.com is not in the tenant" in tp.problems[0].message


def test_members_without_an_address_are_left_alone_with_a_warning() -> None:
    desired = tenant(groups=[{"displayName": "Sales", "mailNickname": "sales", "members": []}])
    device = Principal(id="dev-1", address=None, kind="device")
    seen = observed(
        groups=(
            group(
                "sales", display_name="Sales", member_list=(device, principal("eve@contoso.com"))
            ),
        )
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [("group.removeMember", "sales/eve@contoso.com")]
    assert "without an address" in tp.warnings[0]


def test_unknown_members_plan_no_member_change_and_say_why() -> None:
    desired = tenant(
        users=USERS,
        groups=[{"displayName": "Sales", "mailNickname": "sales", "members": ["bob@contoso.com"]}],
    )
    failed = Unknown("throttled", "429 after 5 retries")
    seen = observed(
        users=SEEN_USERS, groups=(group("sales", display_name="Sales", member_list=failed),)
    )
    tp = plan(desired, seen)
    assert tp.operations == ()
    assert tp.observation == "partial"
    assert [(u.area, u.code) for u in tp.unknown] == [("groups/sales/members", "throttled")]
