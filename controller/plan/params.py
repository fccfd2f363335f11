"""``Operation.params`` per operation kind: the contract between the planner and apply.

Params hold everything apply needs to execute an operation, and never a secret: apply
generates passwords and sends them to the secret sink. Ids come from the observation; an id
is ``null`` when the object is created by this plan, and then the operation ``depends_on`` the
create, whose result carries the id (apply resolves it by the address named here).

Targets are ``user:<upn>``, ``group:<mailNickname>``, ``distributionGroup:<address>``,
``sharedMailbox:<address>`` or ``tenant:<name>``, lowercased. Operation ids are
``<tenant>/<kind>/<key>``; keys are in the table.

=============================== ============================ ============================================
kind                            id key                       params
=============================== ============================ ============================================
user.create                     upn                          ``body``: the ``POST /users`` body without
                                                             the password: accountEnabled, displayName,
                                                             mailNickname, userPrincipalName,
                                                             usageLocation (declared or msp default),
                                                             givenName/surname/jobTitle/department when
                                                             declared, ``passwordProfile:
                                                             {forceChangePasswordNextSignIn}`` (apply
                                                             adds ``password``)
user.update                     upn                          ``userId``, ``body``: the ``PATCH`` body
                                                             (only the fields that differ)
user.enable / user.disable      upn                          ``userId``, ``body: {accountEnabled}``
user.delete                     upn                          ``userId``, ``userPrincipalName``
user.assignLicenses             upn                          ``userId`` (null if created),
                                                             ``userPrincipalName``, ``addLicenses:
                                                             [{skuId, skuPartNumber}]`` (send
                                                             ``disabledPlans: []``)
user.removeLicenses             upn                          ``userId``, ``userPrincipalName``,
                                                             ``removeLicenses: [{skuId, skuPartNumber}]``
user.resetPassword              upn/actionId                 ``actionId``, ``userId`` (null if created),
                                                             ``userPrincipalName``,
                                                             ``forceChangePasswordNextSignIn``,
                                                             ``ledgerExtension`` (record the action id
                                                             there after success)
group.create                    nick                         ``body``: displayName, mailNickname,
                                                             mailEnabled, securityEnabled, groupTypes
                                                             (``[]`` or ``["Unified"]``), description
group.update                    nick                         ``groupId``, ``body`` (displayName,
                                                             description: only what differs)
group.delete                    nick                         ``groupId``, ``mailNickname``
group.addMember                 nick/address                 ``groupId`` (null if created),
                                                             ``memberId`` (null if created), ``member``
                                                             (address)
group.removeMember              nick/address                 ``groupId``, ``memberId``, ``member``; use
                                                             ``DELETE .../members/{id}/$ref`` (without
                                                             ``/$ref`` Graph deletes the member itself)
distributionGroup.create        address                      ``name``, ``displayName`` (defaults to
                                                             name), ``primarySmtpAddress``, ``alias``
                                                             when declared
distributionGroup.update        address                      ``identity`` (primary SMTP), ``id``,
                                                             ``set``: {name|displayName|alias: value}
distributionGroup.delete        address                      ``identity``, ``id``
distributionGroup.addMember     address/member               ``identity``, ``id`` (null if created),
                                                             ``member`` (address)
distributionGroup.removeMember  address/member               ``identity``, ``id``, ``member``
sharedMailbox.create            address                      as distributionGroup.create
sharedMailbox.update            address                      as distributionGroup.update
sharedMailbox.delete            address                      ``identity``, ``id``
mailboxPermission.add           address/field/holder         ``identity``, ``id`` (null if created),
                                                             ``right`` (FullAccess | SendAs |
                                                             SendOnBehalf), ``holder`` (address),
                                                             ``holderId`` (null if created or unknown)
mailboxPermission.remove        address/field/holder         ``identity``, ``id``, ``right``, ``holder``,
                                                             ``holderId`` (null)
consent.grant                   tenant                       ``tenantId``, ``appId``,
                                                             ``missingPermissions`` (names),
                                                             ``adminConsentUrl``; backend ``cipp``
                                                             (ExecAddMultiTenantApp) or ``manual``
                                                             (see ``Operation.manual``)
exchange.assignRole             tenant                       ``tenantId``, ``body``: the
                                                             ``POST /roleManagement/directory/
                                                             roleAssignments`` body (roleDefinitionId
                                                             Exchange Administrator, principalId: the
                                                             app's service principal, directoryScopeId
                                                             ``/``); backend ``graph`` or ``manual``
passwordReset.assignRole        tenant                       ``tenantId``, ``role`` (its name),
                                                             ``body``: as exchange.assignRole, with
                                                             roleDefinitionId User Administrator (or
                                                             Privileged Authentication Administrator
                                                             when a target holds a directory role);
                                                             backend ``graph`` or ``manual``; the
                                                             resets that need it depend on it
=============================== ============================ ============================================

Exchange operations go through ``exchange`` (admin REST ``InvokeCommand``) or ``cipp`` as
``Operation.backend`` says; the params are the same for both, the connector maps them
(``identity`` is what ``-Identity`` and CIPP's ``groupId`` / ``userID`` accept).
"""

from __future__ import annotations

from controller.models import OperationKind

# The keys each kind's params always carry (a test checks the planner against it).
PARAM_KEYS: dict[OperationKind, frozenset[str]] = {
    OperationKind.USER_CREATE: frozenset({"body"}),
    OperationKind.USER_UPDATE: frozenset({"userId", "body"}),
    OperationKind.USER_ENABLE: frozenset({"userId", "body"}),
    OperationKind.USER_DISABLE: frozenset({"userId", "body"}),
    OperationKind.USER_DELETE: frozenset({"userId", "userPrincipalName"}),
    OperationKind.USER_ASSIGN_LICENSES: frozenset({"userId", "userPrincipalName", "addLicenses"}),
    OperationKind.USER_REMOVE_LICENSES: frozenset(
        {"userId", "userPrincipalName", "removeLicenses"}
    ),
    OperationKind.USER_RESET_PASSWORD: frozenset(
        {
            "actionId",
            "userId",
            "userPrincipalName",
            "forceChangePasswordNextSignIn",
            "ledgerExtension",
        }
    ),
    OperationKind.GROUP_CREATE: frozenset({"body"}),
    OperationKind.GROUP_UPDATE: frozenset({"groupId", "body"}),
    OperationKind.GROUP_DELETE: frozenset({"groupId", "mailNickname"}),
    OperationKind.GROUP_ADD_MEMBER: frozenset({"groupId", "memberId", "member"}),
    OperationKind.GROUP_REMOVE_MEMBER: frozenset({"groupId", "memberId", "member"}),
    OperationKind.DISTRIBUTION_GROUP_CREATE: frozenset(
        {"name", "displayName", "primarySmtpAddress"}
    ),
    OperationKind.DISTRIBUTION_GROUP_UPDATE: frozenset({"identity", "id", "set"}),
    OperationKind.DISTRIBUTION_GROUP_DELETE: frozenset({"identity", "id"}),
    OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER: frozenset({"identity", "id", "member"}),
    OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER: frozenset({"identity", "id", "member"}),
    OperationKind.SHARED_MAILBOX_CREATE: frozenset({"name", "displayName", "primarySmtpAddress"}),
    OperationKind.SHARED_MAILBOX_UPDATE: frozenset({"identity", "id", "set"}),
    OperationKind.SHARED_MAILBOX_DELETE: frozenset({"identity", "id"}),
    OperationKind.MAILBOX_PERMISSION_ADD: frozenset(
        {"identity", "id", "right", "holder", "holderId"}
    ),
    OperationKind.MAILBOX_PERMISSION_REMOVE: frozenset(
        {"identity", "id", "right", "holder", "holderId"}
    ),
    OperationKind.CONSENT_GRANT: frozenset(
        {"tenantId", "appId", "missingPermissions", "adminConsentUrl"}
    ),
    OperationKind.EXCHANGE_ASSIGN_ROLE: frozenset({"tenantId", "body"}),
    OperationKind.PASSWORD_RESET_ASSIGN_ROLE: frozenset({"tenantId", "role", "body"}),
}
