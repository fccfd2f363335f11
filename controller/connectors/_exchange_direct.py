"""Exchange objects through Exchange admin REST, for a tenant whose app holds the Exchange
Administrator role: :class:`DirectExchange`, an :class:`ExchangeAdapter`.

Exchange answers a write before every read shows it, so each write is read back: a change
that does not show yet raises :class:`PropagationPending` (held; the next run finds it done).

Exchange refuses the app (401/403) until its Exchange Administrator role has propagated, 30
minutes to 2 hours after assignment (API-NOTES.md). This adapter is only used for a tenant
whose app holds the role, so a refusal of a listing or a write means "not effective yet":
:class:`PropagationPending` (:func:`_until_role_effective`), decided here and nowhere else. A
refusal to read one object's members or permissions after the listings worked is a real
permission problem and stays :class:`PermissionDenied`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Literal, ParamSpec, TypeVar

from controller.connectors._exchange_adapter import (
    FailedRead,
    Holders,
    IdLookup,
    ObjectRef,
    Recipient,
)
from controller.connectors._principals import sorted_principals, text
from controller.connectors.exchange import ExchangeClient
from controller.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PropagationPending,
    ServiceError,
)
from controller.models import MailboxRight
from controller.models.observed import Principal

Json = Mapping[str, Any]
P = ParamSpec("P")
T = TypeVar("T")

#: When a refused call is worth trying again: Exchange usually accepts the app 30 minutes to
#: 2 hours after its role is assigned.
ROLE_PROPAGATION_DELAY = 30 * 60.0

# The plan's names of what Set-DistributionGroup / Set-Mailbox change -> the cmdlets' own.
_PARAMETERS = {"name": "Name", "displayName": "DisplayName", "alias": "Alias"}
# Exchange's names of an object that may stand for it as a permission holder.
_KNOWN_AS = (
    "PrimarySmtpAddress",
    "Alias",
    "Name",
    "DisplayName",
    "Identity",
    "ExternalDirectoryObjectId",
    "Guid",
)


def _until_role_effective(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Exchange refusing the app (401/403) -> :class:`PropagationPending`: the role is not
    effective yet (see the module docstring)."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except PermissionDenied as error:
            raise PropagationPending(
                "Exchange does not accept the app yet: the Exchange Administrator role is "
                "assigned but not effective (typically 30 minutes to 2 hours after "
                f"assignment): {error.message}",
                service=error.service,
                tenant=error.tenant,
                status=error.status,
                code=error.code,
                request_id=error.request_id,
                delay=ROLE_PROPAGATION_DELAY,
            ) from error

    return call


class DirectExchange:
    """One tenant's Exchange, through :class:`ExchangeClient`."""

    route: Literal["direct"] = "direct"
    via = ""

    def __init__(self, client: ExchangeClient) -> None:
        self._client = client
        self._tenant = client.tenant_id

    # -- reads ----------------------------------------------------------------------------

    @_until_role_effective
    async def distribution_groups(self) -> list[Recipient]:
        return [recipient(row) for row in await self._client.distribution_groups()]

    @_until_role_effective
    async def shared_mailboxes(self) -> list[Recipient]:
        return [
            recipient(row, send_on_behalf=send_on_behalf_names(row))
            for row in await self._client.shared_mailboxes()
        ]

    async def members(self, group: Recipient) -> tuple[Principal, ...]:
        rows = await self._client.distribution_group_members(group.address)
        return sorted_principals(member(row) for row in rows)

    async def holders(self, mailbox: Recipient, rights: frozenset[MailboxRight]) -> Holders:
        """FullAccess and SendAs are a read each; SendOnBehalf comes with the listing."""
        found: Holders = {}
        for right in (MailboxRight.FULL_ACCESS, MailboxRight.SEND_AS):
            if right in rights:
                try:
                    found[right] = await self._holder_names(mailbox.address, right)
                except ServiceError as error:
                    found[right] = FailedRead(f"{right.value} on {mailbox.address}", error)
        if MailboxRight.SEND_ON_BEHALF in rights:
            found[MailboxRight.SEND_ON_BEHALF] = frozenset(mailbox.send_on_behalf or ())
        return found

    async def _holder_names(self, identity: str, right: MailboxRight) -> frozenset[str]:
        if right is MailboxRight.FULL_ACCESS:
            return full_access_names(await self._client.mailbox_permissions(identity))
        if right is MailboxRight.SEND_AS:
            return send_as_names(await self._client.recipient_permissions(identity))
        mailboxes = await self._client.invoke("Get-Mailbox", {"Identity": identity})
        return frozenset(send_on_behalf_names(mailboxes[0] if mailboxes else {}))

    # -- writes ---------------------------------------------------------------------------

    @_until_role_effective
    async def create_distribution_group(self, name: str, display_name: str, address: str) -> str:
        created = await self._client.create_distribution_group(name, address)
        if display_name and display_name != name:
            await self._set("Set-DistributionGroup", address, {"displayName": display_name})
        return str(created.get("ExternalDirectoryObjectId") or created.get("Guid") or address)

    @_until_role_effective
    async def update_distribution_group(self, identity: str, changes: Mapping[str, str]) -> None:
        await self._set("Set-DistributionGroup", identity, changes)

    @_until_role_effective
    async def delete_distribution_group(self, group: ObjectRef) -> bool:
        return await self._remove("Remove-DistributionGroup", group.address)

    @_until_role_effective
    async def add_member(self, group: ObjectRef, member: str, member_id: IdLookup) -> None:
        await self._membership(group.address, member, adding=True)

    @_until_role_effective
    async def remove_member(self, group: ObjectRef, member: str, member_id: IdLookup) -> None:
        await self._membership(group.address, member, adding=False)

    @_until_role_effective
    async def create_shared_mailbox(
        self, name: str, display_name: str, address: str, alias: str | None
    ) -> None:
        await self._client.create_shared_mailbox(
            name, address, display_name=display_name, alias=alias
        )

    @_until_role_effective
    async def update_shared_mailbox(self, identity: str, changes: Mapping[str, str]) -> None:
        await self._set("Set-Mailbox", identity, changes)

    @_until_role_effective
    async def delete_shared_mailbox(self, identity: str) -> bool:
        return await self._remove("Remove-Mailbox", identity)

    @_until_role_effective
    async def grant(self, mailbox: str, right: MailboxRight, holder: str) -> None:
        await self._permission(mailbox, right, holder, adding=True)

    @_until_role_effective
    async def revoke(self, mailbox: str, right: MailboxRight, holder: str) -> None:
        await self._permission(mailbox, right, holder, adding=False)

    async def _set(self, cmdlet: str, identity: str, changes: Mapping[str, str]) -> None:
        parameters = {_PARAMETERS.get(k, k): v for k, v in changes.items()}
        await self._client.invoke(cmdlet, {"Identity": identity, **parameters}, idempotent=True)

    async def _remove(self, cmdlet: str, identity: str) -> bool:
        try:
            await self._client.invoke(
                cmdlet, {"Identity": identity, "Confirm": False}, idempotent=True
            )
        except NotFound:
            return False
        return True

    async def _membership(self, identity: str, member: str, *, adding: bool) -> None:
        client = self._client
        try:
            if adding:
                await client.add_distribution_group_member(identity, member)
            else:
                await client.remove_distribution_group_member(identity, member)
        except Conflict:
            pass  # MemberAlreadyExistsException: already what we want
        rows = await client.distribution_group_members(identity)
        # A member may be named by its primary SMTP address or its UPN (WindowsLiveID).
        present = member.lower() in {
            str(r.get(key) or "").lower()
            for r in rows
            for key in ("PrimarySmtpAddress", "WindowsLiveID")
        }
        if present != adding:
            raise self._not_visible(f"{identity}: the membership change for {member}")

    async def _permission(
        self, identity: str, right: MailboxRight, holder: str, *, adding: bool
    ) -> None:
        client = self._client
        try:
            if right is MailboxRight.FULL_ACCESS:
                await (
                    client.add_full_access(identity, holder)
                    if adding
                    else client.remove_full_access(identity, holder)
                )
            elif right is MailboxRight.SEND_AS:
                await (
                    client.add_send_as(identity, holder)
                    if adding
                    else client.remove_send_as(identity, holder)
                )
            else:
                await client.set_send_on_behalf(
                    identity, add=[holder] if adding else [], remove=[] if adding else [holder]
                )
        except Conflict:
            pass  # already granted: the state we want
        names = await self._holder_names(identity, right)
        known_as = await self._names_of(holder) if right is MailboxRight.SEND_ON_BEHALF else ()
        if any(names_holder(name, holder, known_as) for name in names) != adding:
            raise self._not_visible(f"{identity}: the {right.value} change for {holder}")

    async def _names_of(self, holder: str) -> tuple[str, ...]:
        """The names Exchange may give ``holder`` (an address) as a delegate: GrantSendOnBehalfTo
        holds recipient names or ids, not addresses (Get-Recipient has them all)."""
        try:
            found = await self._client.invoke("Get-Recipient", {"Identity": holder})
        except NotFound:
            return ()
        return recipient(found[0]).known_as if found else ()

    def _not_visible(self, what: str) -> PropagationPending:
        """A write Exchange accepted but does not show on reading back: held, re-run later."""
        return PropagationPending(
            f"{what} is not visible yet", service="exchange", tenant=self._tenant, delay=30
        )


# -- Exchange's shapes (cmdlet output) -> values ---------------------------------------------


def exchange_id(row: Json) -> str:
    """An Exchange object's id: its directory object id when it has one."""
    return str(row.get("ExternalDirectoryObjectId") or row.get("Guid") or row.get("Identity"))


def recipient(row: Json, *, send_on_behalf: tuple[str, ...] | None = None) -> Recipient:
    """A Get-DistributionGroup or Get-Mailbox row."""
    return Recipient(
        id=exchange_id(row),
        name=str(row.get("Name", "")),
        display_name=text(row.get("DisplayName")),
        primary_smtp_address=str(row.get("PrimarySmtpAddress", "")),
        alias=text(row.get("Alias")),
        known_as=tuple(str(row[key]).lower() for key in _KNOWN_AS if row.get(key)),
        send_on_behalf=send_on_behalf,
    )


def member(row: Json) -> Principal:
    """A Get-DistributionGroupMember row."""
    kind = str(row.get("RecipientType", "UserMailbox"))
    return Principal(
        id=exchange_id(row),
        address=text(row.get("PrimarySmtpAddress")) or text(row.get("WindowsLiveID")),
        display_name=text(row.get("DisplayName") or row.get("Name")),
        kind="group" if "Group" in kind else "user",
    )


def access_rights(value: Any) -> list[str]:
    """Access rights as a list: Exchange sends a list (or, now and then, a joined string)."""
    if isinstance(value, str):
        return [r.strip() for r in value.split(",")]
    return list(value or ())


def full_access_names(rows: Iterable[Json]) -> frozenset[str]:
    """Get-MailboxPermission output -> explicit FullAccess holders (not inherited, not deny)."""
    return frozenset(
        str(row.get("User"))
        for row in rows
        if "FullAccess" in access_rights(row.get("AccessRights"))
        and not row.get("Deny")
        and not row.get("IsInherited")
        and row.get("User") is not None
    )


def send_as_names(rows: Iterable[Json]) -> frozenset[str]:
    """Get-RecipientPermission output -> explicit SendAs trustees."""
    return frozenset(
        str(row.get("Trustee"))
        for row in rows
        if "SendAs" in access_rights(row.get("AccessRights"))
        and not row.get("IsInherited")
        and str(row.get("AccessControlType", "Allow")) == "Allow"
        and row.get("Trustee") is not None
    )


def send_on_behalf_names(mailbox: Json) -> tuple[str, ...]:
    """A Get-Mailbox row's GrantSendOnBehalfTo (one name or a list)."""
    values = mailbox.get("GrantSendOnBehalfTo") or ()
    if isinstance(values, str):
        values = [values]
    return tuple(str(v) for v in values)


def names_holder(name: str, holder: str, known_as: Iterable[str] = ()) -> bool:
    """Does Exchange's ``name`` for a holder stand for ``holder`` (an address)? Exchange names
    holders by UPN, alias or name; the holder's own local part is enough to recognise it, or
    one of the names it is ``known_as`` (lowercase: its id, its Name, ...)."""
    wanted = holder.lower()
    return name.strip().lower() in (wanted, wanted.partition("@")[0], *known_as)
