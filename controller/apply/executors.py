"""One executor per operation kind: the calls that carry out an operation, then read it back.

Each executor takes the tenant's :class:`TenantSession`, the :class:`Operation` and its
params, typed by kind (the contract in ``controller/plan/params.py``), and returns a short
detail for the journal, or an :class:`Outcome` when the result is not a plain success (a bulk
consent queued in CIPP). Failures are raised as the error tree; the engine turns them into
outcomes. Distribution groups, shared mailboxes and permissions go through the tenant's
Exchange route (``TenantSession.exchange``), whichever it is.

Passwords are generated here, stored in the secret sink first (so none is ever lost), and
appear nowhere else. A password the service refused (a definite failure: it answered that it
will not) has its file voided, so no file stands for a password that was never set; one that
could not be stored at all stops the operation before anything is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from controller.apply.outcomes import HoldReason, Outcome
from controller.apply.secret_sink import generate_password
from controller.apply.session import TenantSession
from controller.connectors import ObjectRef
from controller.errors import (
    Conflict,
    NeedsHuman,
    NotFound,
    PermanentError,
    PropagationPending,
    SecretNotStored,
    Service,
    ServiceError,
)
from controller.models import OperationKind
from controller.models.ledger import ActionState, Ledger, LedgerFull
from controller.plan import Operation
from controller.plan.params import (
    ConsentGrantParams,
    DistributionGroupAddMemberParams,
    DistributionGroupCreateParams,
    DistributionGroupDeleteParams,
    DistributionGroupMemberParams,
    DistributionGroupUpdateParams,
    ExchangeAssignRoleParams,
    GroupAddMemberParams,
    GroupCreateParams,
    GroupDeleteParams,
    GroupMemberParams,
    GroupUpdateParams,
    MailboxPermissionAddParams,
    MailboxPermissionParams,
    PasswordResetAssignRoleParams,
    RoleAssignment,
    SharedMailboxCreateParams,
    SharedMailboxDeleteParams,
    SharedMailboxUpdateParams,
    UserAssignLicensesParams,
    UserChangeParams,
    UserCreateParams,
    UserDeleteParams,
    UserRemoveLicensesParams,
    UserResetPasswordParams,
)

Result = str | Outcome
Executor = Callable[[TenantSession, Operation], Awaitable[Result]]
P = TypeVar("P")

USER_VERIFY_SELECT = (
    "id,userPrincipalName,displayName,givenName,surname,jobTitle,department,accountEnabled,"
    "usageLocation,assignedLicenses"
)


def _key(op: Operation) -> str:
    """The object part of the target: ``user:alice@x`` -> ``alice@x``."""
    return op.target.partition(":")[2]


# --- users -------------------------------------------------------------------------------


async def user_create(s: TenantSession, op: Operation, p: UserCreateParams) -> Result:
    body = p.body.model_dump(mode="json")
    upn = p.body.user_principal_name
    password = generate_password()
    # The password goes to the sink before the call: if the process dies after Graph created
    # the user, the password is not lost.
    where = await s.store_password(op.id, upn, "initial-password", password)
    body["passwordProfile"] = {**body["passwordProfile"], "password": password}
    try:
        created = await s.graph.create_user(body)
    except (PermanentError, NeedsHuman):
        await s.void_password(where)  # refused: this password was never set
        raise
    user_id = str(created["id"])
    s.created[("user", upn.lower())] = user_id
    await s.graph.get_user(user_id, select="id", expect_new=True)
    return f"created {upn} ({user_id}); initial password in {where}"


async def user_update(s: TenantSession, op: Operation, p: UserChangeParams) -> Result:
    upn = _key(op)
    user_id = await s.user_id(p.user_id, upn)
    body = p.body.model_dump(mode="json")
    await s.graph.update_user(user_id, body)
    seen = await s.graph.get_user(user_id, select=USER_VERIFY_SELECT, expect_new=True)
    differs = [k for k, v in body.items() if _norm(seen.get(k)) != _norm(v)]
    if differs:
        raise _not_visible_yet(
            s, "graph", f"{upn}: the update is not visible yet ({', '.join(sorted(differs))})"
        )
    return f"updated {upn}: {', '.join(sorted(body))}"


async def user_delete(s: TenantSession, op: Operation, p: UserDeleteParams) -> Result:
    upn = p.user_principal_name
    try:
        await s.graph.delete_user(p.user_id)
    except NotFound:
        return f"{upn} was already deleted"
    return f"deleted {upn} (restorable for 30 days)"


async def user_licenses(
    s: TenantSession, op: Operation, p: UserAssignLicensesParams | UserRemoveLicensesParams
) -> Result:
    upn = p.user_principal_name
    user_id = await s.user_id(p.user_id, upn)
    adding = isinstance(p, UserAssignLicensesParams)
    licences = p.add_licenses if isinstance(p, UserAssignLicensesParams) else p.remove_licenses
    add = [x.sku_id for x in licences] if adding else []
    remove = [] if adding else [x.sku_id for x in licences]
    await s.graph.assign_license(user_id, add=add, remove=remove)
    seen = await s.graph.get_user(user_id, select="id,assignedLicenses", expect_new=True)
    held = {str(x.get("skuId", "")).lower() for x in seen.get("assignedLicenses") or ()}
    if not {a.lower() for a in add} <= held or {r.lower() for r in remove} & held:
        raise _not_visible_yet(s, "graph", f"{upn}: the licence change is not visible yet")
    names = [x.sku_part_number for x in licences]
    return f"{'assigned' if adding else 'removed'} {', '.join(names)} for {upn}"


async def user_reset_password(
    s: TenantSession, op: Operation, p: UserResetPasswordParams
) -> Result:
    """A one-shot action, run at most once ever. The ledger on the user records it as started
    *before* the reset and done after it: a crash between the two leaves "started", which the
    plan reports as "may have run: verify", never a second reset. A definite failure (the
    password could not be stored, Graph refused the reset) removes the entry again and voids
    the password file, so a later run may try again. The sink is checked before the ledger is
    written: a sink that refuses (a vault's 403) holds the action with nothing sent."""
    upn = p.user_principal_name
    action_id = p.action_id
    user_id = await s.user_id(p.user_id, upn)
    found = await s.graph.get_extension(user_id, p.ledger_extension)
    ledger = Ledger.from_properties(found)
    state = ledger.state_of(action_id)
    if state is ActionState.DONE:
        return Outcome.skipped(f"action {action_id} already done (recorded on {upn})")
    if state is ActionState.STARTED:
        return Outcome.held(
            HoldReason.MANUAL,
            f"action {action_id} may have run: verify, then give it a new id to run it again",
        )
    try:
        ledger = (
            ledger.pruned(s.now.date())
            .with_state(action_id, ActionState.STARTED, prune_after=p.prune_after)
            .checked()
        )
    except LedgerFull as full:
        raise NeedsHuman(f"{upn}: {full}", service="graph", tenant=s.tenant_id) from None
    await s.check_sink()  # a sink that refuses stops the reset before Graph is written to
    exists = found is not None
    await _write_ledger(s, user_id, p.ledger_extension, ledger, exists=exists)
    try:
        password = generate_password()
        where = await s.store_password(op.id, upn, f"reset-{action_id}", password)
    except SecretNotStored:
        await _write_ledger(s, user_id, p.ledger_extension, ledger.without(action_id))
        raise
    try:
        await s.graph.reset_password(
            user_id, password, force_change_next_sign_in=p.force_change_password_next_sign_in
        )
    except (PermanentError, NeedsHuman):
        # Graph refused: the password was never set. (A temporary error is ambiguous: the
        # reset may have happened, so "started" stays for a person to verify.)
        await s.void_password(where)
        await _write_ledger(s, user_id, p.ledger_extension, ledger.without(action_id))
        raise
    done = ledger.with_state(action_id, ActionState.DONE, prune_after=p.prune_after)
    try:
        await _write_ledger(s, user_id, p.ledger_extension, done)
    except ServiceError as problem:
        return Outcome.succeeded(
            detail=f"reset the password of {upn}; new password in {where}; but the ledger could "
            f"not record it as done ({problem}): plan will say it may have run"
        )
    return f"reset the password of {upn}; new password in {where}"


async def _write_ledger(
    s: TenantSession, user_id: str, name: str, ledger: Ledger, *, exists: bool = True
) -> None:
    """The whole ledger (an update replaces every property of an open extension)."""
    if exists:
        await s.graph.update_extension(user_id, name, ledger.properties())
    else:
        await s.graph.create_extension(user_id, name, ledger.properties())


# --- Entra groups ---------------------------------------------------------------------------


async def group_create(s: TenantSession, op: Operation, p: GroupCreateParams) -> Result:
    nickname = p.body.mail_nickname
    created = await s.graph.create_group(p.body.model_dump(mode="json"))
    group_id = str(created["id"])
    s.created[("group", nickname.lower())] = group_id
    await s.graph.get_group(group_id, expect_new=True)
    return f"created group {nickname} ({group_id})"


async def group_update(s: TenantSession, op: Operation, p: GroupUpdateParams) -> Result:
    body = p.body.model_dump(mode="json")
    await s.graph.update_group(p.group_id, body)
    return f"updated group {_key(op)}: {', '.join(sorted(body))}"


async def group_delete(s: TenantSession, op: Operation, p: GroupDeleteParams) -> Result:
    try:
        await s.graph.delete_group(p.group_id)
    except NotFound:
        return f"group {p.mail_nickname} was already deleted"
    return f"deleted group {p.mail_nickname}"


async def group_member(s: TenantSession, op: Operation, p: GroupMemberParams) -> Result:
    nickname = _key(op)
    member = p.member
    group_id = await s.group_id(p.group_id, nickname)
    member_id = await s.user_id(p.member_id, member)
    adding = isinstance(p, GroupAddMemberParams)
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


# --- Exchange objects, through the tenant's route (TenantSession.exchange) ------------------


async def dg_create(s: TenantSession, op: Operation, p: DistributionGroupCreateParams) -> Result:
    address = p.primary_smtp_address
    group_id = await s.exchange.create_distribution_group(p.name, p.display_name, address)
    s.created[("distributionGroup", address.lower())] = group_id
    return f"created distribution group {address}{s.exchange.via}"


async def dg_update(s: TenantSession, op: Operation, p: DistributionGroupUpdateParams) -> Result:
    changes = p.set.model_dump(mode="json")
    await s.exchange.update_distribution_group(p.identity, changes)
    return f"updated distribution group {p.identity}: {', '.join(sorted(changes))}"


async def dg_delete(s: TenantSession, op: Operation, p: DistributionGroupDeleteParams) -> Result:
    if not await s.exchange.delete_distribution_group(ObjectRef(p.identity, p.id)):
        return f"distribution group {p.identity} was already deleted"
    return f"deleted distribution group {p.identity}{s.exchange.via}"


async def dg_member(s: TenantSession, op: Operation, p: DistributionGroupMemberParams) -> Result:
    group = ObjectRef(p.identity, p.id or s.created_id("distributionGroup", p.identity))

    async def member_id() -> str:
        return await s.user_id(None, p.member)

    if isinstance(p, DistributionGroupAddMemberParams):
        await s.exchange.add_member(group, p.member, member_id)
        return f"added {p.member} to {p.identity}{s.exchange.via}"
    await s.exchange.remove_member(group, p.member, member_id)
    return f"removed {p.member} from {p.identity}{s.exchange.via}"


async def mailbox_create(s: TenantSession, op: Operation, p: SharedMailboxCreateParams) -> Result:
    address = p.primary_smtp_address
    await s.exchange.create_shared_mailbox(p.name, p.display_name, address, p.alias)
    return f"created shared mailbox {address}{s.exchange.via}"


async def mailbox_update(s: TenantSession, op: Operation, p: SharedMailboxUpdateParams) -> Result:
    changes = p.set.model_dump(mode="json")
    await s.exchange.update_shared_mailbox(p.identity, changes)
    return f"updated shared mailbox {p.identity}: {', '.join(sorted(changes))}"


async def mailbox_delete(s: TenantSession, op: Operation, p: SharedMailboxDeleteParams) -> Result:
    if not await s.exchange.delete_shared_mailbox(p.identity):
        return f"shared mailbox {p.identity} was already deleted"
    return f"deleted shared mailbox {p.identity}{s.exchange.via}"


async def mailbox_permission(s: TenantSession, op: Operation, p: MailboxPermissionParams) -> Result:
    if isinstance(p, MailboxPermissionAddParams):
        await s.exchange.grant(p.identity, p.right, p.holder)
        verb = "granted"
    else:
        await s.exchange.revoke(p.identity, p.right, p.holder)
        verb = "removed"
    return f"{verb} {p.right} on {p.identity} for {p.holder}{s.exchange.via}"


# --- onboarding ---------------------------------------------------------------------------


async def consent_grant(s: TenantSession, op: Operation, p: ConsentGrantParams) -> Result:
    """Bulk consent through CIPP, copying the permissions of the app's registration (each on
    its own resource: CippClient.add_multi_tenant_app). CIPP queues it: the outcome is held
    until a later plan sees the consent (never reported as done before it is)."""
    await s.cipp.add_multi_tenant_app(p.app_id, [(s.tenant_id, s.tenant)])
    return Outcome.held(
        HoldReason.PROPAGATING,
        "bulk consent queued in CIPP; it takes effect within minutes: run plan again to verify",
    )


async def _assign_directory_role(s: TenantSession, role: RoleAssignment) -> None:
    if role.principal_id is None:  # planned as a manual step, which never comes here
        raise NeedsHuman(
            "the app has no service principal in the tenant to assign the role to",
            service="graph",
            tenant=s.tenant_id,
        )
    await s.graph.assign_directory_role(
        role.principal_id, role.role_definition_id, role.directory_scope_id
    )


async def assign_exchange_role(
    s: TenantSession, op: Operation, p: ExchangeAssignRoleParams
) -> Result:
    await _assign_directory_role(s, p.body)
    return "assigned Exchange Administrator; Exchange accepts the app 30 minutes to 2 hours later"


async def assign_reset_role(
    s: TenantSession, op: Operation, p: PasswordResetAssignRoleParams
) -> Result:
    """The role Graph requires of an app that resets passwords (``controller.plan.reset_role``)."""
    await _assign_directory_role(s, p.body)
    return f"assigned {p.role} to the app; password resets may run"


def _not_visible_yet(s: TenantSession, service: Service, what: str) -> PropagationPending:
    """A write the service accepted but does not show on reading back: held, re-run later."""
    return PropagationPending(what, service=service, tenant=s.tenant_id, delay=30)


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _taking(
    model: type[P], run: Callable[[TenantSession, Operation, P], Awaitable[Result]]
) -> Executor:
    """``run`` as an executor of operations whose params are a ``model``."""

    async def execute(s: TenantSession, op: Operation) -> Result:
        params = op.params
        if not isinstance(params, model):  # Operation validates params by kind: a bug
            raise TypeError(f"{op.id}: params of {params.kind.value}, not {model.__name__}")
        return await run(s, op, params)

    return execute


EXECUTORS: dict[OperationKind, Executor] = {
    OperationKind.USER_CREATE: _taking(UserCreateParams, user_create),
    OperationKind.USER_UPDATE: _taking(UserChangeParams, user_update),
    OperationKind.USER_ENABLE: _taking(UserChangeParams, user_update),
    OperationKind.USER_DISABLE: _taking(UserChangeParams, user_update),
    OperationKind.USER_DELETE: _taking(UserDeleteParams, user_delete),
    OperationKind.USER_ASSIGN_LICENSES: _taking(UserAssignLicensesParams, user_licenses),
    OperationKind.USER_REMOVE_LICENSES: _taking(UserRemoveLicensesParams, user_licenses),
    OperationKind.USER_RESET_PASSWORD: _taking(UserResetPasswordParams, user_reset_password),
    OperationKind.GROUP_CREATE: _taking(GroupCreateParams, group_create),
    OperationKind.GROUP_UPDATE: _taking(GroupUpdateParams, group_update),
    OperationKind.GROUP_DELETE: _taking(GroupDeleteParams, group_delete),
    OperationKind.GROUP_ADD_MEMBER: _taking(GroupMemberParams, group_member),
    OperationKind.GROUP_REMOVE_MEMBER: _taking(GroupMemberParams, group_member),
    OperationKind.DISTRIBUTION_GROUP_CREATE: _taking(DistributionGroupCreateParams, dg_create),
    OperationKind.DISTRIBUTION_GROUP_UPDATE: _taking(DistributionGroupUpdateParams, dg_update),
    OperationKind.DISTRIBUTION_GROUP_DELETE: _taking(DistributionGroupDeleteParams, dg_delete),
    OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER: _taking(DistributionGroupMemberParams, dg_member),
    OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER: _taking(
        DistributionGroupMemberParams, dg_member
    ),
    OperationKind.SHARED_MAILBOX_CREATE: _taking(SharedMailboxCreateParams, mailbox_create),
    OperationKind.SHARED_MAILBOX_UPDATE: _taking(SharedMailboxUpdateParams, mailbox_update),
    OperationKind.SHARED_MAILBOX_DELETE: _taking(SharedMailboxDeleteParams, mailbox_delete),
    OperationKind.MAILBOX_PERMISSION_ADD: _taking(MailboxPermissionParams, mailbox_permission),
    OperationKind.MAILBOX_PERMISSION_REMOVE: _taking(MailboxPermissionParams, mailbox_permission),
    OperationKind.CONSENT_GRANT: _taking(ConsentGrantParams, consent_grant),
    OperationKind.EXCHANGE_ASSIGN_ROLE: _taking(ExchangeAssignRoleParams, assign_exchange_role),
    OperationKind.PASSWORD_RESET_ASSIGN_ROLE: _taking(
        PasswordResetAssignRoleParams, assign_reset_role
    ),
}
