"""What every view of a plan shares: the symbol of an operation, how a change reads, counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from controller.models import OperationKind, Source
from controller.plan.types import FieldChange, Operation, Plan, TenantPlan

_ADDS = frozenset(
    {
        OperationKind.USER_CREATE,
        OperationKind.USER_ASSIGN_LICENSES,
        OperationKind.GROUP_CREATE,
        OperationKind.GROUP_ADD_MEMBER,
        OperationKind.DISTRIBUTION_GROUP_CREATE,
        OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER,
        OperationKind.SHARED_MAILBOX_CREATE,
        OperationKind.MAILBOX_PERMISSION_ADD,
        OperationKind.CONSENT_GRANT,
        OperationKind.EXCHANGE_ASSIGN_ROLE,
        OperationKind.PASSWORD_RESET_ASSIGN_ROLE,
    }
)
_REMOVES = frozenset(
    {
        OperationKind.USER_DELETE,
        OperationKind.USER_REMOVE_LICENSES,
        OperationKind.GROUP_DELETE,
        OperationKind.GROUP_REMOVE_MEMBER,
        OperationKind.DISTRIBUTION_GROUP_DELETE,
        OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER,
        OperationKind.SHARED_MAILBOX_DELETE,
        OperationKind.MAILBOX_PERMISSION_REMOVE,
    }
)
# Whole-object creates and deletes: their changes list the object's fields, not a delta.
_OBJECT_CREATES = frozenset(
    {
        OperationKind.USER_CREATE,
        OperationKind.GROUP_CREATE,
        OperationKind.DISTRIBUTION_GROUP_CREATE,
        OperationKind.SHARED_MAILBOX_CREATE,
    }
)


def symbol(op: Operation) -> str:
    """``!`` manual step, ``+`` create/add, ``-`` delete/remove, ``~`` change in place."""
    if op.is_manual:
        return "!"
    if op.kind in _ADDS:
        return "+"
    if op.kind in _REMOVES:
        return "-"
    return "~"


def value(v: Any) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return ", ".join(value(x) for x in v) or "(none)"
    text = str(v)
    return f'"{text}"' if (not text or text != text.strip() or " " in text) else text


def change_text(op: Operation, change: FieldChange) -> str:
    if change.field == "password" and isinstance(change.after, str):
        # "(generated at apply)", then where it goes when the plan knows (a vault's secret).
        where = change.after.removeprefix("(generated at apply)").strip(" ,")
        return f"password: generated at apply, sent to {where or 'the secret sink'}"
    if op.kind in _OBJECT_CREATES or change.field == "exists":
        return f"{change.field}: {value(change.after)}" if change.field != "exists" else ""
    if change.before is None:
        return f"{change.field} + {value(change.after)}"
    if change.after is None:
        return f"{change.field} - {value(change.before)}"
    return f"{change.field}: {value(change.before)} -> {value(change.after)}"


def inline_change(op: Operation) -> str | None:
    """A single delta change shown on the operation's own line (member added, ...)."""
    if op.kind in _OBJECT_CREATES or len(op.changes) != 1:
        return None
    change = op.changes[0]
    if change.before is not None and change.after is not None:
        return None
    return change_text(op, change) or None


def detail_lines(op: Operation) -> list[str]:
    if inline_change(op) is not None:
        return []
    return [t for t in (change_text(op, c) for c in op.changes) if t]


def operation_suffix(op: Operation) -> str:
    """What follows an operation's kind and target on its line, in every view: the inline
    change, the backend when it is not Graph, the policy decision, and where the desired
    value was declared."""
    text = ""
    inline = inline_change(op)
    if inline:
        text += f"  {inline}"
    if op.backend.value not in ("graph", "manual"):
        text += f"  [{op.backend.value}]"
    if op.decision is not None:
        text += f"  ({op.decision.value})"
    return text + source_suffix(op.source)


def source_suffix(source: Source | None) -> str:
    """``  <- desired/profiles/standard.yaml:14``, or nothing when the source is unknown."""
    return f"  <- {source}" if source is not None else ""


# What an operation adds, changes or removes, as a reader counts them ("+1 group member").
KIND_NOUNS: dict[OperationKind, str] = {
    OperationKind.USER_CREATE: "user",
    OperationKind.USER_UPDATE: "user change",
    OperationKind.USER_ENABLE: "user enabled",
    OperationKind.USER_DISABLE: "user disabled",
    OperationKind.USER_DELETE: "user",
    OperationKind.USER_ASSIGN_LICENSES: "licence assignment",
    OperationKind.USER_REMOVE_LICENSES: "licence removal",
    OperationKind.USER_RESET_PASSWORD: "password reset",
    OperationKind.GROUP_CREATE: "group",
    OperationKind.GROUP_UPDATE: "group change",
    OperationKind.GROUP_DELETE: "group",
    OperationKind.GROUP_ADD_MEMBER: "group member",
    OperationKind.GROUP_REMOVE_MEMBER: "group member",
    OperationKind.DISTRIBUTION_GROUP_CREATE: "distribution group",
    OperationKind.DISTRIBUTION_GROUP_UPDATE: "distribution group change",
    OperationKind.DISTRIBUTION_GROUP_DELETE: "distribution group",
    OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER: "distribution group member",
    OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER: "distribution group member",
    OperationKind.SHARED_MAILBOX_CREATE: "shared mailbox",
    OperationKind.SHARED_MAILBOX_UPDATE: "shared mailbox change",
    OperationKind.SHARED_MAILBOX_DELETE: "shared mailbox",
    OperationKind.MAILBOX_PERMISSION_ADD: "mailbox permission",
    OperationKind.MAILBOX_PERMISSION_REMOVE: "mailbox permission",
    OperationKind.CONSENT_GRANT: "consent",
    OperationKind.EXCHANGE_ASSIGN_ROLE: "Exchange role",
}


def counted(operations: Iterable[Operation]) -> str:
    """``+1 distribution group member, ~2 user changes``: what operations do, counted."""
    counts = Counter((symbol(op), KIND_NOUNS[op.kind]) for op in operations)
    order = {"+": 0, "~": 1, "-": 2, "!": 3}
    return ", ".join(
        f"{mark}{n} {noun}{'' if n == 1 else 'es' if noun.endswith('x') else 's'}"
        for (mark, noun), n in sorted(counts.items(), key=lambda i: (order[i[0][0]], i[0][1]))
    )


@dataclass(frozen=True)
class Counts:
    add: int = 0
    change: int = 0
    remove: int = 0
    manual: int = 0
    findings: int = 0
    problems: int = 0
    unknown: int = 0  # (tenant, area) pairs that could not be observed

    @property
    def operations(self) -> int:
        return self.add + self.change + self.remove + self.manual


def count(tenants: tuple[TenantPlan, ...] | list[TenantPlan]) -> Counts:
    symbols: Counter[str] = Counter()
    for tenant in tenants:
        symbols.update(symbol(op) for op in tenant.operations)
    return Counts(
        add=symbols["+"],
        change=symbols["~"],
        remove=symbols["-"],
        manual=symbols["!"],
        findings=sum(len(t.findings) for t in tenants),
        problems=sum(len(t.problems) for t in tenants),
        unknown=sum(len(t.unknown) for t in tenants),
    )


def summary_line(plan: Plan) -> str:
    """The plan in one line. "No changes." only when everything was observed and matches:
    otherwise it says what could not be seen."""
    c = count(list(plan.tenants))
    if c.operations:
        head = (
            f"{c.operations} operation(s): {c.add} to add, {c.change} to change, "
            f"{c.remove} to remove, {c.manual} manual step(s)."
        )
    elif plan.complete:
        head = "No changes."
    else:
        head = "No changes in what could be observed."
    tail = [f"{c.findings} finding(s)", f"{c.problems} problem(s)"]
    if c.unknown:
        partial = sum(1 for t in plan.tenants if t.unknown)
        tail.append(f"{c.unknown} area(s) unknown in {partial} tenant(s)")
    if plan.failed_checks:
        tail.append(f"{len(plan.failed_checks)} connection check(s) failed")
    return f"{head} {', '.join(tail)}."


def no_changes(tenant: TenantPlan) -> str:
    """What a tenant without operations says: never a bare "No changes" over an unknown area."""
    if tenant.unknown:
        return f"No changes in what could be observed; {len(tenant.unknown)} area(s) unknown."
    return "No changes."


def badge_text(tenant: TenantPlan) -> list[tuple[str, str, str | None]]:
    b = tenant.badges
    return [
        ("GDAP", b.gdap, b.gdap_detail),
        ("Consent", b.consent, b.consent_detail),
        ("Exchange", b.exchange, b.exchange_detail),
    ]
