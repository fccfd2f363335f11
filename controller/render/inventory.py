"""What a tenant holds, object by object, and whether git declares each: the items of
``tenantctl get`` and of the report's tenant pages.

Built from what observe saw (:class:`~controller.models.observed.ObservedTenant`) and what git
declares (:class:`~controller.models.declared.Declarations`). An area that could not be read
gives no items and an :class:`~controller.render.documents.UnknownRead` with its reason, never
an empty list; a cell that needs another area (a user's MFA registration, a licence's name, a
group's members) is ``unknown`` (``null`` in JSON) and that area's reason is listed once.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from controller.models.declared import MAILBOX_RIGHTS, Declarations, Declared
from controller.models.observed import (
    GdapRelationship,
    GdapState,
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    ObservedTenant,
    Principal,
    Unknown,
)
from controller.models.permissions import (
    REQUIRED_PERMISSIONS,
    ROLE_MANAGEMENT_PERMISSION,
    role_name,
)
from controller.render.documents import (
    ConsentItem,
    DeclaredAt,
    DistributionGroupItem,
    GdapItem,
    GetConsentReport,
    GetDistributionGroupsReport,
    GetGdapReport,
    GetGroupsReport,
    GetLicencesReport,
    GetMembersReport,
    GetReport,
    GetSharedMailboxesReport,
    GetUsersReport,
    GroupItem,
    LicenceItem,
    MemberItem,
    SharedMailboxItem,
    UnknownRead,
    UserItem,
)

__all__ = [
    "KINDS",
    "Kind",
    "Listing",
    "consent_items",
    "declared_at",
    "distribution_group_items",
    "gdap_items",
    "get_document",
    "group_items",
    "licence_items",
    "member_items",
    "shared_mailbox_items",
    "user_items",
]

Kind = Literal[
    "users",
    "groups",
    "members",
    "distribution-groups",
    "shared-mailboxes",
    "licences",
    "consent",
    "gdap",
]
KINDS: tuple[Kind, ...] = (
    "users",
    "groups",
    "members",
    "distribution-groups",
    "shared-mailboxes",
    "licences",
    "consent",
    "gdap",
)

Item = TypeVar("Item")
T = TypeVar("T")


@dataclass
class Listing(Generic[Item]):
    """One tenant's items of one kind, and what could not be read for them."""

    items: list[Item] = field(default_factory=list)
    unknown: list[UnknownRead] = field(default_factory=list)

    def unread(self, tenant: str, area: str, why: Unknown, subject: str | None = None) -> None:
        self.unknown.append(
            UnknownRead(tenant=tenant, area=area, subject=subject, code=why.code, reason=why.reason)
        )


def declared_at(entry: Declared | None) -> DeclaredAt | None:
    """The "managed by git" cell: where ``entry`` is declared, or None."""
    if entry is None:
        return None
    source = entry.source
    return DeclaredAt(
        file=source.file if source else None,
        line=source.line if source else None,
        profile=source.profile if source else None,
        ensure=entry.ensure,
    )


def _known(
    listing: Listing[Any], tenant: str, area: str, value: T | Unknown, subject: str | None = None
) -> T | None:
    """``value`` when it was read; else None, with its reason recorded once."""
    if isinstance(value, Unknown):
        listing.unread(tenant, area, value, subject)
        return None
    return value


_NOT_READ = Unknown("notManaged", "not read: git does not declare it")


# -- one kind each ----------------------------------------------------------------------------


def user_items(seen: ObservedTenant, declared: Declarations) -> Listing[UserItem]:
    listing: Listing[UserItem] = Listing()
    name = seen.name
    users = _known(listing, name, "users", seen.users)
    if users is None:
        return listing
    skus = _known(listing, name, "licences", seen.skus, "licence names")
    mfa = _known(listing, name, "mfa", seen.mfa)
    risky = _known(listing, name, "riskyUsers", seen.risky_users)
    sku_names = {s.sku_id: s.sku_part_number for s in skus or ()}
    registrations = {r.user_principal_name.lower(): r for r in mfa or ()}
    risks = {r.user_principal_name.lower(): r.risk_level for r in risky or ()}
    for user in users:
        key = user.key
        registration = registrations.get(key)
        mfa_status: Literal["registered", "notRegistered", "notInReport", "unknown"]
        if mfa is None:
            mfa_status = "unknown"
        elif registration is None:
            mfa_status = "notInReport"
        else:
            mfa_status = "registered" if registration.is_mfa_registered else "notRegistered"
        listing.items.append(
            UserItem(
                tenant=name,
                user_principal_name=user.user_principal_name,
                display_name=user.display_name,
                account_enabled=user.account_enabled,
                usage_location=user.usage_location,
                licences=tuple(sorted(sku_names.get(s, s) for s in user.license_sku_ids)),
                mfa=mfa_status,
                mfa_capable=registration.is_mfa_capable if registration else None,
                risk="unknown" if risky is None else risks.get(key, "none"),
                declared=declared_at(declared.get("users", key)),
                id=user.id,
            )
        )
    return listing


def _member_count(
    listing: Listing[Any],
    tenant: str,
    members: tuple[Principal, ...] | Unknown | None,
    subject: str,
) -> int | None:
    found = _known(listing, tenant, "members", _NOT_READ if members is None else members, subject)
    return None if found is None else len(found)


_ENTRA_KINDS = ("security", "microsoft365")


def group_items(seen: ObservedTenant, declared: Declarations) -> Listing[GroupItem]:
    """Entra security and Microsoft 365 groups (mail-enabled ones are distribution groups)."""
    listing: Listing[GroupItem] = Listing()
    groups = _known(listing, seen.name, "groups", seen.groups)
    for group in groups or ():
        if group.kind not in _ENTRA_KINDS:
            continue
        nick = group.key
        listing.items.append(
            GroupItem(
                tenant=seen.name,
                mail_nickname=group.mail_nickname,
                display_name=group.display_name,
                type="security" if group.kind == "security" else "microsoft365",
                description=group.description,
                members=_member_count(listing, seen.name, group.members, nick or group.id),
                declared=declared_at(declared.get("groups", nick)) if nick else None,
                id=group.id,
            )
        )
    return listing


def distribution_group_items(
    seen: ObservedTenant, declared: Declarations
) -> Listing[DistributionGroupItem]:
    listing: Listing[DistributionGroupItem] = Listing()
    groups = _known(listing, seen.name, "distributionGroups", seen.distribution_groups)
    for dg in groups or ():
        listing.items.append(
            DistributionGroupItem(
                tenant=seen.name,
                primary_smtp_address=dg.primary_smtp_address,
                name=dg.name,
                display_name=dg.display_name,
                alias=dg.alias,
                members=_member_count(listing, seen.name, dg.members, dg.key),
                declared=declared_at(declared.get("distributionGroups", dg.key)),
                id=dg.id,
            )
        )
    return listing


def shared_mailbox_items(
    seen: ObservedTenant, declared: Declarations
) -> Listing[SharedMailboxItem]:
    listing: Listing[SharedMailboxItem] = Listing()
    mailboxes = _known(listing, seen.name, "sharedMailboxes", seen.shared_mailboxes)
    for mailbox in mailboxes or ():
        holders = [
            _holders(listing, seen.name, mailbox, right, value)
            for right, value in zip(
                MAILBOX_RIGHTS,
                (mailbox.full_access, mailbox.send_as, mailbox.send_on_behalf),
                strict=True,
            )
        ]
        listing.items.append(
            SharedMailboxItem(
                tenant=seen.name,
                primary_smtp_address=mailbox.primary_smtp_address,
                name=mailbox.name,
                display_name=mailbox.display_name,
                alias=mailbox.alias,
                full_access=holders[0],
                send_as=holders[1],
                send_on_behalf=holders[2],
                declared=declared_at(declared.get("sharedMailboxes", mailbox.key)),
                id=mailbox.id,
            )
        )
    return listing


def _holders(
    listing: Listing[Any],
    tenant: str,
    mailbox: ObservedSharedMailbox,
    right: str,
    value: frozenset[str] | Unknown | None,
) -> tuple[str, ...] | None:
    found = _known(
        listing, tenant, right, _NOT_READ if value is None else value, mailbox.primary_smtp_address
    )
    return None if found is None else tuple(sorted(found))


def licence_items(seen: ObservedTenant, declared: Declarations) -> Listing[LicenceItem]:
    listing: Listing[LicenceItem] = Listing()
    skus = _known(listing, seen.name, "licences", seen.skus)
    for sku in sorted(skus or (), key=lambda s: (s.sku_part_number.lower(), s.sku_id)):
        listing.items.append(
            LicenceItem(
                tenant=seen.name,
                sku_part_number=sku.sku_part_number,
                sku_id=sku.sku_id,
                enabled=sku.enabled_units,
                consumed=sku.consumed_units,
                available=sku.free_units,
                declared=declared_at(declared.get("licences", sku.sku_part_number.lower())),
            )
        )
    return listing


def consent_items(seen: ObservedTenant, declared: Declarations) -> Listing[ConsentItem]:
    """Every permission tenantctl needs, the optional one, and any other the app holds."""
    listing: Listing[ConsentItem] = Listing()
    consent = _known(listing, seen.name, "consent", seen.consent)
    if consent is None:
        return listing
    managed = declared_at(declared.get("consent"))
    shown = REQUIRED_PERMISSIONS | {ROLE_MANAGEMENT_PERMISSION} | consent.granted
    for permission in sorted(shown, key=str.lower):
        listing.items.append(
            ConsentItem(
                tenant=seen.name,
                permission=permission,
                required=permission in REQUIRED_PERMISSIONS,
                granted=permission in consent.granted,
                declared=managed,
            )
        )
    return listing


def gdap_items(seen: ObservedTenant, declared: Declarations) -> Listing[GdapItem]:
    listing: Listing[GdapItem] = Listing()
    gdap = _known(listing, seen.name, "gdap", seen.gdap)
    for rel in _relationships(gdap):
        listing.items.append(
            GdapItem(
                tenant=seen.name,
                relationship=rel.display_name,
                status=rel.status,
                roles=tuple(sorted(role_name(r) for r in rel.role_ids)),
                ends=rel.end.isoformat().replace("+00:00", "Z") if rel.end else None,
                auto_extend=rel.auto_extend,
                id=rel.id,
            )
        )
    return listing


def _relationships(gdap: GdapState | None) -> Iterable[GdapRelationship]:
    if gdap is None:
        return ()
    return sorted(gdap.relationships, key=lambda r: (r.end is None, r.end, r.id))


def member_items(
    seen: ObservedTenant, declared: Declarations, group: str
) -> tuple[Listing[MemberItem], bool]:
    """The members of the group named ``group`` (an Entra group's mailNickname, or a
    distribution group's alias or address), and whether the tenant surely has no such group
    (both kinds of group were read and none is named so)."""
    listing: Listing[MemberItem] = Listing()
    wanted = group.strip().lower()
    groups, dgs = seen.groups, seen.distribution_groups
    found = _find_group(
        () if isinstance(groups, Unknown) else groups,
        () if isinstance(dgs, Unknown) else dgs,
        wanted,
    )
    if found is None:
        for area, value in (("groups", groups), ("distributionGroups", dgs)):
            if isinstance(value, Unknown):
                listing.unread(seen.name, area, value)
        return listing, not listing.unknown
    section, key, members = found
    principals = _known(
        listing, seen.name, "members", _NOT_READ if members is None else members, key
    )
    for member in sorted(principals or (), key=lambda p: (p.key or "", p.id)):
        entry = declared.get(section, key, "members", member.key) if member.key else None
        listing.items.append(
            MemberItem(
                tenant=seen.name,
                group=key,
                address=member.address,
                display_name=member.display_name,
                type=member.kind,
                declared=declared_at(entry),
                id=member.id,
            )
        )
    return listing, False


def _find_group(
    groups: Sequence[ObservedGroup], dgs: Sequence[ObservedDistributionGroup], wanted: str
) -> tuple[str, str, tuple[Principal, ...] | Unknown | None] | None:
    for g in groups:
        if g.kind in _ENTRA_KINDS and g.key == wanted:
            return "groups", wanted, g.members
    for dg in dgs:
        if wanted in (dg.key, (dg.alias or "").lower()):
            return "distributionGroups", dg.key, dg.members
    return None


# -- the document -----------------------------------------------------------------------------

_BUILDERS: dict[Kind, tuple[Callable[[ObservedTenant, Declarations], Listing[Any]], Any]] = {
    "users": (user_items, GetUsersReport),
    "groups": (group_items, GetGroupsReport),
    "distribution-groups": (distribution_group_items, GetDistributionGroupsReport),
    "shared-mailboxes": (shared_mailbox_items, GetSharedMailboxesReport),
    "licences": (licence_items, GetLicencesReport),
    "consent": (consent_items, GetConsentReport),
    "gdap": (gdap_items, GetGdapReport),
}


def get_document(
    kind: Kind,
    tenants: Sequence[tuple[ObservedTenant, Declarations]],
    *,
    group: str | None = None,
) -> GetReport:
    """``tenantctl get KIND``'s document over ``tenants`` (in the order given)."""
    names = tuple(seen.name for seen, _ in tenants)
    items: list[Any] = []
    unknown: list[UnknownRead] = []
    if kind == "members":
        if group is None:
            raise ValueError("members need a group")
        not_found = []
        for seen, declared in tenants:
            listing, missing = member_items(seen, declared, group)
            items += listing.items
            unknown += listing.unknown
            if missing:
                not_found.append(seen.name)
        return GetMembersReport(
            tenants=names,
            unknown=tuple(unknown),
            group=group.strip().lower(),
            not_found=tuple(not_found),
            items=tuple(items),
        )
    build, document = _BUILDERS[kind]
    for seen, declared in tenants:
        listing = build(seen, declared)
        items += listing.items
        unknown += listing.unknown
    report: GetReport = document(tenants=names, unknown=tuple(unknown), items=tuple(items))
    return report
