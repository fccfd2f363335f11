"""Users and licences: create, update field by field, enable/disable, delete only on
``ensure: absent``, licences resolved by skuPartNumber, usage location before licences."""

from __future__ import annotations

from controller.models import OperationKind
from controller.plan import Backend
from tests.plan.factories import (
    CTX,
    kinds,
    observed,
    oid,
    params_json,
    plan,
    sku,
    sku_id,
    tenant,
    user,
)

ALICE = {"userPrincipalName": "alice@contoso.com", "displayName": "Alice Smith"}


def test_a_declared_user_missing_from_the_tenant_is_created_with_everything_declared() -> None:
    desired = tenant(
        users=[{**ALICE, "jobTitle": "Sales", "department": "Sales", "accountEnabled": False}]
    )
    tp = plan(desired, observed())
    assert kinds(tp) == [("user.create", "alice@contoso.com")]
    op = tp.operations[0]
    assert op.backend is Backend.GRAPH
    assert op.target == "user:alice@contoso.com"
    assert params_json(op)["body"] == {
        "accountEnabled": False,
        "displayName": "Alice Smith",
        "mailNickname": "alice",
        "userPrincipalName": "alice@contoso.com",
        "jobTitle": "Sales",
        "department": "Sales",
        "usageLocation": "US",  # msp default
        "passwordProfile": {"forceChangePasswordNextSignIn": True},
    }


def test_no_password_ever_appears_in_a_plan() -> None:
    desired = tenant(
        users=[ALICE],
        actions=[{"id": "reset-alice", "resetPassword": {"user": "alice@contoso.com"}}],
    )
    tp = plan(desired, observed(users=(user("alice@contoso.com", display_name="Alice Smith"),)))
    dumped = tp.model_dump_json()
    assert '"password"' not in dumped.replace('"field":"password"', "")
    assert "passwordProfile" not in params_json(tp.operations[0])


def test_update_lists_each_managed_field_that_differs_before_and_after() -> None:
    desired = tenant(users=[{**ALICE, "jobTitle": "Director", "department": "Sales"}])
    seen = observed(
        users=(
            user(
                "alice@contoso.com",
                display_name="Alice Smith",
                job_title="Manager",
                department="Sales",
            ),
        )
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [("user.update", "alice@contoso.com")]
    (change,) = tp.operations[0].changes
    assert (change.field, change.before, change.after) == ("jobTitle", "Manager", "Director")
    assert params_json(tp.operations[0]) == {
        "userId": oid("user", "alice@contoso.com"),
        "body": {"jobTitle": "Director"},
    }


def test_omitted_fields_are_not_compared() -> None:
    desired = tenant(users=[ALICE])
    seen = observed(
        users=(
            user(
                "alice@contoso.com",
                display_name="Alice Smith",
                job_title="Anything",
                account_enabled=False,
                usage_location=None,
                licences=("SPE_E3",),
            ),
        )
    )
    assert plan(desired, seen).operations == ()


def test_equal_in_substance_is_no_change() -> None:
    desired = tenant(
        users=[
            {
                "userPrincipalName": "Alice@Contoso.com",
                "displayName": "Alice  Smith ",
                "usageLocation": "us",
                "mailNickname": "ALICE",
                "jobTitle": "",
                "licenses": ["spe_e3", "SPE_E3"],
            }
        ]
    )
    seen = observed(
        users=(
            user(
                "alice@contoso.com",
                display_name="Alice Smith",
                usage_location="US",
                mail_nickname="alice",
                job_title=None,
                licences=("SPE_E3",),
            ),
        )
    )
    assert plan(desired, seen).operations == ()


def test_a_mail_nickname_that_was_not_read_is_not_compared() -> None:
    desired = tenant(users=[{**ALICE, "mailNickname": "alices"}])
    seen = observed(users=(user("alice@contoso.com", display_name="Alice Smith"),))
    assert plan(desired, seen).operations == ()


def test_account_enabled_plans_enable_and_disable() -> None:
    desired = tenant(
        users=[
            {**ALICE, "accountEnabled": False},
            {"userPrincipalName": "bob@contoso.com", "displayName": "Bob", "accountEnabled": True},
        ]
    )
    seen = observed(
        users=(
            user("alice@contoso.com", display_name="Alice Smith", account_enabled=True),
            user("bob@contoso.com", display_name="Bob", account_enabled=False),
        )
    )
    assert kinds(plan(desired, seen)) == [
        ("user.disable", "alice@contoso.com"),
        ("user.enable", "bob@contoso.com"),
    ]


def test_delete_only_on_ensure_absent_and_only_if_it_exists() -> None:
    desired = tenant(
        users=[
            {"userPrincipalName": "gone@contoso.com", "ensure": "absent"},
            {"userPrincipalName": "never@contoso.com", "ensure": "absent"},
        ]
    )
    seen = observed(
        users=(user("gone@contoso.com"), user("undeclared@contoso.com")),
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [("user.delete", "gone@contoso.com")]
    assert params_json(tp.operations[0])["userId"] == oid("user", "gone@contoso.com")


def test_undeclared_users_are_left_alone() -> None:
    seen = observed(users=(user("eve@contoso.com", account_enabled=False),))
    assert plan(tenant(users=[]), seen).operations == ()


def test_licences_are_resolved_case_insensitively_and_exact() -> None:
    desired = tenant(users=[{**ALICE, "usageLocation": "US", "licenses": ["spe_e3"]}])
    seen = observed(
        users=(
            user(
                "alice@contoso.com",
                display_name="Alice Smith",
                usage_location="US",
                licences=("POWER_BI_PRO",),
            ),
        )
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [
        ("user.assignLicenses", "alice@contoso.com"),
        ("user.removeLicenses", "alice@contoso.com"),
    ]
    add, remove = tp.operations
    assert params_json(add)["addLicenses"] == [
        {"skuId": sku_id("SPE_E3"), "skuPartNumber": "SPE_E3"}
    ]
    assert params_json(remove)["removeLicenses"] == [
        {"skuId": sku_id("POWER_BI_PRO"), "skuPartNumber": "POWER_BI_PRO"}
    ]


def test_an_unknown_sku_is_a_problem_for_that_user_only() -> None:
    desired = tenant(
        users=[
            {**ALICE, "usageLocation": "US", "licenses": ["NOPE"]},
            {"userPrincipalName": "bob@contoso.com", "displayName": "Bob", "licenses": ["SPE_E3"]},
        ]
    )
    seen = observed(users=(user("bob@contoso.com", display_name="Bob", usage_location="US"),))
    tp = plan(desired, seen)
    assert [p.subject for p in tp.problems] == ["user:alice@contoso.com"]
    assert "NOPE" in tp.problems[0].message
    # alice is still created; her licences are not planned; bob's are.
    assert kinds(tp) == [
        ("user.create", "alice@contoso.com"),
        ("user.assignLicenses", "bob@contoso.com"),
    ]


def test_exhausted_units_give_a_finding_and_the_assignment_stays_planned() -> None:
    desired = tenant(users=[{**ALICE, "usageLocation": "US", "licenses": ["SPE_E3"]}])
    seen = observed(
        skus=(sku("SPE_E3", enabled=5, consumed=5),),
        users=(user("alice@contoso.com", display_name="Alice Smith", usage_location="US"),),
    )
    tp = plan(desired, seen)
    assert kinds(tp) == [("user.assignLicenses", "alice@contoso.com")]
    (finding,) = tp.findings
    assert finding.check == "licences" and finding.subject == "licence:SPE_E3"
    assert "0 unit(s) free" in finding.message


def test_usage_location_is_set_before_licences() -> None:
    desired = tenant(users=[{**ALICE, "usageLocation": "GB", "licenses": ["SPE_E3"]}])
    seen = observed(
        users=(user("alice@contoso.com", display_name="Alice Smith", usage_location="US"),)
    )
    update, assign = plan(desired, seen).operations
    assert update.kind is OperationKind.USER_UPDATE
    assert assign.depends_on == (update.id,)


def test_missing_usage_location_comes_from_msp_defaults_before_licences() -> None:
    desired = tenant(users=[{**ALICE, "licenses": ["SPE_E3"]}])
    seen = observed(users=(user("alice@contoso.com", display_name="Alice Smith"),))
    update, assign = plan(desired, seen).operations
    assert [(c.field, c.after) for c in update.changes] == [
        ("usageLocation", CTX.default_usage_location)
    ]
    assert assign.depends_on == (update.id,)


def test_licences_of_a_new_user_depend_on_its_creation() -> None:
    desired = tenant(users=[{**ALICE, "licenses": ["SPE_E3"]}])
    create, assign = plan(desired, observed()).operations
    assert assign.depends_on == (create.id,)
    assert params_json(assign)["userId"] is None


def test_a_upn_in_an_unverified_domain_is_a_problem_not_a_create() -> None:
    desired = tenant(
        domains=("contoso.com", "contoso.onmicrosoft.com", "contoso.co.uk"),
        users=[{"userPrincipalName": "ann@contoso.co.uk", "displayName": "Ann"}],
    )
    tp = plan(desired, observed())
    assert tp.operations == ()
    assert "contoso.co.uk is not verified" in tp.problems[0].message


def test_a_upn_used_as_another_objects_address_is_a_problem() -> None:
    desired = tenant(users=[{"userPrincipalName": "sales@contoso.com", "displayName": "Sales"}])
    seen = observed(users=(user("bob@contoso.com", mail="sales@contoso.com"),))
    tp = plan(desired, seen)
    assert tp.operations == ()
    assert "already the address of user bob@contoso.com" in tp.problems[0].message


def test_two_users_matching_one_upn_is_a_problem_and_nothing_is_planned() -> None:
    desired = tenant(users=[{**ALICE, "jobTitle": "X"}])
    twin = user("ALICE@contoso.com")
    seen = observed(
        users=(user("alice@contoso.com"), type(twin)(**{**_fields(twin), "id": "other-id"}))
    )
    tp = plan(desired, seen)
    assert tp.operations == ()
    assert tp.problems[0].subject == "user:alice@contoso.com"


def _fields(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]
