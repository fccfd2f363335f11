"""Where each operation's and finding's desired value came from, and report-mode profiles.

:func:`with_sources` names, on every operation and finding of a tenant's plan, the file and
line its desired value was declared at (the tenant file, or a profile). The source is looked
up after planning from the operation's target and changed fields, so the steps that plan
never deal with it, and it never reaches a fingerprint.

:func:`with_profile_report` turns what the tenant's report-mode profiles would change into
findings ("deviates from profile standard: ..."): the tenant is planned twice, as it is
(its file and enforce-mode profiles) and with its report-mode profiles applied too, and every
operation, finding or problem that only the second plan has is reported, never planned.

Pure: no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from controller.models import OperationKind, Provenance, Source
from controller.models.provenance import Path
from controller.plan.types import Finding, Operation, TenantPlan

# An operation's target prefix -> the tenant file's section its object is declared in.
_SECTIONS = {
    "user": "users",
    "group": "groups",
    "distributionGroup": "distributionGroups",
    "sharedMailbox": "sharedMailboxes",
}
# Fields whose change names one address of a list: the source is that list item.
_LISTS = frozenset({"members", "fullAccess", "sendAs", "sendOnBehalf"})


def with_sources(plan: TenantPlan, provenance: Provenance) -> TenantPlan:
    """``plan`` with the source of every operation and finding filled in."""
    if not plan.operations and not plan.findings:
        return plan  # nothing to attribute: the lines are never worked out
    paths = [_operation_paths(op) for op in plan.operations]
    provenance = provenance.only(
        [
            *(path for op_paths in paths for path in op_paths),
            *(_finding_path(f) for f in plan.findings if f.source is None),
        ]
    )
    # Each path looked up once for this plan: a check's findings all name the same place
    # (a tenant's MFA findings, one line), and a Source made from a table entry is a model.
    find = functools.cache(provenance.find)
    return plan.model_copy(
        update={
            "operations": tuple(
                op.model_copy(update={"source": operation_source(op_paths, find)})
                for op, op_paths in zip(plan.operations, paths, strict=True)
            ),
            "findings": tuple(
                f
                if f.source is not None
                else f.model_copy(update={"source": find(_finding_path(f))})
                for f in plan.findings
            ),
        }
    )


def operation_source(paths: Sequence[Path], find: Callable[[Path], Source | None]) -> Source | None:
    """Where an operation's desired values were declared, from its paths (the object's, then
    each changed field's, :func:`_operation_paths`): the changed fields' place when they agree
    on one, else the object's."""
    base, *fields = paths
    if not fields:
        return find(base)
    found = {find(path) for path in fields}
    if len(found) == 1:
        return found.pop()
    return find(base)


def _operation_paths(op: Operation) -> list[Path]:
    """The object's path, then the path of each changed field."""
    base = _object_path(op)
    return [base, *((*base, *_field_path(op, c.field, c.before, c.after)) for c in op.changes)]


def _object_path(op: Operation) -> Path:
    if op.kind is OperationKind.USER_RESET_PASSWORD:
        return ("actions", op.id.rpartition("/")[2])  # the id ends with the action's id
    if op.kind is OperationKind.CONSENT_GRANT:
        return ("consent",)
    if op.kind is OperationKind.EXCHANGE_ASSIGN_ROLE:
        return ("exchange",)
    prefix, _, key = op.target.partition(":")
    section = _SECTIONS.get(prefix)
    return (section, key.lower()) if section else ()


def _field_path(op: Operation, field: str, before: Any, after: Any) -> Path:
    if field == "exists":  # a delete: declared by ``ensure: absent``
        return ("ensure",)
    if field in _LISTS:
        address = after if after is not None else before
        return (field, str(address).lower()) if isinstance(address, str) else (field,)
    return (field,)


# The field of each check whose value a finding of it judges by.
_CHECK_RULES = {"mfa": "require", "riskyUsers": "maxRiskLevel"}


def _finding_path(finding: Finding) -> Path:
    rule = _CHECK_RULES.get(finding.check)
    return ("checks", finding.check, rule) if rule is not None else ()


# --- report mode ---------------------------------------------------------------------------


def with_profile_report(
    plan: TenantPlan, compared: TenantPlan, profiles: tuple[str, ...]
) -> TenantPlan:
    """``plan`` (the tenant as enforced) with findings for everything ``compared`` (the
    tenant with its report-mode ``profiles`` applied too) would do that ``plan`` does not."""
    shown = ", ".join(profiles)

    def named(source: Source | None) -> str:
        return source.profile if source and source.profile in profiles else shown

    planned = {(op.id, op.fingerprint) for op in plan.operations}
    found = {(f.check, f.subject, f.message) for f in plan.findings}
    problems = set(plan.problems)
    unknown = {u.area for u in plan.unknown}
    extra = [
        Finding(
            check="profile",
            severity="warning",
            subject=op.target,
            message=f"deviates from profile {named(op.source)}: {describe(op)}",
            source=op.source,
        )
        for op in compared.operations
        if (op.id, op.fingerprint) not in planned
    ]
    extra += [
        f.model_copy(update={"message": f"deviates from profile {named(f.source)}: {f.message}"})
        for f in compared.findings
        if (f.check, f.subject, f.message) not in found
    ]
    # What kept the comparison from being made, so that no finding is no proof of no drift.
    extra += [
        Finding(
            check="profile",
            severity=severity,
            subject=subject,
            message=f"profile {shown} cannot be compared here: {why}",
        )
        for severity, subject, why in [
            *(("warning", p.subject, p.message) for p in compared.problems if p not in problems),
            *(
                ("info", f"tenant:{plan.name}", f"{u.area} is unknown ({u.reason})")
                for u in compared.unknown
                if u.area not in unknown
            ),
        ]
    ]
    if not extra:
        return plan
    findings = sorted([*plan.findings, *extra], key=lambda f: (f.check, f.subject, f.message))
    return plan.model_copy(update={"findings": tuple(findings)})


def describe(op: Operation) -> str:
    """An operation in one line, for a finding: ``distributionGroup.addMember
    distributionGroup:allstaff@contoso.com (members + alice@contoso.com)``."""
    changes = "; ".join(
        _change(c.field, c.before, c.after) for c in op.changes if c.field != "exists"
    )
    return f"{op.kind.value} {op.target}" + (f" ({changes})" if changes else "")


def _change(field: str, before: Any, after: Any) -> str:
    if before is None:
        return f"{field} + {_shown(after)}"
    if after is None:
        return f"{field} - {_shown(before)}"
    return f"{field}: {_shown(before)} -> {_shown(after)}"


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
