"""Normalisation before comparison: equal in substance is no change.

False drift is the top complaint about drift tools, so every comparison the planner makes goes
through one of these. Each says which difference it forgives and why.
"""

from __future__ import annotations

from collections.abc import Iterable


def key(address: str) -> str:
    """Matching key of a UPN, SMTP address, mailNickname or skuPartNumber: Entra and Exchange
    compare all of these case-insensitively."""
    return address.strip().lower()


def keys(addresses: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated keys: list order and repeated entries carry no meaning."""
    return sorted({key(a) for a in addresses})


def text(value: str | None) -> str | None:
    """A free-text attribute (display name, job title...) as compared.

    Surrounding and repeated whitespace is forgiven, and Graph answers an attribute that was
    cleared with either ``null`` or ``""``: both mean "not set". Case is *not* forgiven: a
    display name fixed from "alice smith" to "Alice Smith" is a real change.
    """
    if value is None:
        return None
    collapsed = " ".join(value.split())
    return collapsed or None


def country(value: str | None) -> str | None:
    """ISO 3166 alpha-2 usage location; Graph stores what it is given, in either case."""
    value = text(value)
    return value.upper() if value else None


def caseless(value: str | None) -> str | None:
    """An identifier compared case-insensitively (mailNickname, alias, Exchange name)."""
    value = text(value)
    return value.lower() if value else None
