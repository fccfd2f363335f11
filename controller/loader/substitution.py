"""Tenant facts in a profile's strings: ``helpdesk@${tenant.primaryDomain}``.

A profile is written once for many tenants; the few facts that differ between them (see
:data:`~controller.models.PLACEHOLDERS`) are named as ``${tenant.<fact>}`` in any string of its
``spec`` and substituted per tenant before the tenant is validated. The syntax is small on
purpose, and every departure from it is an error at its location, never literal text:

* ``${`` always opens a placeholder, which must be one of the known facts and end with ``}``;
* there is no escape: ``$$`` is an error (other tools read it as an escaped ``$``, tenantctl
  would not, so it refuses to guess); a ``$`` followed by anything else is just a ``$``.

Keys are never substituted, only values.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from controller.models import PLACEHOLDERS

LocTuple = tuple[str | int, ...]

_KNOWN = ", ".join(f"${{{name}}}" for name in PLACEHOLDERS)

# Facts used to validate a profile on its own, before any tenant takes it: well-formed values
# of each kind, so that the models judge the text around the placeholders.
SAMPLE_FACTS: dict[str, str | None] = {
    "tenant.name": "tenant",
    "tenant.displayName": "Tenant",
    "tenant.primaryDomain": "example.com",
    "tenant.tenantId": "00000000-0000-4000-8000-000000000000",
}


@dataclass(frozen=True)
class Placeholder:
    name: str  # e.g. tenant.primaryDomain


@dataclass(frozen=True)
class Template:
    """A string of a profile that names tenant facts: its text and placeholders in order."""

    parts: tuple[str | Placeholder, ...]

    def names(self) -> list[str]:
        return [p.name for p in self.parts if isinstance(p, Placeholder)]

    def render(self, facts: Mapping[str, str | None]) -> str:
        """The string for one tenant; every fact it names must be known (not None)."""
        out = []
        for part in self.parts:
            if isinstance(part, Placeholder):
                value = facts[part.name]
                assert value is not None, part.name
                out.append(value)
            else:
                out.append(part)
        return "".join(out)


class TemplateError(ValueError):
    """A string that does not follow the placeholder syntax; the message says how."""


def parse_template(text: str) -> Template | None:
    """The placeholders in ``text``; None when it holds none (it is used as written).

    Raises :class:`TemplateError` on an unknown placeholder, an unclosed ``${`` or ``$$``.
    """
    if "$" not in text:
        return None
    parts: list[str | Placeholder] = []
    start = 0
    at = text.find("$")
    while at >= 0:
        after = text[at + 1 : at + 2]
        if after == "$":
            raise TemplateError(
                f"'$$' is not an escape here: a profile's strings substitute only {_KNOWN}, "
                "and have no escape for '$'; remove the doubled '$'"
            )
        if after != "{":
            at = text.find("$", at + 1)
            continue
        end = text.find("}", at)
        if end < 0:
            raise TemplateError(f"'${{' opens a placeholder that no '}}' closes; known: {_KNOWN}")
        name = text[at + 2 : end]
        if name not in PLACEHOLDERS:
            close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
            hint = f"; did you mean ${{{close[0]}}}?" if close else ""
            raise TemplateError(
                f"unknown placeholder ${{{name}}}{hint} (a profile may use {_KNOWN}; "
                "there is no escape for '${')"
            )
        if at > start:
            parts.append(text[start:at])
        parts.append(Placeholder(name))
        start = end + 1
        at = text.find("$", start)
    if start < len(text):
        parts.append(text[start:])
    if not any(isinstance(p, Placeholder) for p in parts):
        return None
    return Template(tuple(parts))


def templates_in(
    data: Any, loc: LocTuple = ()
) -> Iterator[tuple[LocTuple, Template | TemplateError]]:
    """Every string value in ``data`` that names a placeholder (or fails to), by location."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from templates_in(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from templates_in(value, (*loc, index))
    elif isinstance(data, str) and "$" in data:
        try:
            template = parse_template(data)
        except TemplateError as problem:
            yield loc, problem
        else:
            if template is not None:
                yield loc, template


def substitute(
    data: Any, templates: Mapping[LocTuple, Template], facts: Mapping[str, str | None]
) -> Any:
    """``data`` with every template rendered for ``facts``. Only the containers on the way to
    a template are copied; the rest is shared (and never modified by the loader)."""
    if not templates:
        return data
    tree: dict[Any, Any] = {}
    for loc, template in templates.items():
        node = tree
        for part in loc[:-1]:
            node = node.setdefault(part, {})
        node[loc[-1]] = template
    return _rebuild(data, tree, facts)


def _rebuild(data: Any, tree: dict[Any, Any], facts: Mapping[str, str | None]) -> Any:
    copy: Any
    if isinstance(data, dict):
        copy = dict(data)
    elif isinstance(data, list):
        copy = list(data)
    else:  # pragma: no cover - templates are found in this same data
        return data
    for part, below in tree.items():
        if isinstance(below, Template):
            copy[part] = below.render(facts)
        else:
            copy[part] = _rebuild(data[part], below, facts)
    return copy


def tenant_facts(data: Any) -> dict[str, str | None]:
    """The facts of a tenant file, from its raw data (the file is not validated yet).

    A fact the file spells wrongly takes its sample value: the tenant's own error is reported
    where it is, and the profiles are still checked. A tenant without a display name has
    None for it (a profile that names it is an error for that tenant).
    """
    metadata = data.get("metadata") if isinstance(data, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    facts = dict(SAMPLE_FACTS)

    def text(value: Any) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    name = text(metadata.get("name"))
    if name is not None:
        facts["tenant.name"] = name
    facts["tenant.displayName"] = text(metadata.get("displayName"))
    domains = metadata.get("domains")
    if isinstance(domains, list) and domains and text(domains[0]) is not None:
        facts["tenant.primaryDomain"] = text(domains[0])
    tenant_id = text(metadata.get("tenantId"))
    if tenant_id is not None:
        facts["tenant.tenantId"] = tenant_id.lower()
    return facts
