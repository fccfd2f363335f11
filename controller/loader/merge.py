"""One tenant file and its profiles -> the effective tenant document, with where every part
came from.

The merge works on the files' data, before the models see it, so that a tenant may declare
only the fields it changes on an object a profile declares (a partial object would not be a
valid model on its own). The rules (README, "Profiles"):

* Profiles apply in order. Objects are matched by their natural key, as the planner matches
  them: users by ``userPrincipalName``, groups by ``mailNickname``, distribution groups and
  shared mailboxes by ``primarySmtpAddress`` (all case-insensitively), checks by name, policy
  rules by operation kind, guards by name; ``consent`` and ``exchange`` are single values;
  ``existingPrincipals`` is the union of all lists.
* The tenant overrides a profile's object field by field by declaring the same object. An
  object whose effective ``ensure`` is ``absent`` keeps only its key: it is deleted.
* Two profiles may declare the same object; a field both declare with different values is a
  conflict, an error naming both places, unless the tenant declares that field itself.

The result keeps the tenant's own objects where the tenant file has them (so their locations
need no translation) and appends the objects only profiles declare. :class:`MergedSource`
locates any value of the result in the file it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import Node

from controller.errors import Diagnostic
from controller.loader.source import Loc, SourceFile
from controller.loader.substitution import LocTuple

# Keyed lists of objects: the section, the key field, what an object of it is called.
KEYED_SECTIONS: dict[str, tuple[str, str]] = {
    "users": ("userPrincipalName", "user"),
    "groups": ("mailNickname", "group"),
    "distributionGroups": ("primarySmtpAddress", "distribution group"),
    "sharedMailboxes": ("primarySmtpAddress", "shared mailbox"),
}
# Fields that list addresses: provenance goes down to each item.
ADDRESS_LISTS = frozenset({"members", "fullAccess", "sendAs", "sendOnBehalf", "except"})
SCALARS = ("consent", "exchange")


def key_of(value: Any) -> str | None:
    """The matching key of a raw value: trimmed and lowercased; None when it is no string."""
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class Piece:
    """Where a part of the merged document was written: a file and a location in it."""

    source: SourceFile
    loc: LocTuple
    profile: str | None  # None: the tenant's own file


@dataclass(frozen=True)
class Conflict:
    """Two profiles declare one field of one object differently."""

    what: str  # "distribution group allstaff@contoso.com", "check mfa", "spec"
    field: str  # the field, as written ("members", "exchange", "kinds.user.create")
    first: Piece
    second: Piece


class ProfileSource(SourceFile):
    """A profile's data substituted for one tenant, located in the profile's file (the shape
    is the same, only strings differ)."""

    def __init__(self, original: SourceFile, data: Any, profile: str) -> None:
        super().__init__(original.path, data, original.text)
        self.original = original
        self.profile = profile

    @property
    def root(self) -> Node | None:
        return self.original.root


class MergedSource(SourceFile):
    """The merged document of one tenant, locating each value in the file it came from.

    Diagnostics about a value from a profile name the tenant too: the same profile line can
    be wrong for one tenant and right for another.
    """

    def __init__(self, tenant: SourceFile, data: Any, origins: dict[LocTuple, Piece]) -> None:
        super().__init__(tenant.path, data, None)
        self.tenant = tenant
        self.origins = origins
        name = data.get("metadata", {}).get("name") if isinstance(data, dict) else None
        self.tenant_name = name if isinstance(name, str) else tenant.path

    def origin(self, loc: Loc) -> tuple[SourceFile, LocTuple, str | None]:
        """The file, the location in it, and the profile (None: the tenant's file)."""
        whole = tuple(loc)
        if not self.origins:  # a tenant without profiles: everything is its own
            return self.tenant, whole, None
        for end in range(len(whole), 0, -1):
            piece = self.origins.get(whole[:end])
            if piece is not None:
                return piece.source, (*piece.loc, *whole[end:]), piece.profile
        return self.tenant, whole, None

    def locate(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        source, there, _ = self.origin(loc)
        return source.locate(there, key=key)

    def path_text(self, loc: Loc) -> str:
        source, there, _ = self.origin(loc)
        return source.path_text(there)

    def where(self, loc: Loc) -> str:
        source, there, _ = self.origin(loc)
        return source.where(there)

    def diagnostic(self, loc: Loc, message: str, *, key: bool = False) -> Diagnostic:
        source, there, profile = self.origin(loc)
        if profile is not None:
            message += f" (profile {profile}, in tenant {self.tenant_name})"
        return source.diagnostic(there, message, key=key)


@dataclass
class Merged:
    source: MergedSource
    conflicts: list[Conflict] = field(default_factory=list)


class _Fields:
    """The fields of one mapping being merged: each value with the place it came from, and
    the fields two profiles declare differently (until the tenant declares them)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[Any, Piece]] = {}
        self.conflicts: dict[str, tuple[Piece, Piece]] = {}

    def from_profile(self, name: str, value: Any, piece: Piece, *, compare: bool = True) -> None:
        seen = self.values.get(name)
        if seen is None:
            self.values[name] = (value, piece)
        elif compare and not _same(seen[0], value) and name not in self.conflicts:
            self.conflicts[name] = (seen[1], piece)

    def from_tenant(self, name: str, value: Any) -> None:
        self.values[name] = (value, _TENANT)
        self.conflicts.pop(name, None)


# Where the tenant's own fields are recorded as coming from: no origin entry is needed for
# them, the tenant's objects stay where the tenant file has them.
_TENANT = Piece(SourceFile("", None), (), None)


def _written(piece: Piece, *below: str | int) -> Any:
    """A value as the profile's file spells it (placeholders not substituted)."""
    source = piece.source
    value = source.original.data if isinstance(source, ProfileSource) else source.data
    for step in (*piece.loc, *below):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            value = None
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal as declarations: lists of addresses or names in any order and case."""
    if isinstance(a, list) and isinstance(b, list):
        if all(isinstance(x, str) for x in (*a, *b)):
            return {x.strip().lower() for x in a} == {x.strip().lower() for x in b}
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return bool(a == b) and type(a) is type(b)


def merge_tenant(tenant: SourceFile, profiles: Sequence[ProfileSource]) -> Merged:
    """The tenant's document with ``profiles`` applied in order (see the module docstring).

    ``tenant.data`` must be a mapping; its ``spec`` is merged only when it is a mapping too
    (otherwise the model reports it, and the profiles wait).
    """
    data: dict[str, Any] = dict(tenant.data)
    origins: dict[LocTuple, Piece] = {}
    merged = Merged(MergedSource(tenant, data, origins))
    if not isinstance(data.get("spec", {}), dict):
        return merged
    spec: dict[str, Any] = dict(data.get("spec") or {})
    data["spec"] = spec
    declared = [p for p in profiles if isinstance(p.data.get("spec"), dict)]

    # consent, exchange: single values of the spec itself.
    scalars = _Fields()
    for profile, at, block in _mappings(declared):
        for name in SCALARS:
            if block.get(name) is not None:
                scalars.from_profile(
                    name, block[name], Piece(profile, (*at, name), profile.profile)
                )
    for name in SCALARS:
        if name in spec:
            scalars.from_tenant(name, spec[name])
    for name, (value, piece) in scalars.values.items():
        if piece.profile is not None:
            spec[name] = value
            origins[("spec", name)] = piece
    merged.conflicts += _conflicts("the tenant's spec", scalars)

    _merge_union(spec, "existingPrincipals", declared, origins)
    for section, (key_field, what) in KEYED_SECTIONS.items():
        if any(section in p.data["spec"] for p in declared):
            merged.conflicts += _merge_objects(
                spec, section, key_field=key_field, what=what, profiles=declared, origins=origins
            )
    checks = _mappings(declared, "checks")
    if checks and isinstance(spec.get("checks", {}), dict):
        result = spec["checks"] = dict(spec.get("checks") or {})
        for name in dict.fromkeys(name for _, _, block in checks for name in block):
            blocks = _mappings(declared, "checks", name)
            merged.conflicts += _merge_mapping(result, name, f"check {name}", blocks, origins)
    for part in ("kinds", "guards"):
        blocks = _mappings(declared, "policy", part)
        if blocks and isinstance(spec.get("policy", {}), dict):
            policy = spec["policy"] = dict(spec.get("policy") or {})
            merged.conflicts += _merge_mapping(policy, part, f"policy {part}", blocks, origins)
    return merged


def _mappings(
    profiles: Sequence[ProfileSource], *path: str
) -> list[tuple[ProfileSource, LocTuple, dict[str, Any]]]:
    """Each profile's mapping at ``spec.<path>``, with its location; profiles that have none
    there are left out."""
    found: list[tuple[ProfileSource, LocTuple, dict[str, Any]]] = []
    for profile in profiles:
        block: Any = profile.data.get("spec")
        for step in path:
            block = block.get(step) if isinstance(block, dict) else None
        if isinstance(block, dict):
            found.append((profile, ("spec", *path), block))
    return found


def _conflicts(what: str, fields: _Fields) -> list[Conflict]:
    return [
        Conflict(what, name, first, second) for name, (first, second) in fields.conflicts.items()
    ]


def _merge_union(
    spec: dict[str, Any],
    section: str,
    profiles: Sequence[ProfileSource],
    origins: dict[LocTuple, Piece],
) -> None:
    """A list of addresses: the tenant's, then each profile's that is not listed yet."""
    own = spec.get(section)
    if own is not None and not isinstance(own, list):
        return
    listed = list(own or ())
    seen = {key_of(v) for v in listed}
    for profile in profiles:
        values = profile.data["spec"].get(section)
        for i, value in enumerate(values if isinstance(values, list) else ()):
            if key_of(value) not in seen:
                seen.add(key_of(value))
                origins[("spec", section, len(listed))] = Piece(
                    profile, ("spec", section, i), profile.profile
                )
                listed.append(value)
    if len(listed) > len(own or ()):
        spec[section] = listed


def _merge_objects(
    spec: dict[str, Any],
    section: str,
    *,
    key_field: str,
    what: str,
    profiles: Sequence[ProfileSource],
    origins: dict[LocTuple, Piece],
) -> list[Conflict]:
    """A keyed list of objects: what the profiles declare, by key, in the order first
    declared; the tenant's own objects override theirs in place; the rest is appended."""
    objects: dict[str, tuple[_Fields, Piece]] = {}
    for profile in profiles:
        declared = profile.data["spec"].get(section)
        for j, obj in enumerate(declared if isinstance(declared, list) else ()):
            key = key_of(obj.get(key_field)) if isinstance(obj, dict) else None
            if key is None:  # the profile's own validation reported it
                continue
            at = Piece(profile, ("spec", section, j), profile.profile)
            fields, _ = objects.setdefault(key, (_Fields(), at))
            for name, value in obj.items():
                piece = Piece(profile, (*at.loc, name), profile.profile)
                fields.from_profile(name, value, piece, compare=name != key_field)

    own = spec.get(section)
    if own is not None and not isinstance(own, list):
        return []  # the model reports it
    result = list(own or ())
    conflicts: list[Conflict] = []
    taken: set[str] = set()
    for i, obj in enumerate(result):
        key = key_of(obj.get(key_field)) if isinstance(obj, dict) else None
        if key is None or key not in objects or key in taken:
            continue  # the tenant's own object (or its duplicate, which crossref reports)
        taken.add(key)
        fields, at = objects[key]
        for name, value in obj.items():
            fields.from_tenant(name, value)
        result[i] = _effective(fields, key_field, ("spec", section, i), origins)
        if result[i].get("ensure") != "absent":
            conflicts += _conflicts(f"{what} {_written(at, key_field)}", fields)
    for key, (fields, at) in objects.items():
        if key not in taken:
            loc = ("spec", section, len(result))
            origins[loc] = at
            result.append(_effective(fields, key_field, loc, origins))
            if result[-1].get("ensure") != "absent":
                conflicts += _conflicts(f"{what} {_written(at, key_field)}", fields)
    spec[section] = result
    return conflicts


def _merge_mapping(
    parent: dict[str, Any],
    name: str,
    what: str,
    blocks: Sequence[tuple[ProfileSource, LocTuple, dict[str, Any]]],
    origins: dict[LocTuple, Piece],
) -> list[Conflict]:
    """One mapping merged field by field (a check, ``policy.kinds``, ``policy.guards``):
    the profiles' fields in order, then the tenant's own."""
    own = parent.get(name)
    if own is not None and not isinstance(own, dict):
        return []  # the model reports it
    fields = _Fields()
    for profile, at, block in blocks:
        for field_name, value in block.items():
            fields.from_profile(
                field_name, value, Piece(profile, (*at, field_name), profile.profile)
            )
    for field_name, value in (own or {}).items():
        fields.from_tenant(field_name, value)
    loc = blocks[0][1]  # the same place in the tenant's document as in the profile's
    if own is None:
        first, at, _ = blocks[0]
        origins[loc] = Piece(first, at, first.profile)
    parent[name] = _effective(fields, None, loc, origins)
    return _conflicts(what, fields)


def _effective(
    fields: _Fields, key_field: str | None, loc: LocTuple, origins: dict[LocTuple, Piece]
) -> dict[str, Any]:
    """One merged object, the origins of the fields that came from profiles recorded. An
    absent object keeps only its key and ``ensure``: the rest would describe what is being
    deleted (an absent check is no check)."""
    values = fields.values
    if values.get("ensure", (None,))[0] == "absent":
        values = {name: values[name] for name in (key_field, "ensure") if name in values}
    for name, (_, piece) in values.items():
        if piece.profile is not None:
            origins[(*loc, name)] = piece
    return {name: value for name, (value, _) in values.items()}
