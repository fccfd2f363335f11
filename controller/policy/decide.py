"""Policy: a decision for every operation of a plan, and the guards per tenant.

Pure: no I/O, no clock. :func:`decide` takes a plan and the policy rules and returns a new
plan in which every executable operation carries ``decision`` and a ``decision_reason`` that
names the rule it came from, every tenant carries its ``guard_violations``, and ``plan_id``
covers them.

Precedence, first match wins:

1. the tenant file's ``spec.policy.kinds``;
2. ``msp.yaml`` ``spec.policy.tenants[<name>].kinds``;
3. ``msp.yaml`` ``spec.policy.kinds``;
4. ``msp.yaml`` ``spec.policy.default`` (``approve`` unless set).

Within one rule set an exact kind beats any glob, and among globs the one with more literal
(non-wildcard) characters wins, so ``group.add*`` beats ``group.*``, which beats ``*``; a tie
is broken by the pattern's text, so the result never depends on YAML key order.

Manual operations (backend ``manual``) are performed by a person, never by apply: they get no
decision (``decision`` stays ``None``) and a ``decision_reason`` starting with ``manual``.
They are not counted by guards.

Guards count, per tenant and per run, the operations apply could execute (not manual, not
denied) in three classes: deletions, disables and member removals. Each limit is taken from the
first place that sets it: an explicit override (``raise_guards``, from a command-line flag), the
tenant file, ``msp.yaml`` ``policy.tenants[<name>].guards``, ``msp.yaml`` ``policy.guards``, and
finally :data:`~controller.models.DEFAULT_GUARDS`. At the limit is fine; above it is a
violation, and the tenant's plan fails its policy check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from controller.errors import UsageError
from controller.models import (
    DEFAULT_GUARDS,
    DELETIONS,
    DISABLES,
    MEMBER_REMOVALS,
    Decision,
    Guards,
    OperationKind,
    Policy,
    PolicyRules,
)
from controller.plan.planner import plan_id_of
from controller.plan.types import Operation, Plan, TenantPlan

MSP_FILE = "msp.yaml"
MANUAL_REASON = "manual step: a person performs it; apply never executes it"
# The command-line flag that raises a guard for one run. One place, so the message and the
# flag cannot drift apart.
GUARD_OVERRIDE_FLAG = "--allow-guard"
# ASCII digits, at most nine: no guard needs more, and int() of a huge string is slow or fails.
_COUNT = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class _RuleSet:
    """One place that holds rules, and how a person finds it (``file path.to.rules``)."""

    where: str
    rules: PolicyRules


@dataclass(frozen=True)
class _GuardClass:
    field: str  # the attribute on Guards
    yaml_key: str  # how msp.yaml and tenant files spell it
    singular: str
    plural: str
    kinds: frozenset[OperationKind]


GUARD_CLASSES: tuple[_GuardClass, ...] = (
    _GuardClass("max_deletions", "maxDeletions", "deletion", "deletions", DELETIONS),
    _GuardClass("max_disables", "maxDisables", "disable", "disables", DISABLES),
    _GuardClass(
        "max_member_removals",
        "maxMemberRemovals",
        "member removal",
        "member removals",
        MEMBER_REMOVALS,
    ),
)


def decide(
    plan: Plan,
    policy: Policy,
    tenant_rules: Mapping[str, PolicyRules | None],
    *,
    raise_guards: Guards | None = None,
) -> Plan:
    """Return ``plan`` with a decision on every operation and guard violations per tenant.

    ``tenant_rules`` maps a tenant name to its file's ``spec.policy`` (absent or ``None``: the
    file sets no rules). ``raise_guards`` carries limits given explicitly for this run; the
    fields it leaves ``None`` fall back to the configuration.
    """
    tenants = tuple(
        _decide_tenant(tenant, policy, tenant_rules.get(tenant.name), raise_guards)
        for tenant in plan.tenants
    )
    decided = plan.model_copy(update={"tenants": tenants})
    # The id covers the decisions too: a plan file edited from deny to approve is refused.
    return decided.model_copy(update={"plan_id": plan_id_of(decided)})


def policy_failures(plan: Plan) -> list[str]:
    """Why ``plan`` fails its policy check: each denied operation (naming the rule) and each
    guard violation, prefixed with the tenant. Empty when the check passes."""
    failures: list[str] = []
    for tenant in plan.tenants:
        for op in tenant.operations:
            if op.decision is Decision.DENY:
                failures.append(
                    f"{tenant.name}: {op.kind.value} {op.target} is denied by {op.decision_reason}"
                )
        failures.extend(f"{tenant.name}: {violation}" for violation in tenant.guard_violations)
    return failures


def parse_guard_override(values: Sequence[str]) -> Guards | None:
    """Read ``--allow-guard maxDeletions=12`` style values into :class:`Guards`.

    Returns ``None`` when no value is given. Raises :class:`UsageError` for a bad name or count.
    """
    if not values:
        return None
    names = {g.yaml_key: g.field for g in GUARD_CLASSES}
    limits: dict[str, int] = {}
    for value in values:
        name, equals, count = value.partition("=")
        if not equals or name not in names:
            raise UsageError(
                f"{GUARD_OVERRIDE_FLAG} {value!r}: expected NAME=COUNT with NAME one of "
                + ", ".join(names)
            )
        if not _COUNT.fullmatch(count):
            raise UsageError(
                f"{GUARD_OVERRIDE_FLAG} {value[:60]!r}: COUNT must be a whole number from 0 to "
                "999,999,999"
            )
        limits[names[name]] = int(count)
    return Guards.model_validate(limits)


# --- decisions ---------------------------------------------------------------------------


def _tenant_file(tenant: TenantPlan) -> str:
    return tenant.source or f"tenants/{tenant.name}.yaml"


def _rule_sets(tenant: TenantPlan, policy: Policy, own: PolicyRules | None) -> tuple[_RuleSet, ...]:
    sets: list[_RuleSet] = []
    if own is not None:
        sets.append(_RuleSet(f"{_tenant_file(tenant)} spec.policy", own))
    per_tenant = policy.tenants.get(tenant.name)
    if per_tenant is not None:
        sets.append(_RuleSet(f"{MSP_FILE} spec.policy.tenants['{tenant.name}']", per_tenant))
    sets.append(_RuleSet(f"{MSP_FILE} spec.policy", policy))
    return tuple(sets)


def _specificity(pattern: str, kind: OperationKind) -> tuple[int, int, str]:
    """Sort key: smaller is more specific. Exact first, then most literal characters."""
    if pattern == kind.value:
        return (0, 0, pattern)
    literal = sum(1 for char in pattern if char not in "*?[]")
    return (1, -literal, pattern)


def _matching_rule(rules: PolicyRules, kind: OperationKind) -> str | None:
    matches = [p for p in rules.kinds if fnmatchcase(kind.value, p)]
    if not matches:
        return None
    return min(matches, key=lambda p: _specificity(p, kind))


def _decision_for(op: Operation, sets: tuple[_RuleSet, ...], policy: Policy) -> Operation:
    if op.is_manual:
        return op.model_copy(update={"decision": None, "decision_reason": MANUAL_REASON})
    for rule_set in sets:
        pattern = _matching_rule(rule_set.rules, op.kind)
        if pattern is not None:
            decision = rule_set.rules.kinds[pattern]
            reason = f"{rule_set.where}.kinds['{pattern}'] = {decision.value}"
            return op.model_copy(update={"decision": decision, "decision_reason": reason})
    if "default" in policy.model_fields_set:
        reason = f"{MSP_FILE} spec.policy.default = {policy.default.value}"
    else:
        reason = f"default: {policy.default.value}"
    return op.model_copy(update={"decision": policy.default, "decision_reason": reason})


# --- guards ------------------------------------------------------------------------------


def _guard_limit(
    guard: _GuardClass,
    tenant: TenantPlan,
    policy: Policy,
    own: PolicyRules | None,
    raise_guards: Guards | None,
) -> tuple[int | None, str]:
    """The limit for one guard class and where it was set."""
    per_tenant = policy.tenants.get(tenant.name)
    candidates: list[tuple[Guards | None, str]] = [
        (raise_guards, f"raised by {GUARD_OVERRIDE_FLAG}"),
        (own.guards if own else None, f"{_tenant_file(tenant)} spec.policy.guards"),
        (
            per_tenant.guards if per_tenant else None,
            f"{MSP_FILE} spec.policy.tenants['{tenant.name}'].guards",
        ),
        (policy.guards, f"{MSP_FILE} spec.policy.guards"),
        (DEFAULT_GUARDS, "built-in default"),
    ]
    for guards, where in candidates:
        if guards is not None:
            limit: int | None = getattr(guards, guard.field)
            if limit is not None:
                return limit, where
    return None, "no limit"


def _guard_violations(
    tenant: TenantPlan,
    operations: Sequence[Operation],
    policy: Policy,
    own: PolicyRules | None,
    raise_guards: Guards | None,
) -> tuple[str, ...]:
    counted = [op for op in operations if not op.is_manual and op.decision is not Decision.DENY]
    violations: list[str] = []
    for guard in GUARD_CLASSES:
        count = sum(1 for op in counted if op.kind in guard.kinds)
        limit, where = _guard_limit(guard, tenant, policy, own, raise_guards)
        if limit is None or count <= limit:
            continue
        noun = guard.singular if count == 1 else guard.plural
        violations.append(
            f"{count} {noun} planned, guard {guard.yaml_key} is {limit} ({where}); "
            f"raise it or pass {GUARD_OVERRIDE_FLAG} {guard.yaml_key}={count} to override"
        )
    return tuple(violations)


def _decide_tenant(
    tenant: TenantPlan,
    policy: Policy,
    own: PolicyRules | None,
    raise_guards: Guards | None,
) -> TenantPlan:
    sets = _rule_sets(tenant, policy, own)
    operations = tuple(_decision_for(op, sets, policy) for op in tenant.operations)
    violations = _guard_violations(tenant, operations, policy, own, raise_guards)
    return tenant.model_copy(update={"operations": operations, "guard_violations": violations})
