"""Members and permission holders: the lists of principals inside groups and mailboxes.

An add may depend on the create of its group or mailbox, or of the member, in the same plan:
its fingerprint covers the list by natural keys (group, member, whether it is a member yet),
never the ids a create cannot know, so the re-plan after the create ran computes the same
fingerprint ("the empty new group" and "the group without that member" are the same state).
A removal never depends on a create and keeps the ids of what it removes.

Pure: reads the draft's desired and observed values, adds operations to it. Entra group
members, distribution group members and a shared mailbox's FullAccess, SendAs and SendOnBehalf
holders are all lists of addresses. :func:`member_changes` compares one declared list with the
observed one and returns what to add and remove as plain values; each kind turns them into its
own operations. A list that was not read is unknown: nothing is added to it or removed from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from controller.models import DistributionGroup, Group, SharedMailbox
from controller.models.observed import (
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    Principal,
    Unknown,
)
from controller.plan import normalise as norm
from controller.plan._draft import (
    SECTION_DISTRIBUTION_GROUPS,
    SECTION_GROUPS,
    SECTION_SHARED_MAILBOXES,
    Resolved,
    TenantDraft,
)
from controller.plan.params import (
    DistributionGroupAddMemberParams,
    DistributionGroupRemoveMemberParams,
    GroupAddMemberParams,
    GroupRemoveMemberParams,
    MailboxPermissionAddParams,
    MailboxPermissionRemoveParams,
    MailboxRight,
)
from controller.plan.types import Backend, FieldChange

T = TypeVar("T")

# (tenant file field, Exchange access right, observed attribute)
PERMISSION_RIGHTS = (
    ("fullAccess", MailboxRight.FULL_ACCESS, "full_access"),
    ("sendAs", MailboxRight.SEND_AS, "send_as"),
    ("sendOnBehalf", MailboxRight.SEND_ON_BEHALF, "send_on_behalf"),
)


@dataclass(frozen=True, slots=True)
class Add:
    """A declared address missing from the list, resolved to what apply adds."""

    address: str
    principal: Resolved


@dataclass(frozen=True, slots=True)
class Remove:
    """An address in an exact list that the tenant file does not declare."""

    address: str
    principal: Principal


def read_list(d: TenantDraft, observed: T | Unknown | None, area: str, unread: str) -> T | None:
    """The observed list, or None with ``area`` marked unknown: its read failed, or it was not
    read at all (``unread`` says so)."""
    if observed is None:
        observed = Unknown("error", unread)
    if isinstance(observed, Unknown):
        d.mark_unknown(area, observed)
        return None
    return observed


def member_changes(
    d: TenantDraft,
    *,
    subject: str,
    area: str,
    desired: list[str],
    current: Mapping[str, Principal],
    exact: bool,
    recipients: bool,
) -> list[Add | Remove]:
    """Addresses to add (declared order), then to remove (exact lists only, sorted).

    An address to add that cannot be resolved is held, and said why: a problem when the
    tenant lacks it, an unknown entry when it could not be read.
    """
    changes: list[Add | Remove] = []
    for address in desired:
        if address in current:
            continue
        resolved = d.resolve_or_hold(
            address,
            recipients=recipients,
            area=f"{area}/{address}",
            subject=subject,
            cannot="cannot add",
        )
        if resolved is not None:
            changes.append(Add(address, resolved))
    if exact:
        wanted = set(desired)
        changes.extend(Remove(a, current[a]) for a in sorted(current) if a not in wanted)
    return changes


def _group_changes(
    d: TenantDraft,
    group: Group | DistributionGroup,
    existing: ObservedGroup | ObservedDistributionGroup | None,
    *,
    subject: str,
    area: str,
    recipients: bool,
) -> list[Add | Remove] | None:
    """What to add to and remove from an Entra or a distribution group's members (none yet
    when this plan creates it); None when they are not managed or could not be read."""
    if group.members is None:
        return None
    current: dict[str, Principal] = {}
    if existing is not None:
        members = read_list(d, existing.members, area, "the group's members were not read")
        if members is None:
            return None
        current = {key: m for m in members if (key := m.key) is not None}
    return member_changes(
        d,
        subject=subject,
        area=area,
        desired=norm.keys(group.members),
        current=current,
        exact=group.membership == "exact",
        recipients=recipients,
    )


def plan_group_members(
    d: TenantDraft, group: Group, existing: ObservedGroup | None, *, created_by: str | None
) -> None:
    nick = norm.key(group.mail_nickname)
    subject = f"group:{nick}"
    area = f"groups/{nick}/members"
    changes = _group_changes(d, group, existing, subject=subject, area=area, recipients=False)
    if changes is None:
        return
    if existing is not None and isinstance(existing.members, tuple) and group.membership == "exact":
        unnamed = sum(1 for m in existing.members if m.key is None)
        if unnamed:
            d.warnings.append(
                f"{subject}: {unnamed} member(s) without an address (devices, service "
                "principals) cannot be declared and are left alone"
            )
    group_id = existing.id if existing else None
    for change in changes:
        match change:
            case Add(address, resolved):
                d.add(
                    GroupAddMemberParams(group_id=group_id, member_id=resolved.id, member=address),
                    subject,
                    f"{nick}/{address}",
                    Backend.GRAPH,
                    section=SECTION_GROUPS,
                    reason="listed in the group's members",
                    desired={"member": address},
                    observed={"group": nick, "member": address, "isMember": False},
                    changes=[FieldChange(field="members", after=address)],
                    depends_on=[created_by, resolved.created_by],
                )
            case Remove(address, seen):
                d.add(
                    GroupRemoveMemberParams(
                        group_id=group_id, member_id=seen.id, member=seen.address
                    ),
                    subject,
                    f"{nick}/{address}",
                    Backend.GRAPH,
                    section=SECTION_GROUPS,
                    reason="not in the group's exact members list",
                    desired={"member": address, "membership": group.membership, "listed": False},
                    observed={"groupId": group_id, "memberId": seen.id, "isMember": True},
                    changes=[FieldChange(field="members", before=address)],
                )


def plan_dg_members(
    d: TenantDraft,
    dg: DistributionGroup,
    existing: ObservedDistributionGroup | None,
    created_by: str | None,
    backend: Backend,
) -> None:
    address = norm.key(dg.primary_smtp_address)
    subject = f"distributionGroup:{address}"
    area = f"distributionGroups/{address}/members"
    changes = _group_changes(d, dg, existing, subject=subject, area=area, recipients=True)
    if changes is None:
        return
    dg_id = existing.id if existing else None
    identity = existing.primary_smtp_address if existing else dg.primary_smtp_address
    for change in changes:
        match change:
            case Add(member, resolved):
                d.add(
                    DistributionGroupAddMemberParams(identity=identity, id=dg_id, member=member),
                    subject,
                    f"{address}/{member}",
                    backend,
                    section=SECTION_DISTRIBUTION_GROUPS,
                    reason="listed in the distribution group's members",
                    desired={"member": member},
                    observed={"group": address, "member": member, "isMember": False},
                    changes=[FieldChange(field="members", after=member)],
                    depends_on=[created_by, resolved.created_by],
                )
            case Remove(member, seen):
                d.add(
                    DistributionGroupRemoveMemberParams(
                        identity=identity, id=dg_id, member=seen.address
                    ),
                    subject,
                    f"{address}/{member}",
                    backend,
                    section=SECTION_DISTRIBUTION_GROUPS,
                    reason="not in the distribution group's exact members list",
                    desired={"member": member, "membership": dg.membership, "listed": False},
                    observed={"id": dg_id, "memberId": seen.id, "isMember": True},
                    changes=[FieldChange(field="members", before=member)],
                )


def plan_permissions(
    d: TenantDraft,
    mailbox: SharedMailbox,
    existing: ObservedSharedMailbox | None,
    created_by: str | None,
    backend: Backend,
) -> None:
    address = norm.key(mailbox.primary_smtp_address)
    subject = f"sharedMailbox:{address}"
    identity = existing.primary_smtp_address if existing else mailbox.primary_smtp_address
    mailbox_id = existing.id if existing else None
    for field_name, right, attr in PERMISSION_RIGHTS:
        declared: list[str] | None = getattr(mailbox, attr)
        if declared is None:
            continue
        area = f"sharedMailboxes/{address}/{field_name}"
        holders: frozenset[str] = frozenset()
        if existing is not None:
            unread = f"the mailbox's {right} holders were not read"
            seen = read_list(d, getattr(existing, attr), area, unread)
            if seen is None:
                continue
            holders = frozenset(norm.key(h) for h in seen)
        for change in member_changes(
            d,
            subject=subject,
            area=area,
            desired=norm.keys(declared),
            current={h: Principal(id=h, address=h) for h in holders},
            exact=mailbox.permissions == "exact",
            recipients=True,
        ):
            adding = isinstance(change, Add)
            holder = change.address
            resolved = change.principal if isinstance(change, Add) else None
            permission = MailboxPermissionAddParams if adding else MailboxPermissionRemoveParams
            d.add(
                permission(
                    identity=identity,
                    id=mailbox_id,
                    right=right,
                    holder=holder,
                    holder_id=resolved.id if resolved else None,
                ),
                subject,
                f"{address}/{field_name}/{holder}",
                backend,
                section=SECTION_SHARED_MAILBOXES,
                reason=(
                    f"listed in the mailbox's {field_name}"
                    if adding
                    else f"not in the mailbox's exact {field_name} list"
                ),
                desired={"holder": holder, "right": right, "listed": adding}
                | ({} if adding else {"permissions": mailbox.permissions}),
                observed=(
                    {"mailbox": address, "holder": holder, "holds": False}
                    if adding
                    else {"id": mailbox_id, "holds": True, "holderId": None}
                ),
                changes=[
                    FieldChange(field=field_name, after=holder)
                    if adding
                    else FieldChange(field=field_name, before=holder)
                ],
                depends_on=[created_by, resolved.created_by if resolved else None],
            )
