"""Interrupted creates are evidence: when the journal says a create was called and never
answered, the planner does not create the object again while it may only be hidden by
replication (the area is unknown, "may not be visible yet", and what names it waits); it
creates it, under the same fingerprint, once the replication window has passed and a direct
lookup found nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from controller.models.observed import EarlierCreate
from controller.plan import TenantPlan
from tests.plan.factories import NOW, dg, group, members, observed, plan, tenant

CAROL = {"userPrincipalName": "carol@contoso.com", "displayName": "Carol", "licenses": ["SPE_E3"]}
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
    distributionGroups=[{"name": "All", "primarySmtpAddress": "all@contoso.com"}],
)


def _earlier(kind: str, key: str, ago: dt.timedelta, found: bool | None) -> EarlierCreate:
    return EarlierCreate(kind=kind, key=key, intent_at=NOW - ago, run_id=7, found=found)


def _plan(*earlier: EarlierCreate) -> TenantPlan:
    return plan(DESIRED, observed(earlier_creates=earlier))


def test_a_create_that_may_have_happened_is_not_made_again() -> None:
    tp = _plan(_earlier("user.create", "carol@contoso.com", dt.timedelta(seconds=30), False))
    ids = {op.id for op in tp.operations}
    assert "contoso/user.create/carol@contoso.com" not in ids
    assert "contoso/user.assignLicenses/carol@contoso.com" not in ids
    assert "contoso/group.addMember/tellers/carol@contoso.com" not in ids  # waits for her
    assert "contoso/group.create/tellers" in ids  # not named by the evidence
    areas = {u.area: u for u in tp.unknown}
    held = areas["users/carol@contoso.com"]
    assert held.code == "notVisibleYet"
    assert held.reason.startswith("an earlier create may not be visible yet: run 7 called")
    assert "Not created again before 2026-11-26T09:04:30Z" in held.reason
    assert "groups/tellers/members/carol@contoso.com" in areas


@pytest.mark.parametrize("found", [True, None])
def test_found_or_not_looked_up_it_still_waits_after_the_window(found: bool | None) -> None:
    tp = _plan(_earlier("group.create", "tellers", dt.timedelta(hours=1), found))
    assert "contoso/group.create/tellers" not in {op.id for op in tp.operations}
    assert any(u.area == "groups/tellers" for u in tp.unknown)


def test_proof_of_absence_lets_it_be_created_under_the_same_fingerprint() -> None:
    without = {op.id: op.fingerprint for op in plan(DESIRED, observed()).operations}
    tp = _plan(
        _earlier("user.create", "carol@contoso.com", dt.timedelta(minutes=5), False),
        _earlier("distributionGroup.create", "all@contoso.com", dt.timedelta(hours=2), False),
    )
    assert {op.id: op.fingerprint for op in tp.operations} == without
    assert tp.unknown == ()


def test_an_object_now_listed_is_compared_as_usual() -> None:
    listed = observed(
        distribution_groups=(dg("all@contoso.com", name="All", member_list=members()),),
        groups=(group("tellers", display_name="Tellers"),),
        earlier_creates=(_earlier("group.create", "tellers", dt.timedelta(seconds=5), True),),
    )
    tp = plan(DESIRED, listed)
    assert "contoso/group.create/tellers" not in {op.id for op in tp.operations}
    assert "contoso/group.addMember/tellers/carol@contoso.com" in {op.id for op in tp.operations}
    assert not any(u.area == "groups/tellers" for u in tp.unknown)
