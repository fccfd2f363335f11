"""``Operation.params`` per operation kind: the contract between the planner and apply.

Params hold everything apply needs to execute an operation, and never a secret: apply
generates passwords and sends them to the secret sink. Ids come from the observation; an id
is ``null`` when the object is created by this plan, and then the operation ``depends_on`` the
create, whose result carries the id (apply resolves it by the address named here).

Targets are ``user:<upn>``, ``group:<mailNickname>``, ``distributionGroup:<address>``,
``sharedMailbox:<address>`` or ``tenant:<name>``, lowercased. Operation ids are
``<tenant>/<kind>/<key>``: the key is the UPN, the mailNickname or the address, then
``/<member>`` for members, ``/<field>/<holder>`` for mailbox permissions and ``/<actionId>``
for one-shot actions.

One model per kind (a family of kinds with the same params shares a base), in
:data:`OperationParams`, a union discriminated by ``kind``. The JSON of a plan carries params
without their kind, because the operation beside them has it: :class:`Operation` hands its kind
down when a plan is read. So the JSON is what it was when params were plain dicts, and so are
plan ids, fingerprints and plan files written before.

In the JSON, a field with a default (``givenName``, ``alias``) is left out when it is None;
a field without one (``userId``) is always there, ``null`` when this plan creates the object.
Keys are camelCase, the Graph and Exchange names.

Exchange operations go through ``exchange`` (admin REST ``InvokeCommand``) or ``cipp`` as
``Operation.backend`` says; the params are the same for both, the connector maps them
(``identity`` is what ``-Identity`` and CIPP's ``groupId`` / ``userID`` accept).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from controller.models import MailboxRight, OperationKind

__all__ = [
    "PARAMS_MODELS",
    "ConsentGrantParams",
    "DistributionGroupAddMemberParams",
    "DistributionGroupCreateParams",
    "DistributionGroupDeleteParams",
    "DistributionGroupMemberParams",
    "DistributionGroupRemoveMemberParams",
    "DistributionGroupUpdateParams",
    "ExchangeAssignRoleParams",
    "ExchangeCreateParams",
    "ExchangeDeleteParams",
    "ExchangeObjectPatch",
    "ExchangeUpdateParams",
    "GroupAddMemberParams",
    "GroupCreateParams",
    "GroupDeleteParams",
    "GroupMemberParams",
    "GroupPatch",
    "GroupRemoveMemberParams",
    "GroupUpdateParams",
    "LicenceRef",
    "MailboxPermissionAddParams",
    "MailboxPermissionParams",
    "MailboxPermissionRemoveParams",
    "MailboxRight",
    "NewGroup",
    "NewUser",
    "OperationParams",
    "PasswordProfile",
    "PasswordResetAssignRoleParams",
    "RoleAssignment",
    "SharedMailboxCreateParams",
    "SharedMailboxDeleteParams",
    "SharedMailboxUpdateParams",
    "UserAssignLicensesParams",
    "UserChangeParams",
    "UserCreateParams",
    "UserDeleteParams",
    "UserDisableParams",
    "UserEnableParams",
    "UserPatch",
    "UserRemoveLicensesParams",
    "UserResetPasswordParams",
    "UserUpdateParams",
]


class _ParamsModel(BaseModel):
    """camelCase in JSON, frozen, unknown keys are errors; optional fields left out when None
    and the ``kind`` discriminator never written (see the module docstring)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    @model_serializer(mode="wrap")
    def _leave_out_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        data.pop("kind", None)
        for name, info in type(self).model_fields.items():
            if not info.is_required() and getattr(self, name) is None:
                data.pop(info.alias or name, None)
                data.pop(name, None)
        return data


# --- bodies and parts -------------------------------------------------------------------


class PasswordProfile(_ParamsModel):
    force_change_password_next_sign_in: bool


class NewUser(_ParamsModel):
    """The ``POST /users`` body without the password (apply adds it to ``passwordProfile``).
    ``usageLocation`` is the declared one or the MSP default."""

    account_enabled: bool
    display_name: str
    mail_nickname: str
    user_principal_name: str
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    usage_location: str | None = None
    password_profile: PasswordProfile


class UserPatch(_ParamsModel):
    """A ``PATCH /users/{id}`` body: only the fields that differ."""

    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    usage_location: str | None = None
    mail_nickname: str | None = None
    account_enabled: bool | None = None


class LicenceRef(_ParamsModel):
    sku_id: str
    sku_part_number: str


class NewGroup(_ParamsModel):
    """The ``POST /groups`` body. ``groupTypes`` is ``[]`` or ``["Unified"]``."""

    display_name: str
    mail_nickname: str
    mail_enabled: bool
    security_enabled: bool
    group_types: tuple[str, ...]
    description: str | None = None


class GroupPatch(_ParamsModel):
    """A ``PATCH /groups/{id}`` body: only the fields that differ."""

    display_name: str | None = None
    description: str | None = None


class ExchangeObjectPatch(_ParamsModel):
    """What ``Set-DistributionGroup`` / ``Set-Mailbox`` changes: only the fields that differ."""

    name: str | None = None
    display_name: str | None = None
    alias: str | None = None


class RoleAssignment(_ParamsModel):
    """The ``POST /roleManagement/directory/roleAssignments`` body: ``principalId`` is the
    app's service principal (null when the app has none in the tenant: then it is manual)."""

    role_definition_id: str
    principal_id: str | None
    directory_scope_id: str = "/"


# --- users ------------------------------------------------------------------------------


class UserCreateParams(_ParamsModel):
    kind: SkipJsonSchema[Literal[OperationKind.USER_CREATE]] = OperationKind.USER_CREATE
    body: NewUser


class UserChangeParams(_ParamsModel):
    """user.update, user.enable and user.disable: a ``PATCH`` (enable/disable: only
    ``accountEnabled``)."""

    user_id: str
    body: UserPatch


class UserUpdateParams(UserChangeParams):
    kind: SkipJsonSchema[Literal[OperationKind.USER_UPDATE]] = OperationKind.USER_UPDATE


class UserEnableParams(UserChangeParams):
    kind: SkipJsonSchema[Literal[OperationKind.USER_ENABLE]] = OperationKind.USER_ENABLE


class UserDisableParams(UserChangeParams):
    kind: SkipJsonSchema[Literal[OperationKind.USER_DISABLE]] = OperationKind.USER_DISABLE


class UserDeleteParams(_ParamsModel):
    kind: SkipJsonSchema[Literal[OperationKind.USER_DELETE]] = OperationKind.USER_DELETE
    user_id: str
    user_principal_name: str


class UserAssignLicensesParams(_ParamsModel):
    """Sent with ``disabledPlans: []``; ``userId`` is null when this plan creates the user."""

    kind: SkipJsonSchema[Literal[OperationKind.USER_ASSIGN_LICENSES]] = (
        OperationKind.USER_ASSIGN_LICENSES
    )
    user_id: str | None
    user_principal_name: str
    add_licenses: tuple[LicenceRef, ...]


class UserRemoveLicensesParams(_ParamsModel):
    kind: SkipJsonSchema[Literal[OperationKind.USER_REMOVE_LICENSES]] = (
        OperationKind.USER_REMOVE_LICENSES
    )
    user_id: str | None
    user_principal_name: str
    remove_licenses: tuple[LicenceRef, ...]


class UserResetPasswordParams(_ParamsModel):
    """A one-shot action: apply records ``actionId`` as started in the ``ledgerExtension`` open
    extension of the user before the reset, and as done after it, so it never runs twice.
    ``pruneAfter``: the last day the action could run (its ``notAfter``); its entry is pruned
    from the ledger after that day."""

    kind: SkipJsonSchema[Literal[OperationKind.USER_RESET_PASSWORD]] = (
        OperationKind.USER_RESET_PASSWORD
    )
    action_id: str
    user_id: str | None
    user_principal_name: str
    force_change_password_next_sign_in: bool
    ledger_extension: str
    prune_after: dt.date | None = None


# --- Entra groups -----------------------------------------------------------------------


class GroupCreateParams(_ParamsModel):
    kind: SkipJsonSchema[Literal[OperationKind.GROUP_CREATE]] = OperationKind.GROUP_CREATE
    body: NewGroup


class GroupUpdateParams(_ParamsModel):
    kind: SkipJsonSchema[Literal[OperationKind.GROUP_UPDATE]] = OperationKind.GROUP_UPDATE
    group_id: str
    body: GroupPatch


class GroupDeleteParams(_ParamsModel):
    kind: SkipJsonSchema[Literal[OperationKind.GROUP_DELETE]] = OperationKind.GROUP_DELETE
    group_id: str
    mail_nickname: str


class GroupMemberParams(_ParamsModel):
    """group.addMember and group.removeMember. Removal uses ``DELETE .../members/{id}/$ref``
    (without ``/$ref`` Graph deletes the member itself)."""

    group_id: str | None
    member_id: str | None
    member: str


class GroupAddMemberParams(GroupMemberParams):
    kind: SkipJsonSchema[Literal[OperationKind.GROUP_ADD_MEMBER]] = OperationKind.GROUP_ADD_MEMBER


class GroupRemoveMemberParams(GroupMemberParams):
    kind: SkipJsonSchema[Literal[OperationKind.GROUP_REMOVE_MEMBER]] = (
        OperationKind.GROUP_REMOVE_MEMBER
    )


# --- Exchange objects -------------------------------------------------------------------


class ExchangeCreateParams(_ParamsModel):
    """distributionGroup.create and sharedMailbox.create: ``displayName`` defaults to the
    name, ``alias`` only when declared."""

    name: str
    display_name: str
    primary_smtp_address: str
    alias: str | None = None


class DistributionGroupCreateParams(ExchangeCreateParams):
    kind: SkipJsonSchema[Literal[OperationKind.DISTRIBUTION_GROUP_CREATE]] = (
        OperationKind.DISTRIBUTION_GROUP_CREATE
    )


class SharedMailboxCreateParams(ExchangeCreateParams):
    kind: SkipJsonSchema[Literal[OperationKind.SHARED_MAILBOX_CREATE]] = (
        OperationKind.SHARED_MAILBOX_CREATE
    )


class ExchangeUpdateParams(_ParamsModel):
    """distributionGroup.update and sharedMailbox.update; ``identity`` is the primary SMTP
    address."""

    identity: str
    id: str
    set: ExchangeObjectPatch


class DistributionGroupUpdateParams(ExchangeUpdateParams):
    kind: SkipJsonSchema[Literal[OperationKind.DISTRIBUTION_GROUP_UPDATE]] = (
        OperationKind.DISTRIBUTION_GROUP_UPDATE
    )


class SharedMailboxUpdateParams(ExchangeUpdateParams):
    kind: SkipJsonSchema[Literal[OperationKind.SHARED_MAILBOX_UPDATE]] = (
        OperationKind.SHARED_MAILBOX_UPDATE
    )


class ExchangeDeleteParams(_ParamsModel):
    identity: str
    id: str


class DistributionGroupDeleteParams(ExchangeDeleteParams):
    kind: SkipJsonSchema[Literal[OperationKind.DISTRIBUTION_GROUP_DELETE]] = (
        OperationKind.DISTRIBUTION_GROUP_DELETE
    )


class SharedMailboxDeleteParams(ExchangeDeleteParams):
    kind: SkipJsonSchema[Literal[OperationKind.SHARED_MAILBOX_DELETE]] = (
        OperationKind.SHARED_MAILBOX_DELETE
    )


class DistributionGroupMemberParams(_ParamsModel):
    """distributionGroup.addMember and .removeMember; ``id`` is null when this plan creates
    the group, ``member`` an address."""

    identity: str
    id: str | None
    member: str


class DistributionGroupAddMemberParams(DistributionGroupMemberParams):
    kind: SkipJsonSchema[Literal[OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER]] = (
        OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER
    )


class DistributionGroupRemoveMemberParams(DistributionGroupMemberParams):
    kind: SkipJsonSchema[Literal[OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER]] = (
        OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER
    )


class MailboxPermissionParams(_ParamsModel):
    """mailboxPermission.add and .remove; ``id`` is null when this plan creates the mailbox,
    ``holderId`` when it creates the holder or the holder is not known by id."""

    identity: str
    id: str | None
    right: MailboxRight
    holder: str
    holder_id: str | None


class MailboxPermissionAddParams(MailboxPermissionParams):
    kind: SkipJsonSchema[Literal[OperationKind.MAILBOX_PERMISSION_ADD]] = (
        OperationKind.MAILBOX_PERMISSION_ADD
    )


class MailboxPermissionRemoveParams(MailboxPermissionParams):
    kind: SkipJsonSchema[Literal[OperationKind.MAILBOX_PERMISSION_REMOVE]] = (
        OperationKind.MAILBOX_PERMISSION_REMOVE
    )


# --- onboarding -------------------------------------------------------------------------


class ConsentGrantParams(_ParamsModel):
    """Backend ``cipp`` (ExecAddMultiTenantApp) or ``manual`` (``Operation.manual``);
    ``missingPermissions`` by name."""

    kind: SkipJsonSchema[Literal[OperationKind.CONSENT_GRANT]] = OperationKind.CONSENT_GRANT
    tenant_id: str
    app_id: str
    missing_permissions: tuple[str, ...]
    admin_consent_url: str


class ExchangeAssignRoleParams(_ParamsModel):
    """Exchange Administrator for the app's service principal; backend ``graph`` or
    ``manual``."""

    kind: SkipJsonSchema[Literal[OperationKind.EXCHANGE_ASSIGN_ROLE]] = (
        OperationKind.EXCHANGE_ASSIGN_ROLE
    )
    tenant_id: str
    body: RoleAssignment


class PasswordResetAssignRoleParams(_ParamsModel):
    """The directory role app-only password resets need (User Administrator, or Privileged
    Authentication Administrator when a target holds an admin role) for the app's service
    principal; backend ``graph`` or ``manual``. The resets that need it depend on it."""

    kind: SkipJsonSchema[Literal[OperationKind.PASSWORD_RESET_ASSIGN_ROLE]] = (
        OperationKind.PASSWORD_RESET_ASSIGN_ROLE
    )
    tenant_id: str
    role: str = Field(description="The role's name, for people")
    body: RoleAssignment


OperationParams = Annotated[
    UserCreateParams
    | UserUpdateParams
    | UserEnableParams
    | UserDisableParams
    | UserDeleteParams
    | UserAssignLicensesParams
    | UserRemoveLicensesParams
    | UserResetPasswordParams
    | GroupCreateParams
    | GroupUpdateParams
    | GroupDeleteParams
    | GroupAddMemberParams
    | GroupRemoveMemberParams
    | DistributionGroupCreateParams
    | DistributionGroupUpdateParams
    | DistributionGroupDeleteParams
    | DistributionGroupAddMemberParams
    | DistributionGroupRemoveMemberParams
    | SharedMailboxCreateParams
    | SharedMailboxUpdateParams
    | SharedMailboxDeleteParams
    | MailboxPermissionAddParams
    | MailboxPermissionRemoveParams
    | ConsentGrantParams
    | ExchangeAssignRoleParams
    | PasswordResetAssignRoleParams,
    Field(discriminator="kind"),
]

#: The params model of each kind, read off the union.
PARAMS_MODELS: dict[OperationKind, type[BaseModel]] = {
    model.model_fields["kind"].default: model for model in get_args(get_args(OperationParams)[0])
}
