"""One executor per operation kind: the calls that carry out an operation, then read it back.

Each executor takes the tenant's :class:`TenantSession` and the :class:`Operation` (its
``params`` are the contract in ``controller/plan/params.py``) and returns a short detail for
the journal, or an :class:`Outcome` when the result is not a plain success (a bulk consent
queued in CIPP). Failures are raised as the error tree; the engine turns them into outcomes.

Ids that are ``null`` in params belong to objects this plan creates: the create executor
records the new id in ``session.created`` and the dependents read it from there (falling back
to a lookup by address, so a re-run after a crash still finds an object created before it).
Passwords are generated here, stored in the secret sink first (so none is ever lost), and
appear nowhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from controller.apply.outcomes import HoldReason, Outcome
from controller.apply.secret_sink import SecretSink, generate_password
from controller.connectors import CippClient, Connections, ExchangeClient, GraphClient
from controller.errors import (
    Conflict,
    NeedsHuman,
    NotFound,
    PropagationPending,
    Service,
    ServiceFault,
)
from controller.models import OperationKind
from controller.models.permissions import (
    EXCHANGE_APP_ID,
    GRAPH_APP_ID,
    REQUIRED_PERMISSIONS,
)
from controller.observe import translate
from controller.plan import Backend, Operation

Result = str | Outcome
Executor = Callable[["TenantSession", Operation], Awaitable[Result]]

USER_VERIFY_SELECT = (
    "id,userPrincipalName,displayName,givenName,surname,jobTitle,department,accountEnabled,"
    "usageLocation,assignedLicenses"
)


@dataclass
class TenantSession:
    """What executors share while one tenant's operations run."""

    tenant: str
    tenant_id: str
    connections: Connections
    sink: SecretSink
    now: dt.datetime
    run_id: int
    created: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def graph(self) -> GraphClient:
        return self.connections.graph(self.tenant_id)

    @property
    def exchange(self) -> ExchangeClient:
        return self.connections.exchange(self.tenant_id)

    @property
    def cipp(self) -> CippClient:
        return self.connections.cipp()

    async def user_id(self, given: Any, upn: str) -> str:
        if given:
            return str(given)
        known = self.created.get(("user", upn.lower()))
        if known:
            return known
        found = await self.graph.find_user(upn)
        if found is None:
            raise NotFound(f"user {upn} does not exist", service="graph", tenant=self.tenant_id)
        return str(found["id"])

    async def group_id(self, given: Any, nickname: str) -> str:
        if given:
            return str(given)
        known = self.created.get(("group", nickname.lower()))
        if known:
            return known
        found = await self.graph.find_groups(nickname)
        if len(found) != 1:
            raise NotFound(
                f"group {nickname} not found (or not unique)",
                service="graph",
                tenant=self.tenant_id,
            )
        return str(found[0]["id"])

    async def cipp_group_id(self, given: Any, address: str) -> str:
        if given:
            return str(given)
        known = self.created.get(("distributionGroup", address.lower()))
        if known:
            return known
        for group in await self.cipp.list_groups(self.tenant_id):
            if str(group.get("mail") or "").lower() == address.lower():
                return str(group["id"])
        raise NotFound(f"group {address} not found in CIPP", service="cipp", tenant=self.tenant_id)


def _key(op: Operation) -> str:
    """The object part of the target: ``user:alice@x`` -> ``alice@x``."""
    return op.target.partition(":")[2]


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.partition("@")
    return local, domain


# --- users -------------------------------------------------------------------------------


async def user_create(s: TenantSession, op: Operation) -> Result:
    body = dict(op.params["body"])
    upn = str(body["userPrincipalName"])
    password = generate_password()
    # The password goes to the sink before the call: if the process dies after Graph created
    # the user, the password is not lost.
    where = s.sink.store(
        tenant=s.tenant, upn=upn, purpose="initial-password", secret=password, now=s.now
    )
    body["passwordProfile"] = {**dict(body.get("passwordProfile") or {}), "password": password}
    created = await s.graph.create_user(body)
    user_id = str(created["id"])
    s.created[("user", upn.lower())] = user_id
    await s.graph.get_user(user_id, select="id", expect_new=True)
    return f"created {upn} ({user_id}); initial password in {where}"


async def user_update(s: TenantSession, op: Operation) -> Result:
    upn = _key(op)
    user_id = await s.user_id(op.params.get("userId"), upn)
    body = dict(op.params["body"])
    await s.graph.update_user(user_id, body)
    seen = await s.graph.get_user(user_id, select=USER_VERIFY_SELECT, expect_new=True)
    differs = [k for k, v in body.items() if _norm(seen.get(k)) != _norm(v)]
    if differs:
        raise _not_visible_yet(
            s, "graph", f"{upn}: the update is not visible yet ({', '.join(sorted(differs))})"
        )
    return f"updated {upn}: {', '.join(sorted(body))}"


async def user_delete(s: TenantSession, op: Operation) -> Result:
    upn = str(op.params["userPrincipalName"])
    try:
        await s.graph.delete_user(str(op.params["userId"]))
    except NotFound:
        return f"{upn} was already deleted"
    return f"deleted {upn} (restorable for 30 days)"


async def user_licenses(s: TenantSession, op: Operation) -> Result:
    upn = str(op.params["userPrincipalName"])
    user_id = await s.user_id(op.params.get("userId"), upn)
    add = [str(x["skuId"]) for x in op.params.get("addLicenses") or ()]
    remove = [str(x["skuId"]) for x in op.params.get("removeLicenses") or ()]
    await s.graph.assign_license(user_id, add=add, remove=remove)
    seen = await s.graph.get_user(user_id, select="id,assignedLicenses", expect_new=True)
    held = {str(x.get("skuId", "")).lower() for x in seen.get("assignedLicenses") or ()}
    if not {a.lower() for a in add} <= held or {r.lower() for r in remove} & held:
        raise _not_visible_yet(s, "graph", f"{upn}: the licence change is not visible yet")
    names = [
        str(x["skuPartNumber"])
        for x in [*op.params.get("addLicenses", ()), *op.params.get("removeLicenses", ())]
    ]
    return f"{'assigned' if add else 'removed'} {', '.join(names)} for {upn}"


async def user_reset_password(s: TenantSession, op: Operation) -> Result:
    """A one-shot action, run at most once ever: the ledger on the user records it *before*
    the reset, so a crash between the two leaves "started" (reported), never a second reset."""
    params = op.params
    upn = str(params["userPrincipalName"])
    action_id = str(params["actionId"])
    extension = str(params["ledgerExtension"])
    user_id = await s.user_id(params.get("userId"), upn)
    ledger = await s.graph.get_extension(user_id, extension)
    actions = dict((ledger or {}).get("actions") or {})
    if action_id in actions:
        return Outcome.skipped(f"action {action_id} already ran ({actions[action_id]})")
    actions[action_id] = {"startedAt": _iso(s.now), "runId": str(s.run_id)}
    if ledger is None:
        await s.graph.create_extension(user_id, extension, {"actions": actions})
    else:
        await s.graph.update_extension(user_id, extension, {"actions": actions})
    password = generate_password()
    where = s.sink.store(
        tenant=s.tenant, upn=upn, purpose=f"reset-{action_id}", secret=password, now=s.now
    )
    await s.graph.reset_password(
        user_id, password, force_change_next_sign_in=bool(params["forceChangePasswordNextSignIn"])
    )
    actions[action_id] = {**actions[action_id], "doneAt": _iso(s.now)}
    await s.graph.update_extension(user_id, extension, {"actions": actions})
    return f"reset the password of {upn}; new password in {where}"


# --- Entra groups ---------------------------------------------------------------------------


async def group_create(s: TenantSession, op: Operation) -> Result:
    body = dict(op.params["body"])
    created = await s.graph.create_group(body)
    group_id = str(created["id"])
    s.created[("group", str(body["mailNickname"]).lower())] = group_id
    await s.graph.get_group(group_id, expect_new=True)
    return f"created group {body['mailNickname']} ({group_id})"


async def group_update(s: TenantSession, op: Operation) -> Result:
    body = dict(op.params["body"])
    await s.graph.update_group(str(op.params["groupId"]), body)
    return f"updated group {_key(op)}: {', '.join(sorted(body))}"


async def group_delete(s: TenantSession, op: Operation) -> Result:
    try:
        await s.graph.delete_group(str(op.params["groupId"]))
    except NotFound:
        return f"group {op.params['mailNickname']} was already deleted"
    return f"deleted group {op.params['mailNickname']}"


async def group_member(s: TenantSession, op: Operation) -> Result:
    nickname = _key(op)
    member = str(op.params["member"])
    group_id = await s.group_id(op.params.get("groupId"), nickname)
    member_id = await s.user_id(op.params.get("memberId"), member)
    adding = op.kind is OperationKind.GROUP_ADD_MEMBER
    try:
        if adding:
            await s.graph.add_member(group_id, member_id)
        else:
            await s.graph.remove_member(group_id, member_id)  # always .../$ref
    except Conflict:
        pass  # Graph answers 400 when the member is already there: the state we want
    except NotFound:
        if adding:
            raise
    members = {str(m.get("id")) for m in await s.graph.list_members(group_id)}
    if (member_id in members) != adding:
        raise _not_visible_yet(
            s, "graph", f"{nickname}: the membership change for {member} is not visible yet"
        )
    return f"{'added' if adding else 'removed'} {member} {'to' if adding else 'from'} {nickname}"


# --- Exchange objects -----------------------------------------------------------------------


async def dg_create(s: TenantSession, op: Operation) -> Result:
    p = op.params
    address = str(p["primarySmtpAddress"])
    if op.backend is Backend.CIPP:
        local, domain = _split(address)
        await s.cipp.add_distribution_group(s.tenant_id, str(p["displayName"]), local, domain)
        s.created[("distributionGroup", address.lower())] = await s.cipp_group_id(None, address)
        return f"created distribution group {address} through CIPP"
    created = await s.exchange.create_distribution_group(str(p["name"]), address)
    if p.get("displayName") and p["displayName"] != p["name"]:
        await s.exchange.invoke(
            "Set-DistributionGroup",
            {"Identity": address, "DisplayName": p["displayName"]},
            idempotent=True,
        )
    s.created[("distributionGroup", address.lower())] = str(
        created.get("ExternalDirectoryObjectId") or created.get("Guid") or address
    )
    return f"created distribution group {address}"


async def dg_update(s: TenantSession, op: Operation) -> Result:
    if op.backend is Backend.CIPP:
        raise _not_through_cipp(s, op)
    changes = {_exchange_field(k): v for k, v in dict(op.params["set"]).items()}
    await s.exchange.invoke(
        "Set-DistributionGroup", {"Identity": op.params["identity"], **changes}, idempotent=True
    )
    return f"updated distribution group {op.params['identity']}: {', '.join(sorted(changes))}"


async def dg_delete(s: TenantSession, op: Operation) -> Result:
    identity = str(op.params["identity"])
    if op.backend is Backend.CIPP:
        await s.cipp.delete_group(
            s.tenant_id, str(op.params["id"]), group_type="Distribution list", display_name=identity
        )
        return f"deleted distribution group {identity} through CIPP"
    try:
        await s.exchange.invoke(
            "Remove-DistributionGroup", {"Identity": identity, "Confirm": False}, idempotent=True
        )
    except NotFound:
        return f"distribution group {identity} was already deleted"
    return f"deleted distribution group {identity}"


async def dg_member(s: TenantSession, op: Operation) -> Result:
    identity = str(op.params["identity"])
    member = str(op.params["member"])
    adding = op.kind is OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER
    if op.backend is Backend.CIPP:
        group_id = await s.cipp_group_id(op.params.get("id"), identity)
        member_id = await s.user_id(None, member)
        change = {member_id: member}
        await s.cipp.edit_group(
            s.tenant_id, group_id, add=change if adding else None, remove=None if adding else change
        )
        return f"{'added' if adding else 'removed'} {member} {'to' if adding else 'from'} {identity} through CIPP"
    try:
        if adding:
            await s.exchange.add_distribution_group_member(identity, member)
        else:
            await s.exchange.remove_distribution_group_member(identity, member)
    except Conflict:
        pass  # MemberAlreadyExistsException: already what we want
    rows = await s.exchange.distribution_group_members(identity)
    # A member may be named by its primary SMTP address or its UPN (WindowsLiveID).
    present = member.lower() in {
        str(r.get(key) or "").lower()
        for r in rows
        for key in ("PrimarySmtpAddress", "WindowsLiveID")
    }
    if present != adding:
        raise _not_visible_yet(
            s, "exchange", f"{identity}: the membership change for {member} is not visible yet"
        )
    return f"{'added' if adding else 'removed'} {member} {'to' if adding else 'from'} {identity}"


async def mailbox_create(s: TenantSession, op: Operation) -> Result:
    p = op.params
    address = str(p["primarySmtpAddress"])
    if op.backend is Backend.CIPP:
        local, domain = _split(address)
        await s.cipp.add_shared_mailbox(s.tenant_id, str(p["displayName"]), local, domain)
        return f"created shared mailbox {address} through CIPP"
    await s.exchange.create_shared_mailbox(
        str(p["name"]), address, display_name=p.get("displayName"), alias=p.get("alias")
    )
    return f"created shared mailbox {address}"


async def mailbox_update(s: TenantSession, op: Operation) -> Result:
    if op.backend is Backend.CIPP:
        raise _not_through_cipp(s, op)
    changes = {_exchange_field(k): v for k, v in dict(op.params["set"]).items()}
    await s.exchange.invoke(
        "Set-Mailbox", {"Identity": op.params["identity"], **changes}, idempotent=True
    )
    return f"updated shared mailbox {op.params['identity']}: {', '.join(sorted(changes))}"


async def mailbox_delete(s: TenantSession, op: Operation) -> Result:
    if op.backend is Backend.CIPP:
        raise _not_through_cipp(s, op)
    identity = str(op.params["identity"])
    try:
        await s.exchange.invoke(
            "Remove-Mailbox", {"Identity": identity, "Confirm": False}, idempotent=True
        )
    except NotFound:
        return f"shared mailbox {identity} was already deleted"
    return f"deleted shared mailbox {identity}"


async def mailbox_permission(s: TenantSession, op: Operation) -> Result:
    identity = str(op.params["identity"])
    right = str(op.params["right"])
    holder = str(op.params["holder"])
    adding = op.kind is OperationKind.MAILBOX_PERMISSION_ADD
    verb = "granted" if adding else "removed"
    if op.backend is Backend.CIPP:
        key = {"FullAccess": "full_access", "SendAs": "send_as", "SendOnBehalf": "send_on_behalf"}[
            right
        ]
        await s.cipp.edit_mailbox_permissions(
            s.tenant_id, identity, **{f"{'add' if adding else 'remove'}_{key}": [holder]}
        )
        return f"{verb} {right} on {identity} for {holder} through CIPP"
    exchange = s.exchange
    try:
        if right == "FullAccess":
            await (
                exchange.add_full_access(identity, holder)
                if adding
                else exchange.remove_full_access(identity, holder)
            )
        elif right == "SendAs":
            await (
                exchange.add_send_as(identity, holder)
                if adding
                else exchange.remove_send_as(identity, holder)
            )
        else:
            await exchange.set_send_on_behalf(
                identity, add=[holder] if adding else [], remove=[] if adding else [holder]
            )
    except Conflict:
        pass  # already granted: the state we want
    if (holder.lower() in await _exchange_holders(exchange, identity, right, holder)) != adding:
        raise _not_visible_yet(
            s, "exchange", f"{identity}: the {right} change for {holder} is not visible yet"
        )
    return f"{verb} {right} on {identity} for {holder}"


async def _exchange_holders(
    exchange: ExchangeClient, identity: str, right: str, holder: str
) -> frozenset[str]:
    """Read a mailbox permission back. Exchange names holders by UPN, alias or name; the
    holder's own local part is enough to recognise it here."""
    directory = {holder.lower(): holder.lower(), holder.partition("@")[0].lower(): holder.lower()}
    if right == "FullAccess":
        return translate.full_access_holders(
            await exchange.mailbox_permissions(identity), directory
        )
    if right == "SendAs":
        return translate.send_as_holders(await exchange.recipient_permissions(identity), directory)
    mailboxes = await exchange.invoke("Get-Mailbox", {"Identity": identity})
    return translate.send_on_behalf_holders(mailboxes[0] if mailboxes else {}, directory)


# --- onboarding ---------------------------------------------------------------------------


async def consent_grant(s: TenantSession, op: Operation) -> Result:
    """Bulk consent through CIPP. CIPP queues it: the outcome is held until a later plan
    sees the consent (never reported as done before it is)."""
    partner = s.connections.partner_graph()
    roles = {
        **await partner.resource_app_roles(GRAPH_APP_ID),
        **await partner.resource_app_roles(EXCHANGE_APP_ID),
    }
    ids = sorted(roles[name] for name in REQUIRED_PERMISSIONS if name in roles)
    if not ids:
        raise ServiceFault(
            "consent: the app roles of Microsoft Graph and Exchange could not be read",
            service="graph",
            tenant=s.tenant_id,
        )
    await s.cipp.add_multi_tenant_app(str(op.params["appId"]), ids, [(s.tenant_id, s.tenant)])
    return Outcome.held(
        HoldReason.PROPAGATING,
        "bulk consent queued in CIPP; it takes effect within minutes: run plan again to verify",
    )


async def _assign_directory_role(s: TenantSession, op: Operation) -> None:
    body = dict(op.params["body"])
    await s.graph.assign_directory_role(
        str(body["principalId"]),
        str(body["roleDefinitionId"]),
        str(body.get("directoryScopeId", "/")),
    )


async def assign_exchange_role(s: TenantSession, op: Operation) -> Result:
    await _assign_directory_role(s, op)
    return "assigned Exchange Administrator; Exchange accepts the app 30 minutes to 2 hours later"


async def assign_reset_role(s: TenantSession, op: Operation) -> Result:
    """The role Graph requires of an app that resets passwords (``controller.plan.reset_role``)."""
    await _assign_directory_role(s, op)
    return f"assigned {op.params['role']} to the app; password resets may run"


def _not_visible_yet(s: TenantSession, service: Service, what: str) -> PropagationPending:
    """A write the service accepted but does not show on reading back: held, re-run later."""
    return PropagationPending(what, service=service, tenant=s.tenant_id, delay=30)


def _not_through_cipp(s: TenantSession, op: Operation) -> NeedsHuman:
    return NeedsHuman(
        f"{op.kind.value} {op.target}: CIPP has no endpoint tenantctl can use for this; "
        "do it in CIPP or the Exchange admin center, or give the app the Exchange "
        "Administrator role (exchange: direct)",
        service="cipp",
        tenant=s.tenant_id,
    )


def _exchange_field(name: str) -> str:
    return {"name": "Name", "displayName": "DisplayName", "alias": "Alias"}.get(name, name)


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


EXECUTORS: dict[OperationKind, Executor] = {
    OperationKind.USER_CREATE: user_create,
    OperationKind.USER_UPDATE: user_update,
    OperationKind.USER_ENABLE: user_update,
    OperationKind.USER_DISABLE: user_update,
    OperationKind.USER_DELETE: user_delete,
    OperationKind.USER_ASSIGN_LICENSES: user_licenses,
    OperationKind.USER_REMOVE_LICENSES: user_licenses,
    OperationKind.USER_RESET_PASSWORD: user_reset_password,
    OperationKind.GROUP_CREATE: group_create,
    OperationKind.GROUP_UPDATE: group_update,
    OperationKind.GROUP_DELETE: group_delete,
    OperationKind.GROUP_ADD_MEMBER: group_member,
    OperationKind.GROUP_REMOVE_MEMBER: group_member,
    OperationKind.DISTRIBUTION_GROUP_CREATE: dg_create,
    OperationKind.DISTRIBUTION_GROUP_UPDATE: dg_update,
    OperationKind.DISTRIBUTION_GROUP_DELETE: dg_delete,
    OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER: dg_member,
    OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER: dg_member,
    OperationKind.SHARED_MAILBOX_CREATE: mailbox_create,
    OperationKind.SHARED_MAILBOX_UPDATE: mailbox_update,
    OperationKind.SHARED_MAILBOX_DELETE: mailbox_delete,
    OperationKind.MAILBOX_PERMISSION_ADD: mailbox_permission,
    OperationKind.MAILBOX_PERMISSION_REMOVE: mailbox_permission,
    OperationKind.CONSENT_GRANT: consent_grant,
    OperationKind.EXCHANGE_ASSIGN_ROLE: assign_exchange_role,
    OperationKind.PASSWORD_RESET_ASSIGN_ROLE: assign_reset_role,
}
