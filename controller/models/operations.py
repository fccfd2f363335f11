"""The closed vocabulary of operations a plan can hold, and the policy decisions on them.

It lives with the models because policy rules in ``msp.yaml`` and tenant files name these
kinds, and the loader validates those names before anything is planned.
"""

from __future__ import annotations

import fnmatch
from enum import StrEnum


class OperationKind(StrEnum):
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_ENABLE = "user.enable"
    USER_DISABLE = "user.disable"
    USER_DELETE = "user.delete"
    USER_ASSIGN_LICENSES = "user.assignLicenses"
    USER_REMOVE_LICENSES = "user.removeLicenses"
    USER_RESET_PASSWORD = "user.resetPassword"
    GROUP_CREATE = "group.create"
    GROUP_UPDATE = "group.update"
    GROUP_DELETE = "group.delete"
    GROUP_ADD_MEMBER = "group.addMember"
    GROUP_REMOVE_MEMBER = "group.removeMember"
    DISTRIBUTION_GROUP_CREATE = "distributionGroup.create"
    DISTRIBUTION_GROUP_UPDATE = "distributionGroup.update"
    DISTRIBUTION_GROUP_DELETE = "distributionGroup.delete"
    DISTRIBUTION_GROUP_ADD_MEMBER = "distributionGroup.addMember"
    DISTRIBUTION_GROUP_REMOVE_MEMBER = "distributionGroup.removeMember"
    SHARED_MAILBOX_CREATE = "sharedMailbox.create"
    SHARED_MAILBOX_UPDATE = "sharedMailbox.update"
    SHARED_MAILBOX_DELETE = "sharedMailbox.delete"
    MAILBOX_PERMISSION_ADD = "mailboxPermission.add"
    MAILBOX_PERMISSION_REMOVE = "mailboxPermission.remove"
    CONSENT_GRANT = "consent.grant"
    EXCHANGE_ASSIGN_ROLE = "exchange.assignRole"
    PASSWORD_RESET_ASSIGN_ROLE = "passwordReset.assignRole"


DELETIONS = frozenset(
    {
        OperationKind.USER_DELETE,
        OperationKind.GROUP_DELETE,
        OperationKind.DISTRIBUTION_GROUP_DELETE,
        OperationKind.SHARED_MAILBOX_DELETE,
    }
)
DISABLES = frozenset({OperationKind.USER_DISABLE})
# Distribution groups, shared mailboxes and their permissions: what goes through Exchange's
# route for the tenant (Exchange admin REST or CIPP).
EXCHANGE_KINDS = frozenset(
    {
        OperationKind.DISTRIBUTION_GROUP_CREATE,
        OperationKind.DISTRIBUTION_GROUP_UPDATE,
        OperationKind.DISTRIBUTION_GROUP_DELETE,
        OperationKind.DISTRIBUTION_GROUP_ADD_MEMBER,
        OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER,
        OperationKind.SHARED_MAILBOX_CREATE,
        OperationKind.SHARED_MAILBOX_UPDATE,
        OperationKind.SHARED_MAILBOX_DELETE,
        OperationKind.MAILBOX_PERMISSION_ADD,
        OperationKind.MAILBOX_PERMISSION_REMOVE,
    }
)
MEMBER_REMOVALS = frozenset(
    {
        OperationKind.GROUP_REMOVE_MEMBER,
        OperationKind.DISTRIBUTION_GROUP_REMOVE_MEMBER,
        OperationKind.MAILBOX_PERMISSION_REMOVE,
    }
)


class MailboxRight(StrEnum):
    """A shared mailbox permission, named as Exchange names the access right."""

    FULL_ACCESS = "FullAccess"
    SEND_AS = "SendAs"
    SEND_ON_BEHALF = "SendOnBehalf"


class Decision(StrEnum):
    ALLOW = "allow"
    APPROVE = "approve"
    DENY = "deny"


def kinds_matching(pattern: str) -> list[OperationKind]:
    """The operation kinds a policy key names: an exact kind, or a glob such as ``group.*``."""
    return [kind for kind in OperationKind if fnmatch.fnmatchcase(kind.value, pattern)]
