"""``import --omit-profile-objects``: leave out of the file what the tenant's profiles
already declare as the tenant has it. Pure: no I/O.

An imported object is left out when the tenant's enforce-mode profiles declare it (by its
key) and every field they declare has the value the import found: the profile then plans no
change for it. Any other object is written whole; as the tenant's own declaration it
overrides the profile's field by field, so ``plan`` right after still reports no change for
it. Comments placed on the objects that stay follow them to their new places.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from controller.importer._types import Loc, TenantImport
from controller.models import DistributionGroup, Group, SharedMailbox, User
from controller.models.common import unset

_MODELS: dict[str, tuple[str, type[BaseModel]]] = {
    "users": ("users", User),
    "groups": ("groups", Group),
    "distributionGroups": ("distribution_groups", DistributionGroup),
    "sharedMailboxes": ("shared_mailboxes", SharedMailbox),
}
_KEYS = {
    "users": "user_principal_name",
    "groups": "mail_nickname",
    "distributionGroups": "primary_smtp_address",
    "sharedMailboxes": "primary_smtp_address",
}


def omit_profile_objects(
    imported: TenantImport, declared: Mapping[str, Mapping[str, Any]]
) -> TenantImport:
    """``imported`` without the objects ``declared`` (section -> key -> the profiles' fields)
    already describes; a note names how many were left out."""
    spec = imported.config.spec
    update: dict[str, list[BaseModel]] = {}
    moved: dict[Loc, Loc | None] = {}
    left_out: list[str] = []
    for section, (attr, model) in _MODELS.items():
        objects = getattr(spec, attr)
        kept: list[BaseModel] = []
        for i, obj in enumerate(objects):
            key = str(getattr(obj, _KEYS[section])).lower()
            if _same(obj, declared.get(section, {}).get(key), model, _KEYS[section]):
                moved[("spec", section, i)] = None
                left_out.append(key)
            else:
                moved[("spec", section, i)] = ("spec", section, len(kept))
                kept.append(obj)
        if len(kept) != len(objects):
            update[attr] = kept
    if not left_out:
        return imported
    kept_spec = spec.model_copy(update=update)
    # A section left empty is not written, as the import does.
    unset(kept_spec, *(attr for attr, kept in update.items() if not kept))
    config = imported.config.model_copy(update={"spec": kept_spec})
    comments: dict[Loc, tuple[str, ...]] = {}
    for loc, lines in imported.comments.items():
        target = _moved(loc, moved)
        if target is not None:
            comments[target] = lines
    note = (
        f"{len(left_out)} object(s) left out: the tenant's profiles declare them as they are "
        f"({', '.join(sorted(left_out))})"
    )
    return TenantImport(config, imported.header, comments, (*imported.notes, note))


def _same(obj: BaseModel, fields: Any, model: type[BaseModel], key: str) -> bool:
    """Does the profiles' declaration plan no change for what the import found? (The keys
    matched already, whatever their case.)"""
    if not isinstance(fields, Mapping):
        return False
    try:
        profile = model.model_validate(fields)
    except ValidationError:
        return False
    return all(
        _normal(getattr(profile, name)) == _normal(getattr(obj, name))
        for name in profile.model_fields_set - {key}
    )


def _normal(value: Any) -> Any:
    if isinstance(value, list):
        return sorted({str(v).strip().lower() for v in value})
    if isinstance(value, str):
        return value.strip()
    return value


def _moved(loc: Loc, moved: Mapping[Loc, Loc | None]) -> Loc | None:
    """Where a comment's place is now: its object's new index, or None when it is gone."""
    if len(loc) >= 3 and loc[:3] in moved:
        target = moved[loc[:3]]
        return None if target is None else (*target, *loc[3:])
    return loc
