"""Unknown is never absent, and the observation status says what was known: complete,
partial (with reasons), failed (nothing could be read)."""

from __future__ import annotations

from controller.models.observed import Unknown
from controller.plan.planner import not_observed
from tests.plan.factories import CTX, consent_pending, group, observed, plan, tenant, user

DESIRED = dict(
    users=[
        {"userPrincipalName": "alice@contoso.com", "displayName": "Alice", "licenses": ["SPE_E3"]},
        {"userPrincipalName": "gone@contoso.com", "ensure": "absent"},
    ],
    groups=[{"displayName": "Sales", "mailNickname": "sales", "members": ["alice@contoso.com"]}],
)


def test_users_unknown_means_no_user_operation_not_even_a_create() -> None:
    down = Unknown("unavailable", "503 after retries")
    tp = plan(
        tenant(**DESIRED),
        observed(users=down, groups=(group("sales", "eve@contoso.com", display_name="Sales"),)),
    )
    assert not any(op.kind.value.startswith("user.") for op in tp.operations)
    # the member to add cannot be resolved; the removal of eve is still known to be right
    assert [op.id.split("/", 2)[2] for op in tp.operations] == ["sales/eve@contoso.com"]
    assert {u.area for u in tp.unknown} == {"users", "groups/sales/members/alice@contoso.com"}
    assert tp.observation == "partial"


def test_groups_unknown_means_no_group_operation() -> None:
    tp = plan(
        tenant(**DESIRED),
        observed(groups=Unknown("throttled", "429"), users=(user("gone@contoso.com"),)),
    )
    assert not any(op.kind.value.startswith("group.") for op in tp.operations)
    assert "groups" in {u.area for u in tp.unknown}


def test_licences_unknown_holds_only_licences() -> None:
    tp = plan(tenant(**DESIRED), observed(skus=Unknown("error", "boom")))
    assert "user.create" in {op.kind.value for op in tp.operations}
    assert "user.assignLicenses" not in {op.kind.value for op in tp.operations}
    assert [u.area for u in tp.unknown] == ["licences"]


def test_domains_unknown_holds_creates() -> None:
    tp = plan(tenant(**DESIRED), observed(verified_domains=Unknown("error", "boom")))
    assert "user.create" not in {op.kind.value for op in tp.operations}
    assert "domains" in {u.area for u in tp.unknown}


def test_consent_pending_everything_else_unknown() -> None:
    blocked = Unknown("consentMissing", "no service principal")
    seen = observed(
        consent=consent_pending(),
        users=blocked,
        groups=blocked,
        skus=blocked,
        verified_domains=blocked,
    )
    tp = plan(tenant(**DESIRED), seen)
    assert [op.kind.value for op in tp.operations] == ["consent.grant"]
    assert tp.observation == "partial"
    assert {u.code for u in tp.unknown} == {"consentMissing"}


def test_nothing_read_is_failed() -> None:
    desired = tenant(**DESIRED)
    tp = plan(desired, not_observed(desired, CTX, "token request failed"))
    assert tp.observation == "failed"
    assert tp.operations == ()
    assert tp.badges.gdap == "unknown"


def test_unmanaged_areas_being_unknown_keep_the_observation_complete() -> None:
    down = Unknown("error", "boom")
    tp = plan(tenant(), observed(users=down, groups=down, skus=down, mfa=down))
    assert tp.observation == "complete"
