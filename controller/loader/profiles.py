"""Profiles: ``desired/profiles/*.yaml``, checked on their own, then applied to each tenant.

A profile is validated once, with sample facts in its placeholders (so the models judge the
text around them), and again as part of every tenant that takes it, with that tenant's
facts. Errors in the second pass are located in the profile and name the tenant.

For each tenant: the profiles it names (``spec.profiles``, in order), then those whose
selector its labels match (by profile name); their strings substituted with its facts; merged
under its file (:mod:`controller.loader.merge`). Enforce-mode profiles make the tenant that is
planned; with report-mode profiles as well they make the tenant it is compared with.
Conflicts between profiles are reported once per pair of places, naming every tenant that
takes both.
"""

from __future__ import annotations

import difflib
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import PurePath
from typing import Any

from controller.errors import Diagnostic
from controller.loader.lines import LineIndex, line_index
from controller.loader.merge import (
    ADDRESS_LISTS,
    KEYED_SECTIONS,
    SCALARS,
    Conflict,
    MergedSource,
    ProfileSource,
    key_of,
    merge_tenant,
)
from controller.loader.shape import check_header, validate_model
from controller.loader.source import SourceFile, parse_yaml
from controller.loader.substitution import (
    SAMPLE_FACTS,
    LocTuple,
    Template,
    TemplateError,
    substitute,
    templates_in,
    tenant_facts,
)
from controller.models import AppliedProfile, DesiredState, ProfileConfig, ProfileFile, Source
from controller.models.provenance import EntriesOf, Origin
from controller.models.provenance import Path as ProvenancePath

PROFILES_DIR = "profiles"


@dataclass
class Profile:
    """A valid profile, ready to apply: its file, and the strings that name tenant facts."""

    file: ProfileFile
    templates: dict[LocTuple, Template]

    @classmethod
    def of(cls, file: ProfileFile) -> Profile:
        templates = {
            loc: found
            for loc, found in templates_in(file.data.get("spec"), ("spec",))
            if isinstance(found, Template)
        }
        return cls(file, templates)

    @cached_property
    def source(self) -> SourceFile:
        return SourceFile(self.file.path, self.file.data, self.file.text)

    @cached_property
    def lines(self) -> LineIndex:
        return line_index(self.file.text)

    def for_tenant(self, facts: Mapping[str, str | None]) -> ProfileSource:
        data = substitute(self.file.data, self.templates, facts)
        return ProfileSource(self.source, data, self.file.name)


# --- the profiles, on their own -------------------------------------------------------------


def read_profiles(
    sources: Sequence[SourceFile],
) -> tuple[dict[str, Profile], set[str], list[Diagnostic]]:
    """The valid profiles by name; the names of invalid ones (tenants that take them are not
    checked until they are fixed); every problem found, the files' YAML errors included."""
    valid: dict[str, Profile] = {}
    broken: set[str] = set()
    problems: list[Diagnostic] = []
    first_name: dict[str, SourceFile] = {}
    for source in sources:
        problems += [_explained(p) for p in source.diagnostics]
        if source.data is None and source.diagnostics:
            # Not YAML, so its name is unknown: tenants naming the file are not checked.
            broken.add(PurePath(source.path).stem)
            continue
        name = _raw_name(source.data)
        found = check_header(source, "Profile")
        if name is not None:
            earlier = first_name.setdefault(name, source)
            if earlier is not source:
                found.append(
                    source.diagnostic(
                        ["metadata", "name"],
                        f"duplicate profile name {name!r}: also declared at "
                        f"{earlier.where(['metadata', 'name'])} (metadata.name)",
                    )
                )
        if not found:
            profile, found = _check_profile(source)
            if profile is not None and name is not None and not found:
                valid[name] = profile
        problems += found
        if found and name is not None:
            broken.add(name)
    for name in broken:
        valid.pop(name, None)
    return valid, broken, problems


def _explained(problem: Diagnostic) -> Diagnostic:
    """YAML reads ``{`` and ``}`` as a mapping inside ``[...]`` and ``{...}``, so an unquoted
    placeholder there breaks the flow collection: say so where the parser stopped in one."""
    if "flow" in problem.message:
        hint = (
            "; inside [...] or {...} a string with a placeholder must be quoted: "
            '["helpdesk@${tenant.primaryDomain}"]'
        )
        return replace(problem, message=problem.message + hint)
    return problem


def _raw_name(data: Any) -> str | None:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def _check_profile(source: SourceFile) -> tuple[Profile | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    templates: dict[LocTuple, Template] = {}
    spec = source.data.get("spec")
    for loc, found in templates_in(spec, ("spec",)):
        if isinstance(found, TemplateError):
            problems.append(source.diagnostic(loc, str(found)))
        else:
            templates[loc] = found
    sample = ProfileSource(source, substitute(source.data, templates, SAMPLE_FACTS), "")
    config, invalid = validate_model(sample, ProfileConfig)
    # A broken placeholder is the one problem at its place, not also the text around it.
    placed = {(p.line, p.column) for p in problems}
    problems += [p for p in invalid if (p.line, p.column) not in placed]
    problems += _duplicates(source)
    if config is None or problems:
        return None, problems
    selector = config.selector
    file = ProfileFile(
        name=config.metadata.name,
        path=source.path,
        mode=config.mode,
        match_labels=dict(selector.match_labels) if selector is not None else None,
        text=source.text or "",
        data=source.data,
    )
    return Profile(file, templates), []


def _duplicates(source: SourceFile) -> list[Diagnostic]:
    """An object declared twice in one profile, compared as written (before substitution)."""
    problems = []
    spec = source.data.get("spec")
    for section, (key_field, what) in KEYED_SECTIONS.items():
        objects = spec.get(section) if isinstance(spec, dict) else None
        seen: dict[str, int] = {}
        for i, obj in enumerate(objects if isinstance(objects, list) else ()):
            key = key_of(obj.get(key_field)) if isinstance(obj, dict) else None
            if key is None:
                continue
            first = seen.setdefault(key, i)
            if first != i:
                loc: LocTuple = ("spec", section, first, key_field)
                problems.append(
                    source.diagnostic(
                        ("spec", section, i, key_field),
                        f"duplicate {what} {obj[key_field]!r} in this profile: also declared "
                        f"at {source.where(loc)} ({source.path_text(loc)})",
                    )
                )
    return problems


# --- which profiles a tenant takes ---------------------------------------------------------


@dataclass
class Chosen:
    profiles: list[Profile] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    broken: bool = False  # a profile it takes is invalid: the tenant is checked once it is fixed

    def applied(self, named: set[str]) -> tuple[AppliedProfile, ...]:
        return tuple(
            AppliedProfile(p.file.name, p.file.path, p.file.mode, selected=p.file.name not in named)
            for p in self.profiles
        )


def choose_profiles(source: SourceFile, valid: Mapping[str, Profile], broken: set[str]) -> Chosen:
    """The profiles a tenant file takes: named ones in its order, then selected ones by name."""
    chosen = Chosen()
    data = source.data
    spec = data.get("spec") if isinstance(data, dict) else None
    names = spec.get("profiles") if isinstance(spec, dict) else None
    taken: set[str] = set()
    for i, written in enumerate(names if isinstance(names, list) else ()):
        if not isinstance(written, str):
            continue  # the model reports it
        name = written.strip()
        loc: LocTuple = ("spec", "profiles", i)
        if name in taken:
            chosen.problems.append(source.diagnostic(loc, f"profile {name!r} is listed twice"))
        elif name in valid:
            chosen.profiles.append(valid[name])
        elif name in broken:
            chosen.broken = True
        else:
            chosen.problems.append(source.diagnostic(loc, _unknown(name, valid, broken)))
        taken.add(name)
    metadata = data.get("metadata") if isinstance(data, dict) else None
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    if isinstance(labels, dict):
        for name in sorted(valid):
            if name not in taken and valid[name].file.selects(labels):
                chosen.profiles.append(valid[name])
    return chosen


def _unknown(name: str, valid: Mapping[str, Profile], broken: set[str]) -> str:
    known = sorted({*valid, *broken})
    message = f"no profile named {name!r} in {PROFILES_DIR}/"
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return message + f"; did you mean {close[0]!r}?"
    return message + (f" (known: {', '.join(known)})" if known else " (there are none)")


# --- applying them --------------------------------------------------------------------------


@dataclass
class Applied:
    """One tenant with its profiles applied: the document that is planned (enforce-mode
    profiles), and the one it is compared with when some are in report mode."""

    enforced: MergedSource
    full: MergedSource | None  # None: no report-mode profile
    conflicts: list[Conflict]
    problems: list[Diagnostic]


def apply_profiles(source: SourceFile, profiles: Sequence[Profile]) -> Applied:
    facts = tenant_facts(source.data)
    problems = _missing_facts(source, profiles, facts)
    if problems:
        facts = {**facts, "tenant.displayName": SAMPLE_FACTS["tenant.displayName"]}
    substituted = [p.for_tenant(facts) for p in profiles]
    full = merge_tenant(source, substituted)
    if all(p.file.mode == "enforce" for p in profiles):
        return Applied(full.source, None, full.conflicts, problems)
    enforced = merge_tenant(
        source, [s for p, s in zip(profiles, substituted, strict=True) if p.file.mode == "enforce"]
    )
    return Applied(enforced.source, full.source, enforced.conflicts + full.conflicts, problems)


def _missing_facts(
    source: SourceFile, profiles: Sequence[Profile], facts: Mapping[str, str | None]
) -> list[Diagnostic]:
    problems = []
    for profile in profiles:
        for loc, template in profile.templates.items():
            for name in template.names():
                if facts[name] is None:
                    problems.append(
                        profile.source.diagnostic(
                            loc,
                            f"${{{name}}}: tenant {facts['tenant.name']} ({source.path}) has no "
                            "metadata.displayName; add one there, or do not name it here",
                        )
                    )
    return problems


def conflict_diagnostics(conflicts: Iterable[tuple[str, Conflict]]) -> list[Diagnostic]:
    """One error per pair of places two profiles disagree, naming the tenants that take both
    (``conflicts``: (tenant name, conflict))."""
    tenants: dict[tuple[str, LocTuple, str, LocTuple], tuple[Conflict, list[str]]] = {}
    for tenant, conflict in conflicts:
        key = (
            conflict.first.source.path,
            conflict.first.loc,
            conflict.second.source.path,
            conflict.second.loc,
        )
        _, names = tenants.setdefault(key, (conflict, []))
        if tenant not in names:
            names.append(tenant)
    problems = []
    for conflict, names in tenants.values():
        first, second = conflict.first, conflict.second
        shown = ", ".join(sorted(names)[:5]) + (
            f" and {len(names) - 5} more" if len(names) > 5 else ""
        )
        problems.append(
            second.source.diagnostic(
                second.loc,
                f"profiles {first.profile} and {second.profile} declare {conflict.field} of "
                f"{conflict.what} differently (also at {first.source.where(first.loc)}); "
                f"a tenant that takes both must declare {conflict.field} itself: {shown}",
            )
        )
    return problems


def profile_declarations(state: DesiredState, name: str) -> dict[str, dict[str, Any]]:
    """What the tenant's enforce-mode profiles declare for it (substituted, merged with one
    another, without the tenant's own file): by section, then by the objects' keys."""
    tenant = state.tenant(name)
    profiles = [
        Profile.of(state.profiles[p.name])
        for p in state.applied.get(name, ())
        if p.mode == "enforce" and p.name in state.profiles
    ]
    if not profiles:
        return {}
    metadata = tenant.metadata.model_dump(mode="json", by_alias=True, exclude_unset=True)
    bare = SourceFile(state.sources.get(name, name), {"metadata": metadata, "spec": {}})
    facts = tenant_facts(bare.data)
    spec = merge_tenant(bare, [p.for_tenant(facts) for p in profiles]).source.data["spec"]
    return {
        section: {
            str(key_of(obj.get(key_field))): obj
            for obj in spec.get(section, ())
            if isinstance(obj, dict) and key_of(obj.get(key_field))
        }
        for section, (key_field, _) in KEYED_SECTIONS.items()
        if section in spec
    }


# --- provenance ------------------------------------------------------------------------------


def provenance_entries(
    tenant_path: str,
    tenant_text: str,
    profiles: Sequence[Profile],
    *,
    enforced_only: bool,
    own_data: Callable[[], Any] | None = None,
) -> EntriesOf:
    """A function that works out where each object and field of a tenant came from, or only
    those of the paths it is given (and of the objects holding them: what
    :meth:`Provenance.find` looks at). Called only when a plan needs it: it merges the
    tenant's file with its profiles again (the same inputs give the same document), then
    reads lines. A tenant without profiles is not parsed again when ``own_data`` gives its
    document (the validated model, dumped as written).

    The text is kept compressed until then: a run keeps every tenant's, and YAML of objects
    that repeat the same keys packs to a ninth (10 KB to 1.1 KB, 30 us to pack, 11 us to
    unpack; at 1,000 tenants, 9 MiB of the run's peak, ``bench/README.md``)."""
    packed = zlib.compress(tenant_text.encode("utf-8"), 1)
    del tenant_text  # the closure below keeps only the packed bytes

    def compute(
        paths: Collection[ProvenancePath] | None = None,
    ) -> dict[ProvenancePath, Source | Origin]:
        tenant_text = zlib.decompress(packed).decode("utf-8")
        chosen = [p for p in profiles if p.file.mode == "enforce" or not enforced_only]
        data = own_data() if own_data is not None and not chosen else None
        if data is not None:
            tenant = SourceFile(tenant_path, data)
        else:
            tenant = parse_yaml(tenant_text, tenant_path)
        if not isinstance(tenant.data, dict):
            return {}
        if chosen:
            facts = tenant_facts(tenant.data)
            merged = merge_tenant(tenant, [p.for_tenant(facts) for p in chosen]).source
        else:
            merged = MergedSource(tenant, tenant.data, {})
        wanted = None if paths is None else {p[:end] for p in paths for end in range(len(p) + 1)}
        origins = _origins(merged, wanted)
        name: LocTuple = ("metadata", "name")
        only = None
        if wanted is not None:  # the tenant's lines these origins name, and its name's
            only = {name}
            for file, there, _ in origins.values():
                if file == tenant_path:
                    only.update(there[:end] for end in range(1, len(there) + 1))
        lines: dict[str, LineIndex] = {p.file.path: p.lines for p in chosen}
        lines[tenant_path] = own = line_index(tenant_text, only)
        entries = _located(origins, lines)
        # What the tenant did not declare (a default) is attributed to the tenant itself.
        entries[()] = Source(file=tenant_path, line=own.get(name, 1))
        return entries

    return compute


def _origins(
    merged: MergedSource, wanted: Collection[ProvenancePath] | None
) -> dict[ProvenancePath, tuple[str, LocTuple, str | None]]:
    """Where each object and field (of ``wanted`` only, unless None) was written: the file,
    the location in it and the profile."""
    origins: dict[ProvenancePath, tuple[str, LocTuple, str | None]] = {}

    def add(path: ProvenancePath, loc: LocTuple) -> None:
        if wanted is None or path in wanted:
            source, there, profile = merged.origin(loc)
            origins[path] = (source.path, there, profile)

    def object_(path: ProvenancePath, loc: LocTuple, obj: Any) -> None:
        if wanted is None or path in wanted:
            _object(add, path, loc, obj)

    spec = merged.data.get("spec")
    if not isinstance(spec, dict):
        return origins
    for name in SCALARS:
        if name in spec:
            add((name,), ("spec", name))
    for i, address in enumerate(_listed(spec.get("existingPrincipals"))):
        if key_of(address):
            add(("existingPrincipals", str(key_of(address))), ("spec", "existingPrincipals", i))
    for section, (key_field, _) in KEYED_SECTIONS.items():
        if wanted is not None and (section,) not in wanted:
            continue
        for i, obj in enumerate(_listed(spec.get(section))):
            key = key_of(obj.get(key_field)) if isinstance(obj, dict) else None
            if key is not None:
                object_((section, key), ("spec", section, i), obj)
    checks = spec.get("checks")
    for name, check in checks.items() if isinstance(checks, dict) else ():
        object_(("checks", str(name)), ("spec", "checks", name), check)
    policy = spec.get("policy")
    for part in ("kinds", "guards"):
        rules = policy.get(part) if isinstance(policy, dict) else None
        for name in rules if isinstance(rules, dict) else ():
            add(("policy", part, str(name)), ("spec", "policy", part, name))
    for i, action in enumerate(_listed(spec.get("actions"))):
        if isinstance(action, dict) and isinstance(action.get("id"), str):
            add(("actions", action["id"]), ("spec", "actions", i))
    return origins


def _located(
    origins: Mapping[ProvenancePath, tuple[str, LocTuple, str | None]],
    lines: Mapping[str, LineIndex],
) -> dict[ProvenancePath, Source | Origin]:
    """Each origin with its line; a value from an alias has its object's line."""
    entries: dict[ProvenancePath, Source | Origin] = {}
    for path, (file, there, profile) in origins.items():
        index = lines.get(file, {})
        for end in range(len(there), 0, -1):
            line = index.get(there[:end])
            if line is not None:
                entries[path] = (file, line, profile)
                break
    return entries


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _object(
    add: Callable[[ProvenancePath, LocTuple], None],
    path: ProvenancePath,
    loc: LocTuple,
    obj: Any,
) -> None:
    add(path, loc)
    for name, value in obj.items() if isinstance(obj, dict) else ():
        add((*path, str(name)), (*loc, name))
        if name in ADDRESS_LISTS:
            for j, item in enumerate(_listed(value)):
                if key_of(item):
                    add((*path, str(name), str(key_of(item))), (*loc, name, j))
