"""Where a desired value came from: a tenant file or a profile, and the line.

The loader records, per tenant, the source of every object and field of the effective tenant
(after profiles); the planner attaches it to each operation and finding. A :class:`Source`
never takes part in a fingerprint: the same desired values give the same operations wherever
they were written.

Paths name objects by their matching key, lowercased, as the planner does::

    ("users", "alice@contoso.com")                       the object
    ("users", "alice@contoso.com", "displayName")        one of its fields
    ("groups", "sales", "members", "bob@contoso.com")    one member of a list
    ("checks", "mfa"), ("consent",), ("actions", "2026-11-26-reset-bob")

The path ``()`` is the tenant file itself (its ``metadata.name``): the source of what the
tenant did not declare, such as a default.

Pure: no I/O. Lines are worked out once, on first use (the loader passes a function that
does it), because only the tenants that have something to plan need them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Protocol

from pydantic import ConfigDict, Field

from controller.models.common import SharingFieldNames

Path = tuple[str, ...]
#: A source as the loader records it, cheaply (file, line, profile): made a :class:`Source`
#: only when a plan names it (a tenant has hundreds of values and a plan names a few).
Origin = tuple[str, int, "str | None"]


class Source(SharingFieldNames):
    """A place in the desired state: ``desired/profiles/standard.yaml:14``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    line: int
    profile: str | None = Field(
        default=None, description="The profile the value came from; none: the tenant's file"
    )

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class EntriesOf(Protocol):
    """Works out a tenant's sources: all of them, or those of ``paths`` and of every path
    that holds one of them (what :meth:`Provenance.find` looks at for them)."""

    def __call__(
        self, paths: Collection[Path] | None = None, /
    ) -> Mapping[Path, Source | Origin]: ...


class Provenance:
    """The sources of one tenant's desired values, found by :meth:`find`.

    ``entries`` is called on first use (and again after :meth:`release`); the path ``()`` is
    the tenant file itself. ``some``, when given, works out the sources of only some paths,
    for :meth:`only`.
    """

    def __init__(
        self,
        entries: Callable[[], Mapping[Path, Source | Origin]],
        some: Callable[[Collection[Path]], Mapping[Path, Source | Origin]] | None = None,
    ) -> None:
        self._compute = entries
        self._some = some
        self._entries: Mapping[Path, Source | Origin] | None = None

    @classmethod
    def of(cls, entries: Mapping[Path, Source | Origin]) -> Provenance:
        return cls(lambda: entries)

    @property
    def entries(self) -> Mapping[Path, Source | Origin]:
        if self._entries is None:
            self._entries = self._compute()
        return self._entries

    def only(self, paths: Iterable[Path]) -> Provenance:
        """A provenance that finds each of ``paths`` as this one does, having worked out only
        what they need. A plan names the sources of a few of a tenant's hundreds of values:
        their lines are read and the rest of the file passed over (``bench/README.md``)."""
        if self._entries is not None or self._some is None:
            return self
        return Provenance.of(self._some(frozenset(paths)))

    def release(self) -> None:
        """Forget the entries worked out (the next use works them out again). The planner
        releases each tenant's once it is planned: kept for every tenant of a 1,000-tenant
        estate they were 250 MiB (``bench/README.md``, "Scale")."""
        self._entries = None

    def find(self, path: Path) -> Source | None:
        """The source of the deepest part of ``path`` that has one; else the tenant file (a
        value the tenant did not declare, such as a default)."""
        entries = self.entries
        for end in range(len(path), -1, -1):
            found = entries.get(path[:end])
            if isinstance(found, tuple):
                file, line, profile = found
                return Source(file=file, line=line, profile=profile)
            if found is not None:
                return found
        return None
