"""Refuse an import whose observation is incomplete: a partial file would declare exact member
lists and permissions from a failed read. Pure."""

from __future__ import annotations

from controller.importer._types import ImportOptions, ImportRefused, imports_group
from controller.models.observed import ObservedTenant, Unknown


def check_observed(
    observed: ObservedTenant, options: ImportOptions, *, tenant: str, new_tenant: bool = False
) -> None:
    """Refuse (:class:`ImportRefused`) when an area the import needs is unknown, naming every
    one of them. ``new_tenant``: the verified domains are needed for the metadata."""
    o = observed
    include = options.include
    needed: list[tuple[str, object]] = [
        ("consent", o.consent),
        ("exchange", o.exchange),
        ("users", o.users),
    ]
    if new_tenant:
        needed.append(("domains", o.verified_domains))
    if "users" in include:
        needed.append(("licences", o.skus))
    if "groups" in include:
        needed.append(("groups", o.groups))
    if "distributionGroups" in include:
        needed.append(("distributionGroups", o.distribution_groups))
    if "sharedMailboxes" in include:
        needed.append(("sharedMailboxes", o.shared_mailboxes))
    unknown = [(area, v.reason) for area, v in needed if isinstance(v, Unknown)]
    unknown += _unknown_lists(observed, options)
    if not unknown:
        return
    areas_by_reason: dict[str, list[str]] = {}
    for area, reason in unknown:
        areas_by_reason.setdefault(reason, []).append(area)
    reasons = [f"{', '.join(areas)}: {reason}" for reason, areas in areas_by_reason.items()]
    only_exchange = all(
        area.startswith(("distributionGroups", "sharedMailboxes")) for area, _ in unknown
    )
    hint = (
        "leave Exchange out with --include users,groups, or import again once it can be read"
        if only_exchange
        else "import again once the tenant can be read"
    )
    raise ImportRefused(tenant, reasons, hint=hint)


def _unknown_lists(observed: ObservedTenant, options: ImportOptions) -> list[tuple[str, str]]:
    """Member lists and permissions of the objects to import that could not be read."""
    o = observed
    unknown: list[tuple[str, str]] = []
    if "groups" in options.include and isinstance(o.groups, tuple):
        for g in o.groups:
            if imports_group(g, options) and isinstance(g.members, Unknown):
                unknown.append((f"groups/{g.mail_nickname}/members", g.members.reason))
    if "distributionGroups" in options.include and isinstance(o.distribution_groups, tuple):
        for d in o.distribution_groups:
            if options.selects(d.primary_smtp_address) and isinstance(d.members, Unknown):
                area = f"distributionGroups/{d.primary_smtp_address}/members"
                unknown.append((area, d.members.reason))
    if "sharedMailboxes" in options.include and isinstance(o.shared_mailboxes, tuple):
        for m in o.shared_mailboxes:
            if not options.selects(m.primary_smtp_address):
                continue
            for name, value in (
                ("fullAccess", m.full_access),
                ("sendAs", m.send_as),
                ("sendOnBehalf", m.send_on_behalf),
            ):
                if isinstance(value, Unknown):
                    area = f"sharedMailboxes/{m.primary_smtp_address}/{name}"
                    unknown.append((area, value.reason))
    return unknown
