"""Members of groups as Graph lists them (``/groups/{id}/members``), and as CIPP passes Graph's
answer through (``ListGroups?members=true``): directory objects -> :class:`Principal`.

Pure: plain dicts in, observed values out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from controller.models.observed import Principal

_ODATA_KINDS = {
    "#microsoft.graph.user": "user",
    "#microsoft.graph.group": "group",
    "#microsoft.graph.servicePrincipal": "servicePrincipal",
    "#microsoft.graph.device": "device",
    "#microsoft.graph.orgContact": "other",
}


def text(value: Any) -> str | None:
    """A value as stripped text; None when absent or blank. Interned: the members of a
    tenant's groups name its users again, and many groups name the same ones."""
    if value is None:
        return None
    stripped = str(value).strip()
    return sys.intern(stripped) if stripped else None


def graph_principal(item: Mapping[str, Any]) -> Principal:
    kind = _ODATA_KINDS.get(str(item.get("@odata.type", "")), "user")
    address = text(item.get("userPrincipalName")) or text(item.get("mail"))
    return Principal(sys.intern(str(item["id"])), address, text(item.get("displayName")), kind)


def graph_principals(items: Iterable[Mapping[str, Any]]) -> tuple[Principal, ...]:
    """Sorted by address (then id), so the same members read the same way every run."""
    return sorted_principals(graph_principal(i) for i in items)


def sorted_principals(found: Iterable[Principal]) -> tuple[Principal, ...]:
    return tuple(sorted(found, key=lambda p: (p.key or "", p.id)))
