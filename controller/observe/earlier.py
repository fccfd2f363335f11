"""Creates an earlier apply called and never saw answered (the journal's interrupted intents,
passed in by the run as :class:`~controller.models.observed.EarlierCreate` values): each is
looked up directly by its natural key, so the planner can tell "not created" from "created, not
listed yet" (Entra lists and lookups lag a create by the directory's replication).

Users and Entra groups are looked up in Graph (by UPN, by mailNickname); distribution groups
and shared mailboxes are read from Exchange itself when the tenant is observed, so its lists
are the lookup. A lookup that fails leaves ``found`` unknown (None): the planner then keeps
waiting rather than create again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from controller.connectors import Connections
from controller.errors import TenantctlError
from controller.models import OperationKind
from controller.models.observed import EarlierCreate, ObservedTenant, Unknown

__all__ = ["look_up_earlier_creates"]


async def look_up_earlier_creates(
    connections: Connections, observed: ObservedTenant, earlier: Sequence[EarlierCreate]
) -> ObservedTenant:
    """``observed`` with ``earlier`` attached, each saying whether its object was found."""
    if not earlier:
        return observed
    looked = [dataclasses.replace(e, found=await _found(connections, observed, e)) for e in earlier]
    return dataclasses.replace(observed, earlier_creates=tuple(looked))


async def _found(
    connections: Connections, observed: ObservedTenant, earlier: EarlierCreate
) -> bool | None:
    listed = _listed(observed, earlier)
    if listed or earlier.kind not in (OperationKind.USER_CREATE, OperationKind.GROUP_CREATE):
        return listed
    graph = connections.graph(observed.tenant_id)
    try:
        if earlier.kind == OperationKind.USER_CREATE:
            return await graph.find_user(earlier.key) is not None
        return bool(await graph.find_groups(earlier.key))
    except TenantctlError:
        return None  # not known: the planner waits


def _listed(observed: ObservedTenant, earlier: EarlierCreate) -> bool | None:
    """Whether the object is in the lists observe read (None: that list was not read)."""
    objects: object
    if earlier.kind == OperationKind.USER_CREATE:
        objects = observed.users
    elif earlier.kind == OperationKind.GROUP_CREATE:
        objects = observed.groups
    elif earlier.kind == OperationKind.DISTRIBUTION_GROUP_CREATE:
        objects = observed.distribution_groups
    else:
        objects = observed.shared_mailboxes
    if isinstance(objects, Unknown) or not isinstance(objects, tuple):
        return None
    return any(earlier.key == _key(o) for o in objects)


def _key(obj: object) -> str:
    for name in ("user_principal_name", "mail_nickname", "primary_smtp_address"):
        value = getattr(obj, name, None)
        if isinstance(value, str):
            return value.lower()
    return ""
