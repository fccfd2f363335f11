"""The application permissions (app roles in the token) that Graph accepts per kind of access.

A handler calls ``call.require(*READ_USERS)``: any one of the roles is enough, else 403
``Authorization_RequestDenied``. Sets shared by several resources live here; a permission only
one endpoint knows is written at that endpoint.
"""

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
PASSWORD_ROLES = ("User-PasswordProfile.ReadWrite.All", "Directory.ReadWrite.All")
