"""Inventory matching: which observed object a declared object is, and what to plan for it.

Pure: no I/O, no clock, and nothing about Graph or Exchange. Users (by userPrincipalName),
Entra groups (by mailNickname), distribution groups and shared mailboxes (by primary SMTP
address) all go through the same three steps:

1. :func:`inventory` indexes the observed objects by their natural key, normalised with
   :func:`~controller.plan.normalise.key` (Entra and Exchange compare all these keys without
   case). An object without a key (a group without a mailNickname) is not indexed.
2. :func:`match_declared` gives every declared object its :data:`Match`, in key order:
   :class:`Found` (exactly one observed object), :class:`Absent`, :class:`Ambiguous` (two or
   more: the tenant must be fixed by hand) or :class:`Unobserved` (the objects could not be
   read: unknown is never absent).
3. :attr:`Matched.step` adds the declared ``ensure``: :class:`Create`, :class:`Compare` (then
   :func:`compare_fields`), :class:`Delete` or :class:`AlreadyAbsent`. An ambiguous or
   unobserved match stays as it is: nothing is planned for that object.

What a step means for one kind (its operations, its messages, checks such as an Entra group's
type) stays with that kind's planner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Protocol, TypeAlias, TypeVar

from controller.models.common import Ensure
from controller.models.observed import Unknown
from controller.plan import normalise as norm
from controller.plan.types import FieldChange

ObservedT = TypeVar("ObservedT")  # an observed object


class Declared(Protocol):
    """A declared object: anything with an ``ensure``."""

    @property
    def ensure(self) -> Ensure: ...


DeclaredT = TypeVar("DeclaredT", bound=Declared)


# --- what a key finds -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found(Generic[ObservedT]):
    """Exactly one observed object has the key."""

    observed: ObservedT


@dataclass(frozen=True, slots=True)
class Absent:
    """No observed object has the key."""


@dataclass(frozen=True, slots=True)
class Ambiguous(Generic[ObservedT]):
    """Two or more observed objects have the key (in the order observed): a problem for the
    declared object, and nothing planned for it."""

    candidates: tuple[ObservedT, ...]


@dataclass(frozen=True, slots=True)
class Unobserved:
    """The observed objects could not be read: nothing is planned, and the area says why.

    (Not named ``Unknown``: that is the observed area's own value, carried here.)
    """

    unknown: Unknown


Match: TypeAlias = Found[ObservedT] | Absent | Ambiguous[ObservedT] | Unobserved


@dataclass(frozen=True, slots=True)
class Inventory(Generic[ObservedT]):
    """Observed objects by normalised key; each key's objects in the order observed."""

    by_key: Mapping[str, tuple[ObservedT, ...]]

    def match(self, key: str) -> Found[ObservedT] | Absent | Ambiguous[ObservedT]:
        """What ``key`` finds (normalised here, so any case finds the same objects)."""
        return self.match_normalised(norm.key(key))

    def match_normalised(self, key: str) -> Found[ObservedT] | Absent | Ambiguous[ObservedT]:
        """What ``key``, normalised already (as :func:`match_declared` has it), finds."""
        found = self.by_key.get(key, ())
        if not found:
            return Absent()
        if len(found) == 1:
            return Found(found[0])
        return Ambiguous(found)


def inventory(
    objects: Iterable[ObservedT], key: Callable[[ObservedT], str | None]
) -> Inventory[ObservedT]:
    """``objects`` by ``key`` (normalised); None or blank keys are left out."""
    by_key: dict[str, list[ObservedT]] = {}
    for obj in objects:
        raw = key(obj)
        k = norm.key(raw) if raw is not None else ""
        if k:
            by_key.setdefault(k, []).append(obj)
    return Inventory({k: tuple(v) for k, v in by_key.items()})


# --- what to plan -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Create:
    """Declared present, not in the tenant."""


@dataclass(frozen=True, slots=True)
class Compare(Generic[ObservedT]):
    """Declared present and found: compare the declared fields (an update where they differ)."""

    existing: ObservedT


@dataclass(frozen=True, slots=True)
class Delete(Generic[ObservedT]):
    """Declared ``ensure: absent`` and found."""

    existing: ObservedT


@dataclass(frozen=True, slots=True)
class AlreadyAbsent:
    """Declared ``ensure: absent`` and not in the tenant: nothing to do."""


Step: TypeAlias = (
    Create
    | Compare[ObservedT]
    | Delete[ObservedT]
    | AlreadyAbsent
    | Ambiguous[ObservedT]
    | Unobserved
)


def step(ensure: Ensure, match: Match[ObservedT]) -> Step[ObservedT]:
    """What to plan for a declared object from its ``ensure`` and what its key found."""
    if isinstance(match, Ambiguous | Unobserved):
        return match
    if ensure == "absent":
        return Delete(match.observed) if isinstance(match, Found) else AlreadyAbsent()
    return Compare(match.observed) if isinstance(match, Found) else Create()


@dataclass(frozen=True, slots=True)
class Matched(Generic[DeclaredT, ObservedT]):
    """A declared object, its normalised key and what the key found."""

    declared: DeclaredT
    key: str
    match: Match[ObservedT]

    @property
    def step(self) -> Step[ObservedT]:
        return step(self.declared.ensure, self.match)


def match_declared(
    declared: Iterable[DeclaredT],
    key: Callable[[DeclaredT], str],
    observed: Inventory[ObservedT] | Unknown,
) -> list[Matched[DeclaredT, ObservedT]]:
    """Each declared object with its match, sorted by key (objects with one key keep their
    order; the loader rejects them anyway). Against unknown objects every match is
    :class:`Unobserved`."""

    keyed = sorted(((norm.key(key(obj)), obj) for obj in declared), key=lambda pair: pair[0])
    if isinstance(observed, Unknown):
        return [Matched(obj, k, Unobserved(observed)) for k, obj in keyed]
    return [Matched(obj, k, observed.match_normalised(k)) for k, obj in keyed]


# --- comparing an object found ----------------------------------------------------------------

# (API field name, declared value, observed value, comparison from ``normalise``)
ManagedField: TypeAlias = tuple[str, str | None, str | None, Callable[[str | None], str | None]]


class FieldDiff(NamedTuple):
    """The declared values, the observed ones (with the object's id) and the changes: what an
    update operation is made of and fingerprinted on."""

    desired: dict[str, Any]
    observed: dict[str, Any]
    changes: list[FieldChange]


def compare_fields(observed_id: str, fields: Iterable[ManagedField]) -> FieldDiff:
    """Compare each declared field with the tenant's value; a field declared None is not
    managed and left out. A change is where the comparison (not the raw value) differs."""
    diff = FieldDiff(desired={}, observed={"id": observed_id}, changes=[])
    for api, want, have, compare in fields:
        if want is None:
            continue
        diff.desired[api], diff.observed[api] = want, have
        # Equal values compare equal: most fields of most objects are as declared, and are
        # not normalised twice for nothing.
        if want != have and compare(want) != compare(have):
            diff.changes.append(FieldChange(field=api, before=have, after=want))
    return diff
