"""An approval covers its own consequences: an operation that depends on an earlier operation
of the same plan is fingerprinted on the state its dependencies leave (by natural keys), so the
re-plan after those ran (and the run was killed) computes the same fingerprint; a change by
anyone else to what it covers still changes it (stale)."""

from __future__ import annotations

from controller.plan import TenantPlan
from tests.plan.factories import dg, group, mailbox, members, observed, plan, tenant, user

CAROL = {
    "userPrincipalName": "carol@contoso.com",
    "displayName": "Carol",
    "licenses": ["SPE_E3"],
}
DESIRED = tenant(
    users=[CAROL],
    groups=[
        {
            "displayName": "Tellers",
            "mailNickname": "tellers",
            "type": "security",
            "members": ["carol@contoso.com"],
        }
    ],
    distributionGroups=[
        {"name": "All", "primarySmtpAddress": "all@contoso.com", "members": ["carol@contoso.com"]}
    ],
    sharedMailboxes=[
        {
            "name": "Info",
            "primarySmtpAddress": "info@contoso.com",
            "fullAccess": ["carol@contoso.com"],
        }
    ],
    actions=[
        {"id": "reset-carol", "resetPassword": {"user": "carol@contoso.com"}},
    ],
)


def _fingerprints(tp: TenantPlan) -> dict[str, str]:
    return {op.id: op.fingerprint for op in tp.operations}


def _after_the_creates(usage_location: str = "US") -> TenantPlan:
    """The re-plan once the creates of the first plan ran: carol as the create made her
    (usage location from msp.yaml's defaults, no licence), the new groups and mailbox empty."""
    made = user("carol@contoso.com", display_name="Carol", usage_location=usage_location)
    return plan(
        DESIRED,
        observed(
            users=(made,),
            groups=(group("tellers", display_name="Tellers"),),
            distribution_groups=(dg("all@contoso.com", name="All", member_list=members()),),
            shared_mailboxes=(mailbox("info@contoso.com", name="Info"),),
        ),
    )


def test_dependents_keep_their_fingerprints_once_their_creates_ran() -> None:
    before = plan(DESIRED, observed())
    creates = {op.id for op in before.operations if op.kind.value.endswith(".create")}
    dependents = {op.id for op in before.operations if op.depends_on} - creates
    assert {
        "contoso/user.assignLicenses/carol@contoso.com",
        "contoso/group.addMember/tellers/carol@contoso.com",
        "contoso/distributionGroup.addMember/all@contoso.com/carol@contoso.com",
        "contoso/mailboxPermission.add/info@contoso.com/fullAccess/carol@contoso.com",
        "contoso/user.resetPassword/carol@contoso.com/reset-carol",
    } <= dependents
    after = _after_the_creates()
    assert not [op for op in after.operations if op.kind.value.endswith(".create")]
    assert {op.id for op in after.operations} == dependents
    fingerprints = _fingerprints(before)
    assert {i: fingerprints[i] for i in dependents} == _fingerprints(after)


def test_a_usage_location_changed_by_someone_else_makes_the_licence_stale() -> None:
    before = _fingerprints(plan(DESIRED, observed()))
    after = _fingerprints(_after_the_creates(usage_location="DE"))
    licence = "contoso/user.assignLicenses/carol@contoso.com"
    assert after[licence] != before[licence]
    member = "contoso/group.addMember/tellers/carol@contoso.com"
    assert after[member] == before[member]  # what it covers did not change
