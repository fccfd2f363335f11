"""Exchange objects through the MSP's CIPP, for a tenant CIPP can manage: :class:`CippExchange`,
an :class:`ExchangeAdapter`.

CIPP's writes are confirmed by reading back in :class:`CippClient` itself. CIPP has no
endpoint tenantctl can use to change a distribution group or a shared mailbox, or to delete a
shared mailbox: the planner plans those as manual steps (``plan/exchange.py``,
``CIPP_CANNOT``), and an edited plan that sends them here gets :class:`NeedsHuman`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from controller.connectors._cipp_results import permissions_by_user
from controller.connectors._exchange_adapter import (
    FailedRead,
    Holders,
    IdLookup,
    ObjectRef,
    Recipient,
)
from controller.connectors._principals import graph_principals, text
from controller.connectors.cipp import CippClient
from controller.errors import NeedsHuman, NotFound, ServiceError, ServiceFault
from controller.models import MailboxRight
from controller.models.observed import Principal

#: How CIPP names a distribution list's type (ListGroups' ``groupType``): EditGroup and
#: ExecGroupsDelete go through Exchange only when told so (CippClient.edit_group).
DISTRIBUTION_LIST = "Distribution List"

# ExecEditMailboxPermissions' keyword per right (see CippClient.edit_mailbox_permissions).
_PERMISSION_KEYS = {
    MailboxRight.FULL_ACCESS: "full_access",
    MailboxRight.SEND_AS: "send_as",
    MailboxRight.SEND_ON_BEHALF: "send_on_behalf",
}


class CippExchange:
    """One tenant's Exchange, through :class:`CippClient`."""

    route: Literal["cipp"] = "cipp"
    via = " through CIPP"

    def __init__(self, client: CippClient, tenant_id: str) -> None:
        self._client = client
        self._tenant = tenant_id

    # -- reads ----------------------------------------------------------------------------

    async def distribution_groups(self) -> list[Recipient]:
        return [
            distribution_group(row)
            for row in await self._client.list_groups(self._tenant)
            if str(row.get("calculatedGroupType", "")) == "distributionList"
        ]

    async def shared_mailboxes(self) -> list[Recipient]:
        return [shared_mailbox(row) for row in await self._client.list_mailboxes(self._tenant)]

    async def members(self, group: Recipient) -> tuple[Principal, ...]:
        return graph_principals(await self._client.group_members(self._tenant, group.id))

    async def holders(self, mailbox: Recipient, rights: frozenset[MailboxRight]) -> Holders:
        """Every right comes with one read (ListmailboxPermissions)."""
        try:
            rows = await self._client.mailbox_permissions(self._tenant, mailbox.address)
        except ServiceError as error:
            failed = FailedRead(f"permissions on {mailbox.address}", error)
            return dict.fromkeys(rights, failed)
        held = permissions_by_user(rows)
        return {
            right: frozenset(user for user, mine in held.items() if right.lower() in mine)
            for right in rights
        }

    # -- writes ---------------------------------------------------------------------------

    async def create_distribution_group(self, name: str, display_name: str, address: str) -> str:
        local, _, domain = address.partition("@")
        await self._client.add_distribution_group(self._tenant, display_name, local, domain)
        return await self._group_id(ObjectRef(address))

    async def update_distribution_group(self, identity: str, changes: Mapping[str, str]) -> None:
        raise self._cannot("change distribution group", identity)

    async def delete_distribution_group(self, group: ObjectRef) -> bool:
        try:
            group_id = await self._group_id(group)
            await self._client.delete_group(
                self._tenant, group_id, group_type=DISTRIBUTION_LIST, display_name=group.address
            )
        except (NotFound, ServiceFault):
            # ExecGroupsDelete answers 500 "Could not delete …" for a group that is gone too:
            # the list read back decides which it was.
            if await self._client.find_group(self._tenant, group.address) is None:
                return False
            raise
        return True

    async def add_member(self, group: ObjectRef, member: str, member_id: IdLookup) -> None:
        group_id = await self._group_id(group)
        await self._client.edit_group(
            self._tenant, group_id, add={await member_id(): member}, group_type=DISTRIBUTION_LIST
        )

    async def remove_member(self, group: ObjectRef, member: str, member_id: IdLookup) -> None:
        group_id = await self._group_id(group)
        await self._client.edit_group(
            self._tenant,
            group_id,
            remove={await member_id(): member},
            group_type=DISTRIBUTION_LIST,
        )

    async def create_shared_mailbox(
        self, name: str, display_name: str, address: str, alias: str | None
    ) -> None:
        local, _, domain = address.partition("@")
        await self._client.add_shared_mailbox(self._tenant, display_name, local, domain)

    async def update_shared_mailbox(self, identity: str, changes: Mapping[str, str]) -> None:
        raise self._cannot("change shared mailbox", identity)

    async def delete_shared_mailbox(self, identity: str) -> bool:
        raise self._cannot("delete shared mailbox", identity)

    async def grant(self, mailbox: str, right: MailboxRight, holder: str) -> None:
        key = f"add_{_PERMISSION_KEYS[right]}"
        await self._client.edit_mailbox_permissions(self._tenant, mailbox, **{key: [holder]})

    async def revoke(self, mailbox: str, right: MailboxRight, holder: str) -> None:
        key = f"remove_{_PERMISSION_KEYS[right]}"
        await self._client.edit_mailbox_permissions(self._tenant, mailbox, **{key: [holder]})

    async def _group_id(self, group: ObjectRef) -> str:
        """CIPP names groups by id: the one the plan or this run knows, else looked up."""
        if group.id:
            return group.id
        found = await self._client.find_group(self._tenant, group.address)
        if found is not None:
            return str(found["id"])
        raise NotFound(
            f"group {group.address} not found in CIPP", service="cipp", tenant=self._tenant
        )

    def _cannot(self, what: str, identity: str) -> NeedsHuman:
        return NeedsHuman(
            f"{what} {identity}: CIPP has no endpoint tenantctl can use for this; do it in "
            "CIPP or the Exchange admin center, or give the app the Exchange Administrator "
            "role (exchange: direct)",
            service="cipp",
            tenant=self._tenant,
        )


# -- CIPP's shapes -> values --------------------------------------------------------------


def distribution_group(row: Mapping[str, Any]) -> Recipient:
    """A ListGroups row (Graph's group, as CIPP passes it through)."""
    address = str(row.get("mail") or row.get("primarySmtpAddress") or "")
    return Recipient(
        id=str(row.get("id")),
        name=str(row.get("displayName") or address.partition("@")[0]),
        display_name=text(row.get("displayName")),
        primary_smtp_address=address,
        alias=text(row.get("mailNickname")),
    )


def shared_mailbox(row: Mapping[str, Any]) -> Recipient:
    """A ListMailboxes row."""
    address = str(row.get("primarySmtpAddress") or row.get("UPN") or "")
    return Recipient(
        id=str(row.get("Id") or row.get("id") or address),
        name=str(row.get("displayName") or address.partition("@")[0]),
        display_name=text(row.get("displayName")),
        primary_smtp_address=address,
    )
