"""Observed tenant -> the tenant file that declares it: pure, no I/O, no clock.

The file is what ``plan`` would need to report no changes: every field written is one the
planner compares, with the value observed; nothing the planner does not compare is written
(no ids, no defaults restated). Objects are sorted by their matching key and lists by address,
so the same tenant gives the same file.

An area that could not be observed refuses the whole import (:class:`ImportRefused`): a
partial file would declare exact member lists and permissions from a failed read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from controller.importer._check import check_observed
from controller.importer._types import (
    ImportOptions,
    ImportRefused,
    Loc,
    TenantImport,
    imports_group,
)
from controller.models import (
    API_VERSION,
    DistributionGroup,
    Group,
    SharedMailbox,
    TenantConfig,
    TenantSpec,
    User,
)
from controller.models.common import SmtpAddress
from controller.models.observed import (
    ConsentStatus,
    ExchangeAccess,
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    ObservedTenant,
    ObservedUser,
    Principal,
    Unknown,
)
from controller.models.tenant import TenantMetadata

M = TypeVar("M", bound=BaseModel)

_ADDRESS: TypeAdapter[str] = TypeAdapter(SmtpAddress)
_SECTION_ATTRS = {
    "users": "users",
    "groups": "groups",
    "distributionGroups": "distribution_groups",
    "sharedMailboxes": "shared_mailboxes",
}


def skeleton_metadata(
    name: str, tenant_id: str, display_name: str | None, observed: ObservedTenant
) -> TenantMetadata:
    """Metadata for a customer not yet in desired/: slug name, tenant id, verified domains."""
    domains = observed.verified_domains
    if isinstance(domains, Unknown):
        raise ImportRefused(name, [f"domains: {domains.reason}"])
    if not domains:
        raise ImportRefused(name, ["domains: the tenant reports no verified domain"])
    values: dict[str, Any] = {"name": name, "tenant_id": tenant_id, "domains": sorted(domains)}
    if display_name:
        values["display_name"] = display_name
    return TenantMetadata(**values)


def build_tenant_import(
    observed: ObservedTenant,
    metadata: TenantMetadata,
    options: ImportOptions,
    *,
    imported_at: dt.datetime,
    carried: TenantSpec | None = None,
) -> TenantImport:
    """The tenant file for ``observed``. ``carried``: the spec of the file being replaced, whose
    intent (what observation cannot know) is kept: profiles, checks, policy,
    ``existingPrincipals`` (never imported as managed objects), and ``membership: additive`` /
    ``permissions: additive`` of the objects it still holds.

    Raises :class:`ImportRefused` naming every needed area that is unknown.
    """
    check_observed(observed, options, tenant=metadata.name)
    return _Builder(observed, metadata, options, carried).build(imported_at, carried)


class _Builder:
    def __init__(
        self,
        observed: ObservedTenant,
        metadata: TenantMetadata,
        options: ImportOptions,
        carried: TenantSpec | None = None,
    ) -> None:
        self.observed = observed
        self.metadata = metadata
        self.options = options
        # What a person declared in the file being replaced: principals that exist but are
        # managed elsewhere (the customer's own admin), and the objects kept additive.
        self.kept_existing = {
            a.lower(): a for a in (carried.existing_principals if carried else ())
        }
        self.additive = _additive_objects(carried)
        self.comments: dict[Loc, list[str]] = {}
        self.notes: list[str] = []
        self.domains = {d.lower() for d in metadata.domains}
        self.user_addresses: dict[str, str] = {}  # key -> the UPN as written
        self.dg_addresses: dict[str, str] = {}
        self.mailbox_addresses: dict[str, str] = {}
        self.existing: dict[str, str] = {}  # referenced but not declared: key -> address

    # -- the straight line --------------------------------------------------------------

    def build(self, imported_at: dt.datetime, carried: TenantSpec | None) -> TenantImport:
        include = self.options.include
        mailboxes = self._observed_mailboxes()
        users = self._users(mailboxes) if "users" in include else []
        dgs = self._distribution_groups() if "distributionGroups" in include else []
        shared = self._shared_mailboxes(mailboxes) if "sharedMailboxes" in include else []
        observed_groups = self._groups() if "groups" in include else []
        # Members and holders resolve only once every declared address is known.
        groups = [self._with_members_of_group(g, o) for g, o in observed_groups]
        members_of_dgs = [self._with_members_of_dg(d, o) for d, o in dgs]
        permissions = [self._with_permissions(m, o) for m, o in shared]

        spec: dict[str, Any] = {
            "consent": self._consent(),
            "exchange": self._exchange_mode(),
        }
        existing = {**self.kept_existing, **self.existing}
        if existing:
            spec["existing_principals"] = sorted(existing.values(), key=str.lower)
            self.comments[("spec", "existingPrincipals")] = [
                "Members and permission holders that exist in the tenant but are not "
                "declared in this file"
            ]
        for name, objects in (
            ("users", users),
            ("groups", [g for g, _ in groups]),
            ("distribution_groups", [d for d, _ in members_of_dgs]),
            ("shared_mailboxes", [m for m, _ in permissions]),
        ):
            if objects:
                spec[name] = objects
        for name in ("profiles", "checks", "policy"):
            if carried is not None and name in carried.model_fields_set:
                spec[name] = getattr(carried, name)
        # A section left empty is not written: what was left out of it goes in the header.
        orphans: list[str] = []
        for section, attr in _SECTION_ATTRS.items():
            if attr not in spec:
                orphans += self.comments.pop(("spec", section), [])
        self._place_object_comments("groups", groups)
        self._place_object_comments("distributionGroups", members_of_dgs)
        self._place_object_comments("sharedMailboxes", permissions)
        config = TenantConfig(
            api_version=API_VERSION,
            kind="Tenant",
            metadata=self.metadata,
            spec=TenantSpec(**spec),
        )
        return TenantImport(
            config=config,
            header=(*self._header(imported_at), *orphans),
            comments={loc: tuple(lines) for loc, lines in self.comments.items()},
            notes=tuple(self.notes),
        )

    # -- tenant-level -----------------------------------------------------------------------

    def _consent(self) -> str:
        consent = self.observed.consent
        assert isinstance(consent, ConsentStatus)
        if consent.state == "granted":
            return "granted"
        missing = ", ".join(sorted(consent.missing)) or "every required permission"
        self.comments[("spec", "consent")] = [
            f"Consent is {consent.state} (missing: {missing}). Set granted to have the plan "
            "ask for it; unmanaged keeps the plan quiet about it."
        ]
        self.notes.append(f"consent is {consent.state}: written as unmanaged")
        return "unmanaged"

    def _exchange_mode(self) -> str:
        access = self.observed.exchange
        assert isinstance(access, ExchangeAccess)
        if access.state == "working-direct":
            return "direct"
        if access.state == "working-cipp":
            return "cipp"
        why = {
            "propagating": "the Exchange Administrator role is assigned but not effective yet",
            "pending": "neither the Exchange Administrator role nor CIPP works yet",
            "not-managed": "Exchange is not managed",
        }.get(access.state, access.state)
        self.comments[("spec", "exchange")] = [
            f"Exchange: {why}. Set direct or cipp once Exchange works, then import the "
            "Exchange objects."
        ]
        self.notes.append(f"Exchange is {access.state}: written as unmanaged")
        return "unmanaged"

    def _header(self, imported_at: dt.datetime) -> tuple[str, ...]:
        when = imported_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"Imported by `tenantctl import` from tenant {self.metadata.tenant_id} on {when} "
            f"({self.options.describe()}).",
            "Everything below is now managed: member and permission lists are exact, so "
            "review them before committing. Objects not listed here are left alone.",
        ]
        users = self.observed.users
        if (
            "users" in self.options.include
            and isinstance(self.observed.shared_mailboxes, Unknown)
            and isinstance(users, tuple)
            and any(u.account_enabled is False for u in users)
        ):
            lines.append(
                "Exchange could not be read: some disabled users may be the user objects of "
                "shared mailboxes; move them to sharedMailboxes once Exchange works."
            )
        return tuple(lines)

    # -- users --------------------------------------------------------------------------

    def _observed_mailboxes(self) -> tuple[ObservedSharedMailbox, ...]:
        mailboxes = self.observed.shared_mailboxes
        return mailboxes if isinstance(mailboxes, tuple) else ()

    def _users(self, mailboxes: Sequence[ObservedSharedMailbox]) -> list[User]:
        users = self.observed.users
        skus = self.observed.skus
        assert isinstance(users, tuple) and isinstance(skus, tuple)
        part_numbers = {s.sku_id.lower(): s.sku_part_number for s in skus}
        # Entra lists a shared mailbox's user object among the users: it is not a person.
        mailbox_keys = {m.key for m in mailboxes}
        built: list[User] = []
        skipped: list[str] = []
        for user in sorted(users, key=lambda u: u.key):
            if user.key in mailbox_keys or (user.mail and user.mail.lower() in mailbox_keys):
                continue
            if self.options.exclude_disabled and user.account_enabled is False:
                continue
            if not self.options.selects(user.user_principal_name):
                continue
            if self._kept_existing(user.key, user.user_principal_name):
                continue
            if user.key.rpartition("@")[2] not in self.domains:
                skipped.append(f"{user.user_principal_name} (domain not in metadata.domains)")
                continue
            made = self._user(user, part_numbers)
            if isinstance(made, str):
                skipped.append(f"{user.user_principal_name} ({made})")
                continue
            built.append(made)
            self.user_addresses[user.key] = made.user_principal_name
        if skipped:
            self._left_out(("spec", "users"), "users", skipped)
        return built

    def _user(self, user: ObservedUser, part_numbers: Mapping[str, str]) -> User | str:
        values: dict[str, Any] = {
            "user_principal_name": user.user_principal_name,
            "display_name": _text(user.display_name),
        }
        local = user.user_principal_name.rpartition("@")[0]
        if user.mail_nickname and user.mail_nickname.lower() != local.lower():
            values["mail_nickname"] = user.mail_nickname  # not Entra's default: keep it
        for attr in ("given_name", "surname", "job_title", "department"):
            value = _text(getattr(user, attr))
            if value is not None:
                values[attr] = value
        if user.account_enabled is not None:
            values["account_enabled"] = user.account_enabled
        usage = _text(user.usage_location)
        if usage is not None:
            values["usage_location"] = usage.upper()
        licences = sorted(part_numbers.get(i.lower(), "") for i in user.license_sku_ids)
        if "" in licences:
            self.notes.append(
                f"{user.user_principal_name}: licences not listed (a licence is not among the "
                "tenant's subscriptions)"
            )
        elif licences and usage is None:
            # The plan would set a usage location before the licences (Graph requires one).
            self.notes.append(
                f"{user.user_principal_name}: licences not listed (no usage location)"
            )
        elif licences:
            # None is not written: a user without licences (an admin, a service account) most
            # often has them managed elsewhere, and [] would remove any assigned later.
            values["licenses"] = licences
        return _made(User, values)

    # -- Entra groups ---------------------------------------------------------------------

    def _groups(self) -> list[tuple[Group, ObservedGroup]]:
        groups = self.observed.groups
        assert isinstance(groups, tuple)
        built: list[tuple[Group, ObservedGroup]] = []
        skipped: list[str] = []
        for group in sorted(groups, key=lambda g: (g.key or "", g.id)):
            if group.kind == "mailEnabledSecurity" and self.options.selects(group.mail_nickname):
                skipped.append(
                    f"{group.display_name or group.mail_nickname} (mail-enabled security group: "
                    "Graph cannot manage it)"
                )
                continue
            if not imports_group(group, self.options):
                continue  # distribution groups come from Exchange
            values: dict[str, Any] = {
                "display_name": _text(group.display_name),
                "mail_nickname": group.mail_nickname,
            }
            if group.kind != "security":
                values["type"] = group.kind
            description = _text(group.description)
            if description is not None:
                values["description"] = description
            made = _made(Group, values)
            if isinstance(made, str):
                skipped.append(f"{group.display_name or group.id} ({made})")
                continue
            built.append((made, group))
        if skipped:
            self._left_out(("spec", "groups"), "groups", skipped)
        return built

    def _with_members_of_group(
        self, group: Group, observed: ObservedGroup
    ) -> tuple[Group, list[str]]:
        members = observed.members
        assert isinstance(members, tuple), "members of imported groups are read"
        # Entra group members are users: other objects are existing principals.
        listed, comments = self._addresses(members, self.user_addresses)
        if any(c.startswith("membership") for c in comments) or (
            ("groups", group.mail_nickname.lower()) in self.additive
        ):
            group = group.model_copy(update={"membership": "additive"})
        return _with(group, members=listed), comments

    # -- Exchange -------------------------------------------------------------------------

    def _distribution_groups(self) -> list[tuple[DistributionGroup, ObservedDistributionGroup]]:
        dgs = self.observed.distribution_groups
        assert isinstance(dgs, tuple)
        built = []
        skipped: list[str] = []
        for dg in sorted(dgs, key=lambda d: d.key):
            if not self.options.selects(dg.primary_smtp_address):
                continue
            if self._kept_existing(dg.key, dg.primary_smtp_address):
                continue
            made = self._exchange_object(DistributionGroup, dg)
            if isinstance(made, str):
                skipped.append(f"{dg.primary_smtp_address} ({made})")
                continue
            built.append((made, dg))
            self.dg_addresses[dg.key] = made.primary_smtp_address
        if skipped:
            self._left_out(("spec", "distributionGroups"), "distribution groups", skipped)
        return built

    def _shared_mailboxes(
        self, mailboxes: Sequence[ObservedSharedMailbox]
    ) -> list[tuple[SharedMailbox, ObservedSharedMailbox]]:
        built = []
        skipped: list[str] = []
        for mailbox in sorted(mailboxes, key=lambda m: m.key):
            if not self.options.selects(mailbox.primary_smtp_address):
                continue
            if self._kept_existing(mailbox.key, mailbox.primary_smtp_address):
                continue
            made = self._exchange_object(SharedMailbox, mailbox)
            if isinstance(made, str):
                skipped.append(f"{mailbox.primary_smtp_address} ({made})")
                continue
            built.append((made, mailbox))
            self.mailbox_addresses[mailbox.key] = made.primary_smtp_address
        if skipped:
            self._left_out(("spec", "sharedMailboxes"), "shared mailboxes", skipped)
        return built

    def _exchange_object(
        self, model: type[M], observed: ObservedDistributionGroup | ObservedSharedMailbox
    ) -> M | str:
        address = observed.primary_smtp_address
        if address.rpartition("@")[2].lower() not in self.domains:
            return "domain not in metadata.domains"
        values: dict[str, Any] = {"name": observed.name, "primary_smtp_address": address}
        display = _text(observed.display_name)
        # Exchange fills DisplayName from Name: the same value is a default, not a choice.
        if display is not None and display != _text(observed.name):
            values["display_name"] = display
        local = address.rpartition("@")[0]
        if observed.alias and observed.alias.lower() != local.lower():
            values["alias"] = observed.alias
        return _made(model, values)

    def _with_members_of_dg(
        self, dg: DistributionGroup, observed: ObservedDistributionGroup
    ) -> tuple[DistributionGroup, list[str]]:
        members = observed.members
        assert isinstance(members, tuple), "members of imported distribution groups are read"
        declared = {**self.user_addresses, **self.dg_addresses, **self.mailbox_addresses}
        listed, comments = self._addresses(members, declared)
        if any(c.startswith("membership") for c in comments) or (
            ("distributionGroups", dg.primary_smtp_address.lower()) in self.additive
        ):
            dg = dg.model_copy(update={"membership": "additive"})
        return _with(dg, members=listed), comments

    def _with_permissions(
        self, mailbox: SharedMailbox, observed: ObservedSharedMailbox
    ) -> tuple[SharedMailbox, list[str]]:
        declared = {**self.user_addresses, **self.dg_addresses}
        lists: dict[str, list[str]] = {}
        comments: list[str] = []
        for attr in ("full_access", "send_as", "send_on_behalf"):
            holders = getattr(observed, attr)
            assert isinstance(holders, frozenset), "permissions of imported mailboxes are read"
            principals = [Principal(id=h, address=h) for h in holders]
            lists[attr], found = self._addresses(principals, declared)
            comments += found
        if any(c.startswith("membership") for c in comments) or (
            ("sharedMailboxes", mailbox.primary_smtp_address.lower()) in self.additive
        ):
            mailbox = mailbox.model_copy(update={"permissions": "additive"})
        return _with(mailbox, **lists), comments

    # -- members and comments -------------------------------------------------------------

    def _addresses(
        self, principals: Iterable[Principal], declared: Mapping[str, str]
    ) -> tuple[list[str], list[str]]:
        """Member addresses as the file writes them, and comments on what was left out.

        A member declared in this file is written as declared; any other member with an
        address is an existing principal. Members without an address (devices, service
        principals) cannot be named in a tenant file; the planner leaves them alone.
        """
        listed: dict[str, str] = {}
        unnamed: list[str] = []
        unusable: list[str] = []
        for p in principals:
            if p.key is None:
                unnamed.append(f"{p.display_name or p.id} ({p.kind})")
                continue
            if p.key in declared:
                listed[p.key] = declared[p.key]
            elif p.key in self.kept_existing:
                self.existing.setdefault(p.key, self.kept_existing[p.key])
                listed[p.key] = self.existing[p.key]
            elif p.key in self.existing or _is_address(p.address):
                self.existing.setdefault(p.key, p.address or p.key)
                listed[p.key] = self.existing[p.key]
            else:
                unusable.append(p.address or p.key)
        comments = []
        if unnamed:
            comments.append(
                f"not listed: {len(unnamed)} member(s) without an address, left alone: "
                + ", ".join(sorted(unnamed))
            )
        if unusable:
            comments.append(
                "membership additive: these cannot be written as addresses and must be kept: "
                + ", ".join(sorted(unusable))
            )
        return sorted(listed.values(), key=str.lower), comments

    def _kept_existing(self, key: str, address: str) -> bool:
        """An object the replaced file lists in existingPrincipals stays an existing
        principal: import never turns it into a managed (and deletable) object."""
        if key not in self.kept_existing:
            return False
        self.notes.append(f"{address}: listed in existingPrincipals, kept there (not managed)")
        return True

    def _left_out(self, loc: Loc, what: str, items: list[str]) -> None:
        self.comments.setdefault(loc, []).append(f"Not imported ({what}): " + "; ".join(items))
        self.notes.append(f"{what} not imported: " + "; ".join(items))

    def _place_object_comments(
        self, section: str, objects: Sequence[tuple[BaseModel, list[str]]]
    ) -> None:
        for i, (_, comments) in enumerate(objects):
            if comments:
                self.comments[("spec", section, i)] = comments


def _additive_objects(carried: TenantSpec | None) -> frozenset[tuple[str, str]]:
    """(section, identity) of the objects a person made additive in the replaced file."""
    if carried is None:
        return frozenset()
    return frozenset(
        [("groups", g.mail_nickname.lower()) for g in carried.groups if g.membership == "additive"]
        + [
            ("distributionGroups", d.primary_smtp_address.lower())
            for d in carried.distribution_groups
            if d.membership == "additive"
        ]
        + [
            ("sharedMailboxes", m.primary_smtp_address.lower())
            for m in carried.shared_mailboxes
            if m.permissions == "additive"
        ]
    )


def _text(value: str | None) -> str | None:
    """A free-text value as the planner compares it: blank is not set."""
    if value is None:
        return None
    return value.strip() or None


def _is_address(value: str | None) -> bool:
    if not value:
        return False
    try:
        _ADDRESS.validate_python(value)
    except ValidationError:
        return False
    return True


def _made(model: type[M], values: dict[str, Any]) -> M | str:
    """The model, or why the observed values do not make a valid one."""
    try:
        return model(**values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])


def _with(model: M, **lists: list[str]) -> M:
    """A copy with the lists set (and marked set, so the file writes them)."""
    return model.model_copy(update=lists)
