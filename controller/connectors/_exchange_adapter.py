"""Exchange objects through one route: Exchange admin REST directly, or the MSP's CIPP.

Graph cannot write distribution groups, shared mailboxes or mailbox permissions. They go
through Exchange admin REST (``InvokeCommand``, when the app holds Exchange Administrator) or
through CIPP. :class:`ExchangeAdapter` is what observe and apply see of either;
``DirectExchange`` and ``CippExchange`` implement it, and :meth:`Connections.exchange_adapter`
picks one for a tenant from its route. Both keep the same promises:

- Reads list the objects (:class:`Recipient`), then the members and permission holders of
  the objects asked about, apart: only what the desired state manages is read. Holders come
  back as the service names them (UPN, alias, display name...); observe resolves the names to
  addresses, since it knows the tenant's users.
- A write returns once reading back shows it. A write the service accepted but does not show
  yet raises :class:`~controller.errors.PropagationPending` (held; a re-run finds it).
- What a route cannot do raises :class:`~controller.errors.NeedsHuman`, saying what to do
  (the planner plans it as a manual step in the first place).
- "The Exchange role is not effective yet" (Exchange answers 401/403 for 30 minutes to 2
  hours after the role is assigned) is :class:`~controller.errors.PropagationPending` too,
  decided once, in ``DirectExchange``: observe shows it as the "propagating" badge, apply as
  an operation held until a later run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from controller.errors import ServiceError
from controller.models import MailboxRight
from controller.models.observed import ExchangeRoute, Principal


@dataclass(frozen=True, slots=True)
class Recipient:
    """A distribution group or shared mailbox as a route lists it."""

    id: str
    name: str
    display_name: str | None
    primary_smtp_address: str
    alias: str | None = None
    #: the other names Exchange gives it when it names a permission holder (lowercase)
    known_as: tuple[str, ...] = ()
    #: its SendOnBehalf holders as the listing names them, when the listing carries them
    send_on_behalf: tuple[str, ...] | None = None

    @property
    def address(self) -> str:
        return self.primary_smtp_address.lower()


@dataclass(frozen=True, slots=True)
class FailedRead:
    """A read that failed; ``what`` names it in the unknown observe makes of it."""

    what: str
    error: ServiceError


#: Holder names per right asked about, or the read that failed for that right.
Holders = dict[MailboxRight, frozenset[str] | FailedRead]


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An Exchange object as apply names it: its primary SMTP address (what ``-Identity``
    takes) and its id when the plan or this run knows it (CIPP addresses groups by id)."""

    address: str
    id: str | None = None


#: Looks up the directory object id of a member (CIPP adds members by id); called only by a
#: route that needs it.
IdLookup = Callable[[], Awaitable[str]]


class ExchangeAdapter(Protocol):
    """Distribution groups, shared mailboxes and mailbox permissions of one tenant."""

    @property
    def route(self) -> ExchangeRoute: ...

    @property
    def via(self) -> str:
        """How a result names the route: ``""`` (direct) or ``" through CIPP"``."""
        ...

    # -- reads ----------------------------------------------------------------------------

    async def distribution_groups(self) -> list[Recipient]: ...

    async def shared_mailboxes(self) -> list[Recipient]: ...

    async def members(self, group: Recipient) -> tuple[Principal, ...]:
        """The members of a distribution group, sorted by address."""
        ...

    async def holders(self, mailbox: Recipient, rights: frozenset[MailboxRight]) -> Holders:
        """The holder names of each of ``rights`` on a shared mailbox."""
        ...

    # -- writes, each confirmed by reading back ------------------------------------------

    async def create_distribution_group(self, name: str, display_name: str, address: str) -> str:
        """Returns the new group's id."""
        ...

    async def update_distribution_group(self, identity: str, changes: Mapping[str, str]) -> None:
        """``changes``: name, displayName and alias, as the plan names them."""
        ...

    async def delete_distribution_group(self, group: ObjectRef) -> bool:
        """False when the group was already gone."""
        ...

    async def add_member(self, group: ObjectRef, member: str, member_id: IdLookup) -> None: ...

    async def remove_member(self, group: ObjectRef, member: str, member_id: IdLookup) -> None: ...

    async def create_shared_mailbox(
        self, name: str, display_name: str, address: str, alias: str | None
    ) -> None: ...

    async def update_shared_mailbox(self, identity: str, changes: Mapping[str, str]) -> None: ...

    async def delete_shared_mailbox(self, identity: str) -> bool:
        """False when the mailbox was already gone."""
        ...

    async def grant(self, mailbox: str, right: MailboxRight, holder: str) -> None: ...

    async def revoke(self, mailbox: str, right: MailboxRight, holder: str) -> None: ...
