"""Observe a tenant's Exchange: which route works (the app's Exchange Administrator role,
else CIPP), and through it the distribution groups and shared mailboxes, with the members and
permissions the desired state manages (every one with ``read_all``).

Exchange names a permission holder in several ways (UPN, alias, display name); the directory
built from the tenant's users resolves them to the addresses git uses. Every failure becomes
:class:`~controller.models.observed.Unknown` for the area it affects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from controller.connectors import Connections
from controller.errors import PermissionDenied, ServiceError
from controller.models import SharedMailbox, TenantConfig
from controller.models.observed import (
    ExchangeAccess,
    ExchangeRoute,
    ObservedDistributionGroup,
    ObservedSharedMailbox,
    ObservedUser,
    Principal,
    Unknown,
)
from controller.observe import translate

T = TypeVar("T")


class ExchangeObserver:
    """Reads Exchange through one :class:`Connections`, by the tenant's route."""

    def __init__(self, connections: Connections, *, read_all: bool = False) -> None:
        self.connections = connections
        self.read_all = read_all

    async def observe(
        self,
        tenant: TenantConfig,
        users: tuple[ObservedUser, ...] | Unknown,
        role_assigned: bool | None,
        can_assign: bool,
        cipp_manageable: bool | None,
    ) -> tuple[ExchangeAccess, Any, Any]:
        """The Exchange badge, then the distribution groups and the shared mailboxes (each
        :class:`Unknown` when no route can read them)."""
        spec = tenant.spec
        mode = spec.exchange
        wants_objects = bool(spec.distribution_groups or spec.shared_mailboxes)

        def access(
            state: Any, route: ExchangeRoute | None, propagated: bool | None
        ) -> ExchangeAccess:
            return ExchangeAccess(
                state=state,
                route=route,
                role_assigned=role_assigned,
                role_propagated=propagated,
                cipp_manageable=cipp_manageable,
                can_assign_role=can_assign,
            )

        if mode == "none" or (mode == "unmanaged" and not self.read_all):
            # Nothing to manage and no badge to prove: save the tenant a token and a round trip
            # (import, which reads everything, still finds out which route works).
            off = Unknown(
                "notManaged", f"Exchange is not managed in this tenant (exchange: {mode})"
            )
            return access("not-managed", None, None), off, off
        directory = _directory(users)
        direct_error: ServiceError | None = None
        if mode in ("direct", "auto", "unmanaged") and role_assigned:
            try:
                dgs, mailboxes = await self._read_direct(tenant, directory, wants_objects)
                return access("working-direct", "direct", True), dgs, mailboxes
            except PermissionDenied as error:
                direct_error = error  # role assigned, Exchange still says no: propagating
            except ServiceError as error:
                direct_error = error
        use_cipp = mode == "cipp" or (mode == "auto" and cipp_manageable)
        if use_cipp and cipp_manageable:
            try:
                dgs, mailboxes = await self._read_cipp(tenant, directory, wants_objects)
                return access("working-cipp", "cipp", None), dgs, mailboxes
            except ServiceError as error:
                unknown = translate.unknown_from_error(error, "Exchange through CIPP")
                return access("pending", None, None), unknown, unknown
        if direct_error is not None:
            if isinstance(direct_error, PermissionDenied):
                unknown = Unknown(
                    "propagating",
                    "Exchange: the Exchange Administrator role is assigned but not effective yet "
                    "(typically 30 minutes to 2 hours after assignment); re-run later",
                )
                return access("propagating", None, False), unknown, unknown
            unknown = translate.unknown_from_error(direct_error, "Exchange")
            return access("pending", None, None), unknown, unknown
        if mode == "cipp":
            reason = (
                "Exchange: CIPP cannot manage this tenant"
                if cipp_manageable is False
                else "Exchange: no CIPP connection is configured in msp.yaml"
            )
        elif role_assigned is None:
            reason = "Exchange: the app's directory roles could not be read"
        else:
            reason = (
                "Exchange: the app does not hold the Exchange Administrator role in this tenant"
            )
        unknown = Unknown("notManaged", reason)
        state = "not-managed" if mode == "unmanaged" else "pending"
        return access(state, None, None), unknown, unknown

    async def _read_direct(
        self, tenant: TenantConfig, directory: dict[str, str], wants_objects: bool
    ) -> tuple[Any, Any]:
        exchange = self.connections.exchange(tenant.metadata.tenant_id)
        spec = tenant.spec
        mailbox_rows = await exchange.shared_mailboxes()
        read_dgs = bool(spec.distribution_groups) or self.read_all
        dg_rows = await exchange.distribution_groups() if read_dgs else []
        for row in [*mailbox_rows, *dg_rows]:
            _remember(directory, row)
        declared_dgs = {d.primary_smtp_address.lower(): d for d in spec.distribution_groups}
        declared_mbx = {m.primary_smtp_address.lower(): m for m in spec.shared_mailboxes}

        async def dg(row: dict[str, Any]) -> ObservedDistributionGroup:
            address = str(row.get("PrimarySmtpAddress", "")).lower()
            declared = declared_dgs.get(address)
            members: tuple[Principal, ...] | Unknown | None = None
            if self.read_all or (declared is not None and declared.members is not None):
                read = await _attempt(
                    f"members of {address}", exchange.distribution_group_members(address)
                )
                members = (
                    read
                    if isinstance(read, Unknown)
                    else tuple(
                        sorted(
                            (translate.exchange_member(m) for m in read),
                            key=lambda p: (p.key or "", p.id),
                        )
                    )
                )
            return translate.exchange_distribution_group(row, members)

        async def mailbox(row: dict[str, Any]) -> ObservedSharedMailbox:
            address = str(row.get("PrimarySmtpAddress", "")).lower()
            declared = declared_mbx.get(address)
            if declared is None and not self.read_all:
                return translate.exchange_shared_mailbox(row)
            wants = _permission_reads(declared)
            full: Any = None
            send_as: Any = None
            behalf: Any = None
            if "full_access" in wants:
                read = await _attempt(
                    f"FullAccess on {address}", exchange.mailbox_permissions(address)
                )
                full = (
                    read
                    if isinstance(read, Unknown)
                    else translate.full_access_holders(read, directory)
                )
            if "send_as" in wants:
                read = await _attempt(
                    f"SendAs on {address}", exchange.recipient_permissions(address)
                )
                send_as = (
                    read
                    if isinstance(read, Unknown)
                    else translate.send_as_holders(read, directory)
                )
            if "send_on_behalf" in wants:
                behalf = translate.send_on_behalf_holders(row, directory)
            return translate.exchange_shared_mailbox(
                row, full_access=full, send_as=send_as, send_on_behalf=behalf
            )

        dgs = await asyncio.gather(*(dg(r) for r in dg_rows))
        mailboxes = await asyncio.gather(*(mailbox(r) for r in mailbox_rows))
        return (
            tuple(sorted(dgs, key=lambda d: d.key)),
            tuple(sorted(mailboxes, key=lambda m: m.key)),
        )

    async def _read_cipp(
        self, tenant: TenantConfig, directory: dict[str, str], wants_objects: bool
    ) -> tuple[Any, Any]:
        cipp = self.connections.cipp()
        tenant_id = tenant.metadata.tenant_id
        spec = tenant.spec
        mailbox_rows = await cipp.list_mailboxes(tenant_id)
        group_rows: list[dict[str, Any]] = []
        if spec.distribution_groups or self.read_all:
            group_rows = [
                g
                for g in await cipp.list_groups(tenant_id)
                if str(g.get("calculatedGroupType", "")) == "distributionList"
            ]
        declared_dgs = {d.primary_smtp_address.lower(): d for d in spec.distribution_groups}
        declared_mbx = {m.primary_smtp_address.lower(): m for m in spec.shared_mailboxes}

        async def dg(row: dict[str, Any]) -> ObservedDistributionGroup:
            address = str(row.get("mail") or "").lower()
            declared = declared_dgs.get(address)
            members: tuple[Principal, ...] | Unknown | None = None
            if self.read_all or (declared is not None and declared.members is not None):
                read = await _attempt(
                    f"members of {address}", cipp.group_members(tenant_id, str(row.get("id")))
                )
                members = read if isinstance(read, Unknown) else translate.members(read)
            return translate.cipp_distribution_group(row, members)

        async def mailbox(row: dict[str, Any]) -> ObservedSharedMailbox:
            address = str(row.get("primarySmtpAddress") or row.get("UPN") or "").lower()
            declared = declared_mbx.get(address)
            if declared is None and not self.read_all:
                return translate.cipp_shared_mailbox(row)
            wants = _permission_reads(declared)
            read = await _attempt(
                f"permissions on {address}", cipp.mailbox_permissions(tenant_id, address)
            )
            if isinstance(read, Unknown):
                holders: dict[str, Any] = {
                    "full_access": read,
                    "send_as": read,
                    "send_on_behalf": read,
                }
            else:
                full, send_as, behalf = translate.cipp_permission_holders(read, directory)
                holders = {"full_access": full, "send_as": send_as, "send_on_behalf": behalf}
            for name in ("full_access", "send_as", "send_on_behalf"):
                if name not in wants:
                    holders[name] = None
            return translate.cipp_shared_mailbox(row, **holders)

        dgs = await asyncio.gather(*(dg(r) for r in group_rows))
        mailboxes = await asyncio.gather(*(mailbox(r) for r in mailbox_rows))
        return (
            tuple(sorted(dgs, key=lambda d: d.key)),
            tuple(sorted(mailboxes, key=lambda m: m.key)),
        )


async def _attempt(what: str, call: Awaitable[T]) -> T | Unknown:
    try:
        return await call
    except ServiceError as error:
        return translate.unknown_from_error(error, what)


def _permission_reads(declared: SharedMailbox | None) -> frozenset[str]:
    """Which permission lists of a mailbox to read: the declared ones, or all of them when the
    mailbox is not declared (an observer with ``read_all``)."""
    if declared is None:
        return frozenset(("full_access", "send_as", "send_on_behalf"))
    return frozenset(
        name
        for name, value in (
            ("full_access", declared.full_access),
            ("send_as", declared.send_as),
            ("send_on_behalf", declared.send_on_behalf),
        )
        if value is not None
    )


def _directory(users: tuple[ObservedUser, ...] | Unknown) -> dict[str, str]:
    """Lowercase identity (UPN, mail, alias, display name) -> lowercase address, so Exchange's
    permission holders (which it names in several ways) resolve to the addresses git uses."""
    directory: dict[str, str] = {}
    if isinstance(users, Unknown):
        return directory
    for user in users:
        address = user.key
        for name in (user.user_principal_name, user.mail, user.mail_nickname, user.display_name):
            if name:
                directory.setdefault(name.lower(), address)
    return directory


def _remember(directory: dict[str, str], row: Mapping[str, Any]) -> None:
    address = str(row.get("PrimarySmtpAddress") or "").lower()
    if not address:
        return
    for key in ("PrimarySmtpAddress", "Alias", "Name", "DisplayName", "Identity"):
        value = row.get(key)
        if value:
            directory.setdefault(str(value).lower(), address)
