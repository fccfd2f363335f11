"""What an import is asked for and what it makes: the sections, the options, the tenant file
as data, and the refusal that names every area it could not read. Pure."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from controller.errors import TenantctlError
from controller.models import TenantConfig
from controller.models.observed import ObservedGroup

Section = Literal["users", "groups", "distributionGroups", "sharedMailboxes"]
SECTIONS: tuple[Section, ...] = get_args(Section)

# A comment's place in the file: the loader's location path (``["spec", "groups", 0]``).
Loc = tuple[str | int, ...]


class ImportRefused(TenantctlError):
    """A tenant was not imported and nothing was written for it; ``reasons`` say why."""

    def __init__(self, tenant: str, reasons: Sequence[str], *, hint: str | None = None) -> None:
        self.tenant = tenant
        self.reasons = tuple(reasons)
        self.hint = hint
        text = f"{tenant}: not imported, nothing written: " + "; ".join(self.reasons)
        super().__init__(text + (f" ({hint})" if hint else ""))


@dataclass(frozen=True)
class ImportOptions:
    """What to import. ``match``: globs on UPN / address / mailNickname (any of them);
    ``omit_profile_objects``: leave out objects the tenant's profiles already declare as
    they are."""

    include: frozenset[Section] = frozenset(SECTIONS)
    exclude_disabled: bool = False
    match: tuple[str, ...] = ()
    omit_profile_objects: bool = False

    def selects(self, *names: str | None) -> bool:
        if not self.match:
            return True
        return any(
            fnmatch.fnmatchcase(name.lower(), pattern.lower())
            for name in names
            if name
            for pattern in self.match
        )

    def describe(self) -> str:
        parts = [", ".join(s for s in SECTIONS if s in self.include)]
        if self.exclude_disabled:
            parts.append("--exclude-disabled")
        parts += [f"--match {pattern}" for pattern in self.match]
        if self.omit_profile_objects:
            parts.append("--omit-profile-objects")
        return "; ".join(parts)


@dataclass(frozen=True)
class TenantImport:
    """A tenant file as data: the model, the comments that go with it, and notes for the
    operator (what was left out and why)."""

    config: TenantConfig
    header: tuple[str, ...]  # paragraphs; the renderer wraps them
    comments: Mapping[Loc, tuple[str, ...]] = field(default_factory=dict)  # paragraphs too
    notes: tuple[str, ...] = ()

    def counts(self) -> str:
        spec = self.config.spec
        shown = [
            (len(spec.users), "user"),
            (len(spec.groups), "group"),
            (len(spec.distribution_groups), "distribution group"),
            (len(spec.shared_mailboxes), "shared mailbox"),
        ]
        return ", ".join(
            f"{n} {what}{'' if n == 1 else ('es' if what.endswith('x') else 's')}"
            for n, what in shown
        )


def imports_group(group: ObservedGroup, options: ImportOptions) -> bool:
    """Entra groups that Graph manages; distribution groups come from Exchange."""
    return group.kind in ("security", "microsoft365") and options.selects(group.mail_nickname)
