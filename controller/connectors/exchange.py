"""Exchange Online admin REST (unofficial ``InvokeCommand``) for one tenant.

``POST {exchange}/adminapi/beta/{tenantId}/InvokeCommand`` with
``{"CmdletInput":{"CmdletName":..., "Parameters":{...}}}``; paged by re-POSTing the same body
to ``@odata.nextLink``. Multi-valued changes go as a ``GenericHashTable`` (``Add``/``Remove``):
a plain list would replace the whole value. 401/403 come back as :class:`PermissionDenied`
with the status.

Observe and apply use this client through :class:`DirectExchange` (``_exchange_direct``), the
:class:`ExchangeAdapter` built on it, which also decides what a 401/403 means there: the
Exchange Administrator role is not effective yet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from controller.connectors._http import HttpCore, Route
from controller.errors import NotFound, ServiceFault

log = logging.getLogger("tenantctl.exchange")

ANCHOR_MAILBOX = "APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{tenant}"

#: The cmdlets tenantctl sends that refuse anyone not in the group's ManagedBy ("…can only be
#: performed by a manager of the group", OperationRequiresGroupManagerException) unless
#: ``-BypassSecurityGroupManagerCheck`` is given (Update-DistributionGroupMember too, were it
#: sent); an app is never in ManagedBy, so the switch goes with every call
#: (MicrosoftDocs/office-docs-powershell exchange/exchange-ps/exchange/
#: Add-DistributionGroupMember.md, -BypassSecurityGroupManagerCheck; CIPP passes it on every
#: call: CIPP-API Invoke-EditGroup.ps1, Remove-CIPPGroup.ps1).
MANAGER_CHECKED = frozenset(
    {
        "Set-DistributionGroup",
        "Remove-DistributionGroup",
        "Add-DistributionGroupMember",
        "Remove-DistributionGroupMember",
    }
)


def generic_hashtable(add: Sequence[str] = (), remove: Sequence[str] = ()) -> dict[str, Any]:
    """A multi-valued change that adds and removes, leaving the other values alone."""
    table: dict[str, Any] = {"@odata.type": "#Exchange.GenericHashTable"}
    if add:
        table["Add"] = list(add)
    if remove:
        table["Remove"] = list(remove)
    return table


def _parameters(cmdlet: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters sent with ``cmdlet``: ``given``, and the manager-check switch where the
    cmdlet needs it (:data:`MANAGER_CHECKED`)."""
    parameters = dict(given or {})
    if cmdlet in MANAGER_CHECKED:
        parameters["BypassSecurityGroupManagerCheck"] = True
    return parameters


class ExchangeClient:
    """Exchange for one tenant. Build it with :meth:`Connections.exchange`."""

    generic_hashtable = staticmethod(generic_hashtable)

    def __init__(self, core: HttpCore, route: Route) -> None:
        self._core = core
        self.route = route
        self.tenant_id = route.tenant
        self._headers = {
            "X-AnchorMailbox": ANCHOR_MAILBOX.format(tenant=route.tenant),
            "Prefer": "odata.maxpagesize=1000",
        }

    async def invoke(
        self,
        cmdlet: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        idempotent: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Run one cmdlet; every page of its output. ``Get-*`` cmdlets are safe to repeat;
        others are sent once unless ``idempotent=True``."""
        body = {
            "CmdletInput": {"CmdletName": cmdlet, "Parameters": _parameters(cmdlet, parameters)}
        }
        safe = cmdlet.startswith("Get-") if idempotent is None else idempotent
        items: list[dict[str, Any]] = []
        async for page in self._core.pages(
            self.route,
            f"{self.tenant_id}/InvokeCommand",
            method="POST",
            json=body,
            headers=self._headers,
            idempotent=safe,
        ):
            if not isinstance(page, dict):
                if page is None:
                    continue
                raise ServiceFault(
                    f"{cmdlet}: an answer that is not JSON",
                    service="exchange",
                    tenant=self.tenant_id,
                )
            for warning in page.get("@adminapi.warnings") or []:
                log.warning(
                    "%s: %s",
                    cmdlet,
                    warning,
                    extra={"service": "exchange", "tenant": self.tenant_id},
                )
            values = page.get("value")
            if isinstance(values, list):
                items.extend(values)
        return items

    async def _find(self, cmdlet: str, identity: str) -> dict[str, Any] | None:
        try:
            found = await self.invoke(cmdlet, {"Identity": identity})
        except NotFound:
            return None
        return found[0] if found else None

    async def _create(
        self, cmdlet: str, parameters: Mapping[str, Any], *, find: str, identity: str
    ) -> dict[str, Any]:
        """A ``New-*`` cmdlet: if its answer is lost, look the object up before any repeat."""
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": dict(parameters)}}
        response = await self._core.request(
            self.route,
            "POST",
            f"{self.tenant_id}/InvokeCommand",
            json=body,
            headers=self._headers,
            lookup=lambda: self._find(find, identity),
        )
        if response.headers.get("x-tenantctl-found-by") == "lookup":
            return dict(response.body)
        values = response.body.get("value") if isinstance(response.body, dict) else None
        return dict(values[0]) if isinstance(values, list) and values else {}

    # -- shared mailboxes -----------------------------------------------------------------

    async def shared_mailboxes(self) -> list[dict[str, Any]]:
        return await self.invoke(
            "Get-Mailbox", {"RecipientTypeDetails": "SharedMailbox", "ResultSize": "Unlimited"}
        )

    async def create_shared_mailbox(
        self,
        name: str,
        primary_smtp_address: str,
        *,
        display_name: str | None = None,
        alias: str | None = None,
    ) -> dict[str, Any]:
        return await self._create(
            "New-Mailbox",
            {
                "Shared": True,
                "Name": name,
                "DisplayName": display_name or name,
                "Alias": alias or primary_smtp_address.split("@", 1)[0],
                "PrimarySmtpAddress": primary_smtp_address,
            },
            find="Get-Mailbox",
            identity=primary_smtp_address,
        )

    # -- distribution groups --------------------------------------------------------------

    async def distribution_groups(self) -> list[dict[str, Any]]:
        return await self.invoke("Get-DistributionGroup", {"ResultSize": "Unlimited"})

    async def create_distribution_group(
        self, name: str, primary_smtp_address: str, *, members: Sequence[str] = ()
    ) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            "Name": name,
            "Type": "Distribution",
            "PrimarySmtpAddress": primary_smtp_address,
        }
        if members:
            parameters["Members"] = list(members)
        return await self._create(
            "New-DistributionGroup",
            parameters,
            find="Get-DistributionGroup",
            identity=primary_smtp_address,
        )

    async def distribution_group_members(self, identity: str) -> list[dict[str, Any]]:
        return await self.invoke(
            "Get-DistributionGroupMember", {"Identity": identity, "ResultSize": "Unlimited"}
        )

    async def add_distribution_group_member(self, identity: str, member: str) -> None:
        await self.invoke("Add-DistributionGroupMember", {"Identity": identity, "Member": member})

    async def remove_distribution_group_member(self, identity: str, member: str) -> None:
        await self.invoke(
            "Remove-DistributionGroupMember",
            {"Identity": identity, "Member": member, "Confirm": False},
            idempotent=True,
        )

    # -- mailbox permissions --------------------------------------------------------------

    async def mailbox_permissions(self, identity: str) -> list[dict[str, Any]]:
        """FullAccess and the like (Get-MailboxPermission)."""
        return await self.invoke("Get-MailboxPermission", {"Identity": identity})

    async def add_full_access(self, identity: str, user: str, *, auto_mapping: bool = True) -> None:
        await self.invoke(
            "Add-MailboxPermission",
            {
                "Identity": identity,
                "User": user,
                "AccessRights": ["FullAccess"],
                "InheritanceType": "All",
                "AutoMapping": auto_mapping,
            },
            idempotent=True,
        )

    async def remove_full_access(self, identity: str, user: str) -> None:
        await self.invoke(
            "Remove-MailboxPermission",
            {
                "Identity": identity,
                "User": user,
                "AccessRights": ["FullAccess"],
                "InheritanceType": "All",
                "Confirm": False,
            },
            idempotent=True,
        )

    async def recipient_permissions(self, identity: str) -> list[dict[str, Any]]:
        """SendAs (Get-RecipientPermission)."""
        return await self.invoke("Get-RecipientPermission", {"Identity": identity})

    async def add_send_as(self, identity: str, trustee: str) -> None:
        await self.invoke(
            "Add-RecipientPermission",
            {
                "Identity": identity,
                "Trustee": trustee,
                "AccessRights": ["SendAs"],
                "Confirm": False,
            },
            idempotent=True,
        )

    async def remove_send_as(self, identity: str, trustee: str) -> None:
        await self.invoke(
            "Remove-RecipientPermission",
            {
                "Identity": identity,
                "Trustee": trustee,
                "AccessRights": ["SendAs"],
                "Confirm": False,
            },
            idempotent=True,
        )

    async def set_send_on_behalf(
        self, identity: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> None:
        """Always a GenericHashTable: a plain list would replace everyone already there."""
        await self.invoke(
            "Set-Mailbox",
            {"Identity": identity, "GrantSendOnBehalfTo": generic_hashtable(add, remove)},
            idempotent=True,
        )
