"""``import --force`` keeps a person's comments: a comment follows its object (known by its
identifying field, not its position), a comment at the end of a line follows its key, and
where import writes its own note, the note wins. Pure text in, text out."""

from __future__ import annotations

from controller.importer._comments import carry_comments

OLD = """\
# header import rewrites
apiVersion: tenantctl/v1
spec:
  # who may be an admin here: see ticket 12
  existingPrincipals:
    - admin@contoso.onmicrosoft.com   # the customer's own admin
  users:
    # the boss
    - userPrincipalName: bob@contoso.com
      jobTitle: CEO   # "Chief" in the portal
    - userPrincipalName: alice@contoso.com
  groups:
    # a person's note
    - mailNickname: sales
"""

NEW = """\
# header written by import
apiVersion: tenantctl/v1
spec:
  existingPrincipals: [admin@contoso.onmicrosoft.com]
  users:
    - userPrincipalName: alice@contoso.com
    - userPrincipalName: bob@contoso.com
      jobTitle: CEO
  groups:
    # not listed: 1 member(s) without an address, left alone: laptop-7 (device)
    - mailNickname: sales
"""


def test_comments_follow_their_objects() -> None:
    assert (
        carry_comments(OLD, NEW)
        == """\
# header written by import
apiVersion: tenantctl/v1
spec:
  # who may be an admin here: see ticket 12
  existingPrincipals: [admin@contoso.onmicrosoft.com]  # the customer's own admin
  users:
    - userPrincipalName: alice@contoso.com
    # the boss
    - userPrincipalName: bob@contoso.com
      jobTitle: CEO  # "Chief" in the portal
  groups:
    # not listed: 1 member(s) without an address, left alone: laptop-7 (device)
    - mailNickname: sales
"""
    )


def test_nothing_to_carry() -> None:
    assert carry_comments("", NEW) == NEW
    assert carry_comments("key: [unclosed\n", NEW) == NEW
    assert carry_comments(NEW, NEW) == NEW
