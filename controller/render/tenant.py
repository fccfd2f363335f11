"""The effective tenant: a tenant file with its profiles applied, as the planner sees it, each
object and field commented with the file and line it came from (``tenantctl render``).

Pure: a function of the loaded :class:`~controller.models.DesiredState` to a string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controller.models import AppliedProfile, DesiredState, Provenance, Source
from controller.models.provenance import Path
from controller.render.yaml_text import Loc, comment_lines, mapping_lines

# Sections of keyed objects and the field that names each (lowercased, as provenance does).
_KEYS = {
    "users": "userPrincipalName",
    "groups": "mailNickname",
    "distributionGroups": "primarySmtpAddress",
    "sharedMailboxes": "primarySmtpAddress",
}


def render_effective_tenant(state: DesiredState, name: str) -> str:
    """The tenant ``name`` after its enforce-mode profiles (raises KeyError if unknown)."""
    tenant = state.tenant(name)
    data = tenant.model_dump(mode="json", by_alias=True, exclude_unset=True)
    provenance = state.provenance.get(name)
    comments = _comments(data.get("spec", {}), provenance) if provenance else {}
    applied = state.applied.get(name, ())
    header = [
        f"The effective tenant {name}: {state.sources.get(name, 'its file')} with its profiles "
        "applied, as the planner sees it (tenantctl render). "
        + _profiles_text(applied)
        + " Each object says where it was declared, and so does a field declared in another "
        "file than its object.",
    ]
    report = [p.name for p in applied if p.mode == "report"]
    if report:
        header.append(
            f"Not applied (report mode, compared only): {', '.join(report)}. Their differences "
            "are findings of the plan."
        )
    lines = [line for paragraph in header for line in comment_lines(paragraph)]
    return "\n".join([*lines, *mapping_lines(data, comments)]) + "\n"


def _profiles_text(applied: tuple[AppliedProfile, ...]) -> str:
    if not applied:
        return "It takes no profile."
    shown = [
        f"{p.name} ({p.path}, {p.mode}, {'selected by label' if p.selected else 'named'})"
        for p in applied
    ]
    return f"Profiles, in the order they apply: {', '.join(shown)}."


def _comments(spec: dict[str, Any], provenance: Provenance) -> dict[Loc, list[str]]:
    """A source comment above every object, and above each field declared elsewhere than its
    object."""
    comments: dict[Loc, list[str]] = {}

    def place(loc: Loc, path: Path, within: Source | None) -> Source | None:
        """Comment ``loc`` with its source, unless it comes from the file ``within`` does."""
        source = provenance.find(path)
        if source is not None and (within is None or source.file != within.file):
            comments[loc] = [_shown(source)]
        return source

    for name in ("consent", "exchange"):
        if name in spec:
            place(("spec", name), (name,), None)
    listed = {
        provenance.find(("existingPrincipals", a.lower()))
        for a in spec.get("existingPrincipals", ())
    }
    if listed:
        comments[("spec", "existingPrincipals")] = [
            "; ".join(sorted(_shown(s) for s in listed if s is not None))
        ]
    for section, key_field in _KEYS.items():
        for i, obj in enumerate(spec.get(section, ())):
            path = (section, str(obj[key_field]).lower())
            _object(place, ("spec", section, i), path, obj)
    for check, obj in spec.get("checks", {}).items():
        _object(place, ("spec", "checks", check), ("checks", check), obj)
    for part, rules in spec.get("policy", {}).items():
        for rule in rules if isinstance(rules, dict) else ():
            place(("spec", "policy", part, rule), ("policy", part, rule), None)
    for i, action in enumerate(spec.get("actions", ())):
        place(("spec", "actions", i), ("actions", action["id"]), None)
    return comments


Place = Callable[[Loc, Path, Source | None], Source | None]


def _object(place: Place, loc: Loc, path: Path, obj: dict[str, Any]) -> None:
    source = place(loc, path, None)
    for field in obj:
        place((*loc, field), (*path, field), source)


def _shown(source: Source) -> str:
    return f"{source} (profile {source.profile})" if source.profile else str(source)
