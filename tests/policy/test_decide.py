"""Policy decisions: default approve, allow/deny per kind (exact and glob) and per tenant (in
msp.yaml and in the tenant file), their precedence, manual steps, and policy_failures."""

from __future__ import annotations

from controller.models import Decision, Policy, PolicyRules
from controller.plan.planner import plan_id_of
from controller.plan.types import Backend, Operation, Plan
from controller.policy import MANUAL_REASON, decide, policy_failures
from tests.policy.factory import op, plan, tenant


def _policy(**data: object) -> Policy:
    return Policy.model_validate(data)


def _only(decided: Plan) -> Operation:
    (operation,) = decided.operations
    return operation


def _decide_one(
    operation: Operation,
    policy: Policy,
    own: PolicyRules | None = None,
    source: str | None = None,
) -> Operation:
    the_plan = plan(tenant(operation.tenant, operation, source=source))
    return _only(decide(the_plan, policy, {operation.tenant: own}))


def test_default_is_approve_and_says_so() -> None:
    decided = _decide_one(op("user.create", "user:a@c.example"), Policy())
    assert decided.decision is Decision.APPROVE
    assert decided.decision_reason == "default: approve"


def test_an_explicit_default_names_msp_yaml() -> None:
    decided = _decide_one(op("user.create", "user:a@c.example"), _policy(default="allow"))
    assert decided.decision is Decision.ALLOW
    assert decided.decision_reason == "msp.yaml spec.policy.default = allow"


def test_allow_by_exact_kind() -> None:
    policy = _policy(kinds={"group.addMember": "allow"})
    decided = _decide_one(op("group.addMember", "group:sales/member:a"), policy)
    assert decided.decision is Decision.ALLOW
    assert decided.decision_reason == "msp.yaml spec.policy.kinds['group.addMember'] = allow"


def test_deny_by_glob() -> None:
    policy = _policy(kinds={"*.delete": "deny"})
    decided = _decide_one(op("group.delete", "group:sales"), policy)
    assert decided.decision is Decision.DENY
    assert decided.decision_reason == "msp.yaml spec.policy.kinds['*.delete'] = deny"


def test_a_kind_no_rule_names_falls_to_the_default() -> None:
    policy = _policy(kinds={"group.*": "allow"})
    assert _decide_one(op("user.create", "user:a"), policy).decision is Decision.APPROVE


def test_exact_kind_beats_glob_in_one_rule_set() -> None:
    policy = _policy(kinds={"group.*": "allow", "group.delete": "deny", "*": "approve"})
    decided = _decide_one(op("group.delete", "group:sales"), policy)
    assert decided.decision is Decision.DENY
    assert decided.decision_reason == "msp.yaml spec.policy.kinds['group.delete'] = deny"


def test_more_specific_glob_beats_star_whatever_the_key_order() -> None:
    for kinds in ({"*": "deny", "group.*": "allow"}, {"group.*": "allow", "*": "deny"}):
        decided = _decide_one(op("group.addMember", "g"), _policy(kinds=kinds))
        assert decided.decision is Decision.ALLOW
        assert decided.decision_reason == "msp.yaml spec.policy.kinds['group.*'] = allow"
    narrower = _policy(kinds={"group.*": "deny", "group.add*": "allow"})
    assert _decide_one(op("group.addMember", "g"), narrower).decision is Decision.ALLOW


def test_msp_per_tenant_rules_beat_msp_kinds() -> None:
    policy = _policy(
        kinds={"mailboxPermission.add": "deny"},
        tenants={"fabrikam": {"kinds": {"mailboxPermission.add": "allow"}}},
    )
    fabrikam = _decide_one(op("mailboxPermission.add", "m", tenant="fabrikam"), policy)
    assert fabrikam.decision is Decision.ALLOW
    assert fabrikam.decision_reason == (
        "msp.yaml spec.policy.tenants['fabrikam'].kinds['mailboxPermission.add'] = allow"
    )
    contoso = _decide_one(op("mailboxPermission.add", "m", tenant="contoso"), policy)
    assert contoso.decision is Decision.DENY


def test_tenant_file_beats_msp_per_tenant_and_msp_kinds() -> None:
    policy = _policy(
        kinds={"group.*": "allow"},
        tenants={"fabrikam": {"kinds": {"group.removeMember": "allow"}}},
    )
    own = PolicyRules.model_validate({"kinds": {"group.removeMember": "approve"}})
    decided = _decide_one(
        op("group.removeMember", "g", tenant="fabrikam"),
        policy,
        own,
        source="tenants/fabrikam.yaml",
    )
    assert decided.decision is Decision.APPROVE
    assert decided.decision_reason == (
        "tenants/fabrikam.yaml spec.policy.kinds['group.removeMember'] = approve"
    )


def test_a_tenant_glob_beats_an_msp_exact_rule() -> None:
    # Precedence between rule sets comes before specificity within one.
    policy = _policy(kinds={"user.create": "allow"})
    own = PolicyRules.model_validate({"kinds": {"*": "deny"}})
    decided = _decide_one(op("user.create", "u", tenant="contoso"), policy, own)
    assert decided.decision is Decision.DENY
    assert decided.decision_reason == "tenants/contoso.yaml spec.policy.kinds['*'] = deny"


def test_manual_operations_get_no_decision() -> None:
    policy = _policy(default="allow", kinds={"consent.grant": "deny"})
    manual = op("consent.grant", "tenant:contoso", backend=Backend.MANUAL)
    decided = _decide_one(manual, policy)
    assert decided.decision is None
    assert decided.decision_reason == MANUAL_REASON
    assert policy_failures(decide(plan(tenant("contoso", manual)), policy, {})) == []


def test_decide_leaves_the_input_plan_alone_and_keeps_order() -> None:
    ops = (op("user.create", "b"), op("user.create", "a"))
    original = plan(tenant("contoso", *ops))
    decided = decide(original, Policy(), {})
    assert all(o.decision is None for o in original.operations)
    assert [o.target for o in decided.operations] == ["b", "a"]
    assert decided.plan_id == plan_id_of(decided) != plan_id_of(original)


def test_a_denied_operation_fails_the_policy_check_and_names_the_rule() -> None:
    policy = _policy(kinds={"user.delete": "deny"})
    the_plan = plan(
        tenant("contoso", op("user.delete", "user:a@c.example"), op("user.create", "b"))
    )
    decided = decide(the_plan, policy, {})
    assert not decided.policy_ok
    assert policy_failures(decided) == [
        "contoso: user.delete user:a@c.example is denied by "
        "msp.yaml spec.policy.kinds['user.delete'] = deny"
    ]


def test_a_plan_without_denials_or_guards_passes() -> None:
    decided = decide(plan(tenant("contoso", op("user.create", "a"))), Policy(), {})
    assert decided.policy_ok
    assert policy_failures(decided) == []
