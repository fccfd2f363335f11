"""Distribution groups, shared mailboxes and mailbox permissions: backend by route, create /
update / delete, members and FullAccess / SendAs / SendOnBehalf, exact vs additive, service
defaults, ambiguous addresses, Exchange unknown."""

from __future__ import annotations

from typing import Any

from controller.models.observed import Unknown
from controller.plan import Backend
from tests.plan.factories import (
    dg,
    exchange_cipp,
    exchange_none,
    kinds,
    mailbox,
    observed,
    params_json,
    plan,
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


def test_distribution_group_create_then_members_through_exchange() -> None:
    desired = tenant(
        exchange="direct",
        users=USERS,
        distributionGroups=[
            {
                "name": "All Staff",
                "primarySmtpAddress": "allstaff@contoso.com",
                "members": ["alice@contoso.com"],
            }
        ],
    )
    tp = plan(desired, observed(users=SEEN_USERS))
    assert kinds(tp) == [
        ("distributionGroup.create", "allstaff@contoso.com"),
        ("distributionGroup.addMember", "allstaff@contoso.com/alice@contoso.com"),
    ]
    create, add = tp.operations
    assert create.backend is Backend.EXCHANGE
    assert params_json(create) == {
        "name": "All Staff",
        "displayName": "All Staff",
        "primarySmtpAddress": "allstaff@contoso.com",
    }
    assert add.depends_on == (create.id,)


def test_the_cipp_route_makes_cipp_the_backend() -> None:
    desired = tenant(
        exchange="cipp",
        distributionGroups=[
            {"name": "Old", "primarySmtpAddress": "old@contoso.com", "ensure": "absent"}
        ],
    )
    seen = observed(exchange=exchange_cipp(), distribution_groups=(dg("old@contoso.com"),))
    (delete,) = plan(desired, seen).operations
    assert delete.kind.value == "distributionGroup.delete"
    assert delete.backend is Backend.CIPP


def test_a_missing_display_name_defaults_to_name_so_no_drift() -> None:
    desired = tenant(
        exchange="direct",
        distributionGroups=[{"name": "All Staff", "primarySmtpAddress": "allstaff@contoso.com"}],
        sharedMailboxes=[
            {
                "name": "Support",
                "displayName": "Support",
                "primarySmtpAddress": "support@contoso.com",
            }
        ],
    )
    seen = observed(
        distribution_groups=(dg("AllStaff@Contoso.com", name="all staff", display_name=None),),
        shared_mailboxes=(mailbox("support@contoso.com", name="Support", display_name=None),),
    )
    assert plan(desired, seen).operations == ()


def test_exact_dg_members_add_and_remove_additive_only_adds() -> None:
    desired = tenant(
        exchange="direct",
        users=USERS,
        distributionGroups=[
            {"name": "A", "primarySmtpAddress": "a@contoso.com", "members": ["bob@contoso.com"]},
            {
                "name": "B",
                "primarySmtpAddress": "b@contoso.com",
                "members": ["bob@contoso.com"],
                "membership": "additive",
            },
        ],
    )
    seen = observed(
        users=SEEN_USERS,
        distribution_groups=(
            dg("a@contoso.com", "alice@contoso.com", name="A"),
            dg("b@contoso.com", "alice@contoso.com", name="B"),
        ),
    )
    assert kinds(plan(desired, seen)) == [
        ("distributionGroup.addMember", "a@contoso.com/bob@contoso.com"),
        ("distributionGroup.removeMember", "a@contoso.com/alice@contoso.com"),
        ("distributionGroup.addMember", "b@contoso.com/bob@contoso.com"),
    ]


def test_mailbox_permissions_per_right_exact() -> None:
    desired = tenant(
        exchange="direct",
        users=USERS,
        sharedMailboxes=[
            {
                "name": "Support",
                "primarySmtpAddress": "support@contoso.com",
                "fullAccess": ["alice@contoso.com"],
                "sendAs": [],
                "sendOnBehalf": ["bob@contoso.com"],
            }
        ],
    )
    seen = observed(
        users=SEEN_USERS,
        shared_mailboxes=(
            mailbox(
                "support@contoso.com",
                name="Support",
                full_access=("bob@contoso.com",),
                send_as=("bob@contoso.com",),
                send_on_behalf=("bob@contoso.com",),
            ),
        ),
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [
        ("mailboxPermission.add", "support@contoso.com/fullAccess/alice@contoso.com"),
        ("mailboxPermission.remove", "support@contoso.com/fullAccess/bob@contoso.com"),
        ("mailboxPermission.remove", "support@contoso.com/sendAs/bob@contoso.com"),
    ]
    assert params_json(tp.operations[0])["right"] == "FullAccess"
    assert params_json(tp.operations[2])["right"] == "SendAs"


def test_additive_permissions_never_remove_and_omitted_rights_are_unmanaged() -> None:
    desired = tenant(
        exchange="direct",
        users=USERS,
        sharedMailboxes=[
            {
                "name": "Support",
                "primarySmtpAddress": "support@contoso.com",
                "fullAccess": ["alice@contoso.com"],
                "permissions": "additive",
            }
        ],
    )
    seen = observed(
        users=SEEN_USERS,
        shared_mailboxes=(
            mailbox(
                "support@contoso.com",
                name="Support",
                full_access=("bob@contoso.com",),
                send_as=("bob@contoso.com",),
            ),
        ),
    )
    assert kinds(plan(desired, seen)) == [
        ("mailboxPermission.add", "support@contoso.com/fullAccess/alice@contoso.com")
    ]


def test_a_new_mailbox_gets_its_permissions_after_creation() -> None:
    desired = tenant(
        exchange="direct",
        users=USERS,
        sharedMailboxes=[
            {
                "name": "Info",
                "primarySmtpAddress": "info@contoso.com",
                "fullAccess": ["alice@contoso.com"],
            }
        ],
    )
    create, grant = plan(desired, observed(users=SEEN_USERS)).operations
    assert create.kind.value == "sharedMailbox.create"
    assert grant.depends_on == (create.id,)


def test_unknown_permission_set_plans_nothing_for_it() -> None:
    desired = tenant(
        exchange="direct",
        users=USERS,
        sharedMailboxes=[
            {
                "name": "Support",
                "primarySmtpAddress": "support@contoso.com",
                "fullAccess": [],
                "sendAs": ["alice@contoso.com"],
            }
        ],
    )
    failed = Unknown("unavailable", "Get-MailboxPermission timed out")
    seen = observed(
        users=SEEN_USERS,
        shared_mailboxes=(mailbox("support@contoso.com", name="Support", full_access=failed),),
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [("mailboxPermission.add", "support@contoso.com/sendAs/alice@contoso.com")]
    assert [u.area for u in tp.unknown] == ["sharedMailboxes/support@contoso.com/fullAccess"]


def test_exchange_unknown_plans_nothing_for_exchange_objects() -> None:
    desired = tenant(
        exchange="direct",
        distributionGroups=[
            {"name": "All", "primarySmtpAddress": "all@contoso.com", "members": []}
        ],
        sharedMailboxes=[{"name": "Info", "primarySmtpAddress": "info@contoso.com"}],
    )
    down = Unknown("propagating", "403 while the role propagates")
    tp = plan(desired, observed(distribution_groups=down, shared_mailboxes=down))
    assert tp.operations == ()
    assert {u.area for u in tp.unknown} == {"distributionGroups", "sharedMailboxes"}


def test_no_exchange_route_means_nothing_planned_even_if_objects_were_read() -> None:
    desired = tenant(
        exchange="cipp",
        sharedMailboxes=[{"name": "Info", "primarySmtpAddress": "info@contoso.com"}],
    )
    tp = plan(desired, observed(exchange=exchange_none()))
    assert tp.operations == ()
    assert tp.unknown[0].code == "notManaged"


def test_two_objects_with_one_address_are_a_problem() -> None:
    desired = tenant(
        exchange="direct",
        distributionGroups=[
            {"name": "Sales", "primarySmtpAddress": "sales@contoso.com", "members": []}
        ],
    )
    seen = observed(
        distribution_groups=(dg("sales@contoso.com", "x@contoso.com"),),
        shared_mailboxes=(mailbox("sales@contoso.com"),),
    )
    tp = plan(desired, seen)
    assert tp.operations == ()
    assert tp.problems[0].subject == "distributionGroup:sales@contoso.com"


def test_an_address_held_by_a_mailbox_is_a_problem_for_a_declared_dg() -> None:
    desired = tenant(
        exchange="direct",
        distributionGroups=[{"name": "Sales", "primarySmtpAddress": "sales@contoso.com"}],
    )
    tp = plan(desired, observed(shared_mailboxes=(mailbox("sales@contoso.com"),)))
    assert tp.operations == () and "shared mailbox" in tp.problems[0].message


def test_dg_address_in_unverified_domain_is_a_problem() -> None:
    desired = tenant(
        exchange="direct",
        domains=("contoso.com", "contoso.onmicrosoft.com", "contoso.net"),
        distributionGroups=[{"name": "X", "primarySmtpAddress": "x@contoso.net"}],
    )
    tp = plan(desired, observed())
    assert tp.operations == () and "not verified" in tp.problems[0].message


def test_dg_update_by_field() -> None:
    desired = tenant(
        exchange="direct",
        distributionGroups=[
            {
                "name": "All Staff",
                "displayName": "Everyone",
                "primarySmtpAddress": "allstaff@contoso.com",
            }
        ],
    )
    seen = observed(
        distribution_groups=(
            dg("allstaff@contoso.com", name="All Staff", display_name="All Staff"),
        )
    )
    (update,) = plan(desired, seen).operations
    assert update.kind.value == "distributionGroup.update"
    assert params_json(update)["set"] == {"displayName": "Everyone"}


def test_a_mailbox_as_member_of_a_distribution_group() -> None:
    desired = tenant(
        exchange="direct",
        distributionGroups=[
            {
                "name": "All",
                "primarySmtpAddress": "all@contoso.com",
                "members": ["info@contoso.com"],
            }
        ],
        sharedMailboxes=[{"name": "Info", "primarySmtpAddress": "info@contoso.com"}],
    )
    tp = plan(desired, observed(distribution_groups=(dg("all@contoso.com", name="All"),)))
    ops = {op.kind.value: op for op in tp.operations}
    assert ops["distributionGroup.addMember"].depends_on == (ops["sharedMailbox.create"].id,)


def test_what_cipp_cannot_do_is_a_manual_step_at_plan_time() -> None:
    """CIPP has no endpoint for changing a distribution group or a shared mailbox, or deleting
    a shared mailbox: a manual step with where to do it, never an approvable write."""
    declared: dict[str, Any] = {
        "distributionGroups": [
            {
                "name": "All Staff",
                "displayName": "Everyone",
                "primarySmtpAddress": "allstaff@contoso.com",
            },
            {"name": "Old", "primarySmtpAddress": "old@contoso.com", "ensure": "absent"},
        ],
        "sharedMailboxes": [
            {"name": "Help Desk", "primarySmtpAddress": "support@contoso.com"},
            {"name": "Info", "primarySmtpAddress": "info@contoso.com", "ensure": "absent"},
        ],
    }
    objects: dict[str, Any] = {
        "distribution_groups": (
            dg("allstaff@contoso.com", name="All Staff", display_name="All Staff"),
            dg("old@contoso.com"),
        ),
        "shared_mailboxes": (
            mailbox("support@contoso.com", name="Support"),
            mailbox("info@contoso.com", name="Info"),
        ),
    }
    cipp = plan(tenant(exchange="cipp", **declared), observed(exchange=exchange_cipp(), **objects))
    ops = {f"{op.kind.value} {op.target}": op for op in cipp.operations}
    assert {k: op.backend.value for k, op in ops.items()} == {
        "distributionGroup.update distributionGroup:allstaff@contoso.com": "manual",
        "distributionGroup.delete distributionGroup:old@contoso.com": "cipp",
        "sharedMailbox.update sharedMailbox:support@contoso.com": "manual",
        "sharedMailbox.delete sharedMailbox:info@contoso.com": "manual",
    }
    rename = ops["sharedMailbox.update sharedMailbox:support@contoso.com"].manual
    assert rename is not None
    assert rename.title.startswith("Change shared mailbox support@contoso.com in ")
    assert 'set support@contoso.com\'s name "Help Desk"' in rename.instructions
    # The customer's own Exchange admin center: delegatedOrg names its default domain.
    assert rename.link == (
        "https://admin.exchange.microsoft.com/?landingpage=homepage&form=mac_sidebar"
        "&delegatedOrg=contoso.com#/mailboxes"
    )
    # The same changes through Exchange directly are plain writes.
    direct = plan(tenant(exchange="direct", **declared), observed(**objects))
    assert {op.backend.value for op in direct.operations} == {"exchange"}
