"""What each page of the estate report shows, as plain values the templates lay out.

A tenant's page puts side by side what git manages and what is there: the items of
``tenantctl get`` (:mod:`controller.render.inventory`) with their GIT column, then what git
declares that the tenant does not have yet. An area that could not be read is shown with its
reason instead of rows, never as an empty table.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from controller.models.declared import Declarations
from controller.models.observed import GdapState, ObservedTenant
from controller.plan.types import Finding, Operation, TenantPlan
from controller.render._markdown_text import safe_link
from controller.render._summary import value
from controller.render.documents import UnknownRead
from controller.render.inventory import (
    Listing,
    distribution_group_items,
    gdap_items,
    group_items,
    licence_items,
    shared_mailbox_items,
    user_items,
)
from controller.render.report._cells import git, listed, row, yes_no
from controller.render.report._charts import BarChart, licence_chart

__all__ = [
    "LastApply",
    "Section",
    "TenantView",
    "estate_counts",
    "page_name",
    "tenant_view",
]

# File names of tenant pages: the tenant's name when it is a plain slug (it always is when it
# comes from a tenant file), else a digest, so no name can climb out of the report directory.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def page_name(tenant: str) -> str:
    if _SLUG.fullmatch(tenant):
        return tenant
    return "tenant-" + hashlib.sha256(tenant.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class LastApply:
    """A tenant's most recent apply in the journal, and what it did there."""

    run_id: int
    started_at: str
    finished_at: str | None
    status: str  # the run's: succeeded | failed | unfinished (killed, or still running)
    succeeded: int = 0
    failed: int = 0
    held: int = 0
    interrupted: int = 0


@dataclass(frozen=True)
class Missing:
    """Declared in git, not in the tenant (yet): what apply would create."""

    key: str
    source: str


@dataclass
class Section:
    """One kind of object on a tenant's page: what is there (a row of cells per item, the
    first naming it), and what git declares that is not there."""

    id: str
    title: str
    listing: Listing[Any]
    area: str  # the area whose unknown replaces the table
    headers: tuple[str, ...] = ()
    rows: list[Markup] = field(default_factory=list)  # each a whole <tr>, cells escaped
    missing: list[Missing] = field(default_factory=list)

    @property
    def unread(self) -> UnknownRead | None:
        """Why the whole area could not be read, when it could not."""
        for u in self.listing.unknown:
            if u.area == self.area and u.subject is None:
                return u
        return None

    @property
    def managed(self) -> int:
        return sum(1 for item in self.listing.items if item.declared is not None)


@dataclass(frozen=True)
class FindingRow:
    severity: str
    check: str
    who: str  # the user, licence or tenant concerned
    message: str
    source: str | None


@dataclass(frozen=True)
class ManualRow:
    title: str
    instructions: str
    link: str | None  # only a plain https URL; otherwise the text shows, not a link


@dataclass(frozen=True)
class ChangeRow:
    kind: str
    target: str
    changes: str
    decision: str | None
    source: str | None


@dataclass
class TenantView:
    name: str
    display_name: str
    tenant_id: str
    page: str
    plan: TenantPlan
    gdap_ends: str | None
    last_apply: LastApply | None
    changes: list[ChangeRow]
    manual: list[ManualRow]
    findings: list[FindingRow]
    sections: list[Section]
    licences: Section
    chart: BarChart
    gdap: Listing[Any]
    consent_missing: tuple[str, ...]
    users_without_mfa: list[str]
    risky_users: list[str]

    @property
    def high_findings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "high")


def tenant_view(
    plan: TenantPlan,
    seen: ObservedTenant,
    declared: Declarations,
    last_apply: LastApply | None,
) -> TenantView:
    users = user_items(seen, declared)
    sections = [
        _section("users", "Users", users, area="users", declared=declared, key=_user_key),
        _section(
            "groups",
            "Groups",
            group_items(seen, declared),
            area="groups",
            declared=declared,
            key=_nick,
        ),
        _section(
            "distribution-groups",
            "Distribution groups",
            distribution_group_items(seen, declared),
            area="distributionGroups",
            declared=declared,
            key=_address,
        ),
        _section(
            "shared-mailboxes",
            "Shared mailboxes",
            shared_mailbox_items(seen, declared),
            area="sharedMailboxes",
            declared=declared,
            key=_address,
        ),
    ]
    licences = licence_items(seen, declared)
    gdap = seen.gdap if isinstance(seen.gdap, GdapState) else None
    consent = plan.badges.consent_detail if plan.badges.consent == "partial" else None
    return TenantView(
        name=plan.name,
        display_name=declared.display_name or plan.name,
        tenant_id=plan.tenant_id,
        page=page_name(plan.name),
        plan=plan,
        gdap_ends=gdap.ends.date().isoformat() if gdap is not None and gdap.ends else None,
        last_apply=last_apply,
        changes=[_change(op) for op in plan.changes],
        manual=[_manual(op) for op in plan.manual_steps],
        findings=[_finding(f) for f in plan.findings],
        sections=sections,
        licences=Section("licences", "Licences", licences, "licences"),
        chart=licence_chart(
            f"licences-{page_name(plan.name)}",
            f"Licence usage in {declared.display_name or plan.name}",
            [(i.sku_part_number, i.consumed, i.enabled) for i in licences.items],
        ),
        gdap=gdap_items(seen, declared),
        consent_missing=_missing_permissions(consent),
        users_without_mfa=[u.user_principal_name for u in users.items if u.mfa == "notRegistered"],
        risky_users=[
            f"{u.user_principal_name} ({u.risk})"
            for u in users.items
            if u.risk not in ("none", "unknown", "hidden")
        ],
    )


def _section(
    section_id: str,
    title: str,
    listing: Listing[Any],
    *,
    area: str,
    declared: Declarations,
    key: Callable[[Any], str | None],
) -> Section:
    headers, cells = _COLUMNS[section_id]
    section = Section(
        section_id, title, listing, area, headers, [row(cells(item)) for item in listing.items]
    )
    if section.unread is not None:
        return section
    there = {key(item) for item in listing.items}
    for entry in declared.under(_DECLARED_SECTION[section_id]):
        if entry.ensure == "present" and entry.path[-1] not in there:
            source = str(entry.source) if entry.source else declared.file or ""
            section.missing.append(Missing(entry.path[-1], source))
    return section


def _members(count: int | None) -> str:
    return "unknown" if count is None else str(count)


# Per section: the headers, and the cells of one item (the first names it).
_COLUMNS: dict[str, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {
    "users": (
        ("User", "Name", "Enabled", "Licences", "MFA", "Risk", "Git"),
        lambda i: (
            i.user_principal_name,
            i.display_name,
            yes_no(i.account_enabled),
            listed(i.licences),
            i.mfa,
            i.risk,
            git(i.declared),
        ),
    ),
    "groups": (
        ("Nickname", "Name", "Type", "Members", "Git"),
        lambda i: (i.mail_nickname, i.display_name, i.type, _members(i.members), git(i.declared)),
    ),
    "distribution-groups": (
        ("Address", "Name", "Members", "Git"),
        lambda i: (i.primary_smtp_address, i.name, _members(i.members), git(i.declared)),
    ),
    "shared-mailboxes": (
        ("Address", "Name", "Full access", "Send as", "Send on behalf", "Git"),
        lambda i: (
            i.primary_smtp_address,
            i.name,
            listed(i.full_access),
            listed(i.send_as),
            listed(i.send_on_behalf),
            git(i.declared),
        ),
    ),
}


_DECLARED_SECTION = {
    "users": "users",
    "groups": "groups",
    "distribution-groups": "distributionGroups",
    "shared-mailboxes": "sharedMailboxes",
}


def _user_key(item: Any) -> str | None:
    return str(item.user_principal_name).lower()


def _nick(item: Any) -> str | None:
    return str(item.mail_nickname).lower() if item.mail_nickname else None


def _address(item: Any) -> str | None:
    return str(item.primary_smtp_address).lower()


def _missing_permissions(detail: str | None) -> tuple[str, ...]:
    if not detail or not detail.startswith("missing: "):
        return ()
    return tuple(p.strip() for p in detail.removeprefix("missing: ").split(","))


def _who(subject: str) -> str:
    """``user:bob@contoso.com`` -> ``bob@contoso.com``."""
    return subject.partition(":")[2] or subject


def _finding(finding: Finding) -> FindingRow:
    return FindingRow(
        severity=finding.severity,
        check=finding.check,
        who=_who(finding.subject),
        message=finding.message,
        source=str(finding.source) if finding.source else None,
    )


def _manual(op: Operation) -> ManualRow:
    step = op.manual
    return ManualRow(
        title=step.title if step else op.kind.value,
        instructions=step.instructions if step else op.reason,
        link=safe_link(step.link) if step else None,
    )


def _change(op: Operation) -> ChangeRow:
    return ChangeRow(
        kind=op.kind.value,
        target=op.target,
        changes="; ".join(
            f"{c.field}: {value(c.before)} \u2192 {value(c.after)}" for c in op.changes
        ),
        decision=op.decision.value if op.decision else None,
        source=str(op.source) if op.source else None,
    )


def estate_counts(views: Sequence[TenantView]) -> dict[str, int]:
    """The overview's headline numbers."""
    return {
        "tenants": len(views),
        "drift": sum(1 for v in views if v.changes),
        "changes": sum(len(v.changes) for v in views),
        "manual": sum(len(v.manual) for v in views),
        "findings": sum(len(v.findings) for v in views),
        "incomplete": sum(1 for v in views if v.plan.observation != "complete"),
    }
