"""The application permissions (app roles in the token) that Graph accepts per kind of access,
and the directory roles some writes need on top.

A handler calls ``call.require(*READ_USERS)``: any one of the roles is enough, else 403
``Authorization_RequestDenied``. Sets shared by several resources live here; a permission only
one endpoint knows is written at that endpoint.
"""

from controller.sandbox._catalog import DIRECTORY_ROLES

READ_USERS = (
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
WRITE_USERS = ("User.ReadWrite.All", "Directory.ReadWrite.All")
READ_GROUPS = (
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
WRITE_GROUPS = ("Group.ReadWrite.All", "Directory.ReadWrite.All")
WRITE_MEMBERS = ("Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.ReadWrite.All")
READ_DIRECTORY = ("Directory.Read.All", "Directory.ReadWrite.All", "Organization.Read.All")
READ_APPS = (
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
READ_ROLES = (
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
# passwordProfile app-only: User-PasswordProfile.ReadWrite.All is the least privileged, and
# User.ReadWrite.All or Directory.ReadWrite.All also do (api-reference/v1.0/resources/user.md).
PASSWORD_ROLES = (
    "User-PasswordProfile.ReadWrite.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
)

# Directory roles (template ids) an app's service principal needs to reset the password of a
# user without a directory role (at least User Administrator), and of one with a role
# (Privileged Authentication Administrator); Global Administrator can do both.
_GLOBAL_ADMINISTRATOR = DIRECTORY_ROLES["Global Administrator"]
_PRIVILEGED_AUTHENTICATION_ADMINISTRATOR = DIRECTORY_ROLES[
    "Privileged Authentication Administrator"
]
RESETS_USERS = (
    DIRECTORY_ROLES["User Administrator"],
    _PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    _GLOBAL_ADMINISTRATOR,
)
RESETS_ADMINISTRATORS = (_PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, _GLOBAL_ADMINISTRATOR)
