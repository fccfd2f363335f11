"""What git declares in one tenant, object by object, and where: the "managed by git" column of
``tenantctl get`` and of the estate report.

Each :class:`Declared` names an object by its provenance path (:mod:`.provenance`), keys
lowercased as the planner matches them::

    ("users", "alice@contoso.com")
    ("groups", "sales"), ("groups", "sales", "members", "alice@contoso.com")
    ("distributionGroups", "allstaff@contoso.com", "members", "bob@contoso.com")
    ("sharedMailboxes", "support@contoso.com", "sendAs", "bob@contoso.com")
    ("licences", "spe_e3")        a SKU some declared user is given (first such user's line)
    ("consent",)                  consent: granted (tenantctl plans the admin consent)

Members and permission holders are declared only when their list is (an omitted list is not
managed). The index is plain data, so a saved observation (``plan --observations``) carries it
and the report needs neither the desired state nor its line numbers.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Literal

from pydantic import BaseModel

from controller.models.common import CAMEL_CASE
from controller.models.estate import DesiredState
from controller.models.provenance import Path, Provenance, Source
from controller.models.tenant import TenantConfig

__all__ = ["MAILBOX_RIGHTS", "Declarations", "Declared", "declarations", "estate_declarations"]

# The permission lists of a shared mailbox, as the tenant file names them.
MAILBOX_RIGHTS = ("fullAccess", "sendAs", "sendOnBehalf")


class Declared(BaseModel):
    """One object, member, permission holder or licence that a tenant file (or a profile it
    takes) declares."""

    model_config = CAMEL_CASE

    path: tuple[str, ...]
    ensure: Literal["present", "absent"] = "present"
    source: Source | None = None


class Declarations(BaseModel):
    """Everything one tenant declares, found by path."""

    model_config = CAMEL_CASE

    tenant: str
    display_name: str | None = None  # metadata.displayName: the customer's name for people
    file: str | None = None
    entries: tuple[Declared, ...] = ()

    @cached_property
    def _index(self) -> dict[Path, Declared]:
        return {entry.path: entry for entry in self.entries}

    def get(self, *path: str) -> Declared | None:
        """What is declared at ``path`` (keys lowercase), or None: git does not manage it."""
        return self._index.get(path)

    def under(self, *prefix: str) -> Iterator[Declared]:
        """The entries one level below ``prefix``: ``under("users")`` is every user."""
        depth = len(prefix) + 1
        for entry in self.entries:
            if len(entry.path) == depth and entry.path[: depth - 1] == prefix:
                yield entry


def declarations(
    tenant: TenantConfig, provenance: Provenance | None = None, file: str | None = None
) -> Declarations:
    """The index of what ``tenant`` declares; ``provenance`` gives each entry its source
    (without it, entries have none)."""
    found: dict[Path, Declared] = {}

    def add(
        path: Path, ensure: Literal["present", "absent"] = "present", at: Path | None = None
    ) -> None:
        """Declare ``path`` (the first time only), its source found at ``at`` or itself."""
        if path not in found:
            source = provenance.find(at or path) if provenance is not None else None
            found[path] = Declared(path=path, ensure=ensure, source=source)

    spec = tenant.spec
    for user in spec.users:
        upn = user.user_principal_name.lower()
        add(("users", upn), user.ensure)
        for sku in user.licenses or ():
            add(("licences", sku.lower()), at=("users", upn, "licenses"))
    for group in spec.groups:
        nick = group.mail_nickname.lower()
        add(("groups", nick), group.ensure)
        for member in group.members or ():
            add(("groups", nick, "members", member.lower()))
    for dg in spec.distribution_groups:
        address = dg.primary_smtp_address.lower()
        add(("distributionGroups", address), dg.ensure)
        for member in dg.members or ():
            add(("distributionGroups", address, "members", member.lower()))
    for mailbox in spec.shared_mailboxes:
        address = mailbox.primary_smtp_address.lower()
        add(("sharedMailboxes", address), mailbox.ensure)
        for right, holders in zip(
            MAILBOX_RIGHTS,
            (mailbox.full_access, mailbox.send_as, mailbox.send_on_behalf),
            strict=True,
        ):
            for holder in holders or ():
                add(("sharedMailboxes", address, right, holder.lower()))
    if spec.consent == "granted":
        add(("consent",))
    return Declarations(
        tenant=tenant.metadata.name,
        display_name=tenant.metadata.display_name,
        file=file,
        entries=tuple(found.values()),
    )


def estate_declarations(state: DesiredState) -> dict[str, Declarations]:
    """The index of every tenant of ``state`` (as planned: with its enforce-mode profiles),
    by tenant name, each entry with its file and line. Each tenant's provenance table is let
    go once its index is built, as the planner does (kept for 1,000 tenants they are 250 MiB;
    the index keeps only the sources it names)."""
    found = {}
    for tenant in state.tenants:
        name = tenant.metadata.name
        provenance = state.provenance.get(name)
        found[name] = declarations(tenant, provenance, state.sources.get(name))
        if provenance is not None:
            provenance.release()
    return found
