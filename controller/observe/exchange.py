"""Exchange in one tenant: which route works (the Exchange badge), and the distribution groups
and shared mailboxes read through it.

The routes are tried as ``spec.exchange`` allows: Exchange admin REST when the app holds the
Exchange Administrator role, else CIPP when it can manage the tenant. Either is read through
the same :class:`~controller.connectors.ExchangeAdapter`, so what is read (and what is left
unread) does not depend on the route. Only what the desired state manages is read: members of
declared distribution groups, the declared permission lists of declared mailboxes; an observer
with ``read_all`` (``tenantctl import``) reads them for every object.

A failed read becomes :class:`~controller.models.observed.Unknown` for what it affects, never
an empty list. Exchange refusing the app (:class:`~controller.errors.PropagationPending`, as
the connectors report a 401/403 from Exchange) is the "propagating" badge.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from controller.connectors import Connections, ExchangeAdapter, FailedRead, Recipient
from controller.errors import PropagationPending, ServiceError
from controller.event_loop import gather_or_cancel
from controller.models import MailboxRight, SharedMailbox, TenantConfig
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

DistributionGroups = tuple[ObservedDistributionGroup, ...] | Unknown
SharedMailboxes = tuple[ObservedSharedMailbox, ...] | Unknown


async def observe_exchange(
    connections: Connections,
    tenant: TenantConfig,
    users: tuple[ObservedUser, ...] | Unknown,
    *,
    role_assigned: bool | None,
    can_assign: bool,
    cipp_manageable: bool | None,
    read_all: bool = False,
) -> tuple[ExchangeAccess, DistributionGroups, SharedMailboxes]:
    """The tenant's Exchange access, distribution groups and shared mailboxes."""
    spec = tenant.spec
    mode = spec.exchange
    tenant_id = tenant.metadata.tenant_id

    def access(state: Any, route: ExchangeRoute | None, propagated: bool | None) -> ExchangeAccess:
        return ExchangeAccess(
            state=state,
            route=route,
            role_assigned=role_assigned,
            role_propagated=propagated,
            cipp_manageable=cipp_manageable,
            can_assign_role=can_assign,
        )

    if mode == "none" or (mode == "unmanaged" and not read_all):
        # Nothing to manage and no badge to prove: save the tenant a token and a round trip
        # (import, which reads everything, still finds out which route works).
        off = Unknown("notManaged", f"Exchange is not managed in this tenant (exchange: {mode})")
        return access("not-managed", None, None), off, off
    reader = _Reader(tenant, _directory(users), read_all)
    direct_error: ServiceError | None = None
    if mode in ("direct", "auto", "unmanaged") and role_assigned:
        try:
            dgs, mailboxes = await reader.read(connections.exchange_adapter(tenant_id, "direct"))
            return access("working-direct", "direct", True), dgs, mailboxes
        except ServiceError as error:
            direct_error = error
    use_cipp = mode == "cipp" or (mode == "auto" and cipp_manageable)
    if use_cipp and cipp_manageable:
        try:
            dgs, mailboxes = await reader.read(connections.exchange_adapter(tenant_id, "cipp"))
            return access("working-cipp", "cipp", None), dgs, mailboxes
        except ServiceError as error:
            unknown = translate.unknown_from_error(error, "Exchange through CIPP")
            return access("pending", None, None), unknown, unknown
    if isinstance(direct_error, PropagationPending):
        unknown = Unknown(
            "propagating",
            "Exchange: the Exchange Administrator role is assigned but not effective yet "
            "(typically 30 minutes to 2 hours after assignment); re-run later",
        )
        return access("propagating", None, False), unknown, unknown
    if direct_error is not None:
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
        reason = "Exchange: the app does not hold the Exchange Administrator role in this tenant"
    unknown = Unknown("notManaged", reason)
    state = "not-managed" if mode == "unmanaged" else "pending"
    return access(state, None, None), unknown, unknown


class _Reader:
    """Reads one tenant's Exchange objects through an adapter. ``directory``: lowercase
    identity -> lowercase address, to name permission holders as git does."""

    def __init__(self, tenant: TenantConfig, directory: dict[str, str], read_all: bool) -> None:
        self.spec = tenant.spec
        self.directory = directory
        self.read_all = read_all

    async def read(
        self, exchange: ExchangeAdapter
    ) -> tuple[tuple[ObservedDistributionGroup, ...], tuple[ObservedSharedMailbox, ...]]:
        spec = self.spec
        listed_mailboxes = await exchange.shared_mailboxes()
        read_dgs = bool(spec.distribution_groups) or self.read_all
        listed_dgs = await exchange.distribution_groups() if read_dgs else []
        for listed in [*listed_mailboxes, *listed_dgs]:
            if listed.address:
                for name in (listed.id.lower(), *listed.known_as):
                    self.directory.setdefault(name, listed.address)
        declared_dgs = {d.primary_smtp_address.lower(): d for d in spec.distribution_groups}
        declared_mbx = {m.primary_smtp_address.lower(): m for m in spec.shared_mailboxes}

        async def dg(listed: Recipient) -> ObservedDistributionGroup:
            declared = declared_dgs.get(listed.address)
            members: tuple[Principal, ...] | Unknown | None = None
            if self.read_all or (declared is not None and declared.members is not None):
                members = await _attempt(f"members of {listed.address}", exchange.members(listed))
            return translate.distribution_group(listed, members)

        async def mailbox(listed: Recipient) -> ObservedSharedMailbox:
            declared = declared_mbx.get(listed.address)
            if declared is None and not self.read_all:
                return translate.shared_mailbox(listed)
            found = await exchange.holders(listed, _permission_reads(declared))
            held = {right: self._holders(found.get(right)) for right in MailboxRight}
            return translate.shared_mailbox(
                listed,
                full_access=held[MailboxRight.FULL_ACCESS],
                send_as=held[MailboxRight.SEND_AS],
                send_on_behalf=held[MailboxRight.SEND_ON_BEHALF],
            )

        dgs = await gather_or_cancel(*(dg(listed) for listed in listed_dgs))
        mailboxes = await gather_or_cancel(*(mailbox(listed) for listed in listed_mailboxes))
        return (
            tuple(sorted(dgs, key=lambda d: d.key)),
            tuple(sorted(mailboxes, key=lambda m: m.key)),
        )

    def _holders(
        self, names: frozenset[str] | FailedRead | None
    ) -> frozenset[str] | Unknown | None:
        """Holder names -> addresses; a failed read -> unknown; not read -> None."""
        if names is None:
            return None
        if isinstance(names, FailedRead):
            return translate.unknown_from_error(names.error, names.what)
        return translate.holder_addresses(names, self.directory)


async def _attempt(what: str, call: Awaitable[T]) -> T | Unknown:
    try:
        return await call
    except ServiceError as error:
        return translate.unknown_from_error(error, what)


def _permission_reads(declared: SharedMailbox | None) -> frozenset[MailboxRight]:
    """Which permission lists of a mailbox to read: the declared ones, or all of them when the
    mailbox is not declared (an observer with ``read_all``)."""
    if declared is None:
        return frozenset(MailboxRight)
    return frozenset(
        right
        for right, value in (
            (MailboxRight.FULL_ACCESS, declared.full_access),
            (MailboxRight.SEND_AS, declared.send_as),
            (MailboxRight.SEND_ON_BEHALF, declared.send_on_behalf),
        )
        if value is not None
    )


def _directory(users: tuple[ObservedUser, ...] | Unknown) -> dict[str, str]:
    """Lowercase identity (object id, UPN, mail, alias, display name) -> lowercase address, so
    Exchange's permission holders (which it names in several ways) resolve to the addresses
    git uses. GrantSendOnBehalfTo names them by recipient name or id, never by address, and a
    newer recipient's Name is its Entra object id (CIPP resolves them by id too: CIPP-API
    Invoke-ListUserMailboxDetails.ps1)."""
    directory: dict[str, str] = {}
    if isinstance(users, Unknown):
        return directory
    for user in users:
        address = user.key
        names = (
            user.id,
            user.user_principal_name,
            user.mail,
            user.mail_nickname,
            user.display_name,
        )
        for name in names:
            if name:
                directory.setdefault(name.lower(), address)
    return directory
