"""Guards: deletions, disables and member removals per tenant per run, at the limit and
above; where the limit comes from (tenant file > msp per tenant > msp > built-in); the
explicit override; and the messages that say how to raise them."""

from __future__ import annotations

import pytest

from controller.errors import UsageError
from controller.models import DEFAULT_GUARDS, Guards, Policy, PolicyRules
from controller.plan.types import Backend, Operation
from controller.policy import decide, parse_guard_override, policy_failures
from tests.policy.factory import deletions, op, plan, tenant


def _violations(
    operations: list[Operation],
    policy: Policy | None = None,
    own: PolicyRules | None = None,
    raise_guards: Guards | None = None,
    name: str = "woodgrove",
) -> tuple[str, ...]:
    the_plan = plan(tenant(name, *operations, source=f"tenants/{name}.yaml"))
    decided = decide(the_plan, policy or Policy(), {name: own}, raise_guards=raise_guards)
    return decided.tenants[0].guard_violations


def _guards(**limits: int) -> Policy:
    return Policy.model_validate({"guards": limits})


@pytest.mark.parametrize(
    ("kind", "key", "noun"),
    [
        ("user.delete", "maxDeletions", "deletions"),
        ("user.disable", "maxDisables", "disables"),
        ("group.removeMember", "maxMemberRemovals", "member removals"),
    ],
)
def test_each_guard_allows_its_limit_and_refuses_one_more(kind: str, key: str, noun: str) -> None:
    policy = _guards(**{key: 2})
    at_limit = [op(kind, f"t{i}", tenant="woodgrove") for i in range(2)]
    above = [op(kind, f"t{i}", tenant="woodgrove") for i in range(3)]
    assert _violations(at_limit, policy) == ()
    assert _violations(above, policy) == (
        f"3 {noun} planned, guard {key} is 2 (msp.yaml spec.policy.guards); "
        f"raise it or pass --allow-guard {key}=3 to override",
    )


def test_guard_classes_count_every_kind_in_them() -> None:
    removals = [
        op("group.removeMember", "a", tenant="woodgrove"),
        op("distributionGroup.removeMember", "b", tenant="woodgrove"),
        op("mailboxPermission.remove", "c", tenant="woodgrove"),
    ]
    assert len(_violations(removals, _guards(maxMemberRemovals=2))) == 1
    mixed_deletes = [
        op("user.delete", "a", tenant="woodgrove"),
        op("group.delete", "b", tenant="woodgrove"),
        op("sharedMailbox.delete", "c", tenant="woodgrove"),
        op("distributionGroup.delete", "d", tenant="woodgrove"),
    ]
    assert len(_violations(mixed_deletes, _guards(maxDeletions=3))) == 1


def test_the_tenant_file_limit_wins_and_is_named() -> None:
    own = PolicyRules.model_validate({"guards": {"maxDeletions": 1}})
    policy = Policy.model_validate(
        {"guards": {"maxDeletions": 5}, "tenants": {"woodgrove": {"guards": {"maxDeletions": 4}}}}
    )
    assert _violations(deletions(3), policy, own) == (
        "3 deletions planned, guard maxDeletions is 1 (tenants/woodgrove.yaml "
        "spec.policy.guards); raise it or pass --allow-guard maxDeletions=3 to override",
    )


def test_msp_per_tenant_limit_beats_msp_limit() -> None:
    policy = Policy.model_validate(
        {"guards": {"maxDeletions": 5}, "tenants": {"woodgrove": {"guards": {"maxDeletions": 2}}}}
    )
    (violation,) = _violations(deletions(3), policy)
    assert "guard maxDeletions is 2 (msp.yaml spec.policy.tenants['woodgrove'].guards)" in violation
    assert _violations(deletions(3, tenant_name="contoso"), policy, name="contoso") == ()


def test_a_limit_left_unset_falls_through_to_the_next_level() -> None:
    own = PolicyRules.model_validate({"guards": {"maxDisables": 0}})
    policy = _guards(maxDeletions=2)
    (violation,) = _violations(deletions(3), policy, own)
    assert "(msp.yaml spec.policy.guards)" in violation


def test_built_in_defaults_apply_without_configuration() -> None:
    limit = DEFAULT_GUARDS.max_deletions
    assert limit is not None
    assert _violations(deletions(limit)) == ()
    (violation,) = _violations(deletions(limit + 1))
    assert f"guard maxDeletions is {limit} (built-in default)" in violation


def test_an_explicit_override_raises_the_limit() -> None:
    own = PolicyRules.model_validate({"guards": {"maxDeletions": 1}})
    assert _violations(deletions(3), Policy(), own, raise_guards=Guards(max_deletions=3)) == ()
    (violation,) = _violations(deletions(4), Policy(), own, raise_guards=Guards(max_deletions=3))
    assert "guard maxDeletions is 3 (raised by --allow-guard)" in violation


def test_an_override_of_one_guard_leaves_the_others() -> None:
    own = PolicyRules.model_validate({"guards": {"maxDeletions": 1, "maxDisables": 0}})
    ops = [*deletions(2), op("user.disable", "x", tenant="woodgrove")]
    (violation,) = _violations(ops, Policy(), own, raise_guards=Guards(max_deletions=2))
    assert violation.startswith("1 disable planned, guard maxDisables is 0")


def test_denied_and_manual_operations_are_not_counted() -> None:
    policy = Policy.model_validate(
        {"kinds": {"user.delete": "deny"}, "guards": {"maxDeletions": 0}}
    )
    assert _violations(deletions(2), policy) == ()
    manual = [op("user.delete", "m", tenant="woodgrove", backend=Backend.MANUAL)]
    assert _violations(manual, _guards(maxDeletions=0)) == ()


def test_guards_are_per_tenant() -> None:
    the_plan = plan(
        tenant("woodgrove", *deletions(2)),
        tenant("contoso", *deletions(2, tenant_name="contoso")),
    )
    own = PolicyRules.model_validate({"guards": {"maxDeletions": 1}})
    decided = decide(the_plan, Policy(), {"woodgrove": own, "contoso": None})
    assert [bool(t.guard_violations) for t in decided.tenants] == [True, False]
    assert not decided.policy_ok
    assert policy_failures(decided) == [
        "woodgrove: 2 deletions planned, guard maxDeletions is 1 (tenants/woodgrove.yaml "
        "spec.policy.guards); raise it or pass --allow-guard maxDeletions=2 to override"
    ]


def test_parse_guard_override() -> None:
    assert parse_guard_override([]) is None
    assert parse_guard_override(["maxDeletions=12", "maxMemberRemovals=0"]) == Guards(
        max_deletions=12, max_member_removals=0
    )
    with pytest.raises(UsageError, match="expected NAME=COUNT"):
        parse_guard_override(["deletions=3"])
    with pytest.raises(UsageError, match="whole number"):
        parse_guard_override(["maxDeletions=-1"])
