"""A read run for ``tenantctl get``: open the world -> read partner facts -> observe -> the
kind's document. Nothing is planned and nothing is written.

It observes through the same path as ``plan`` (:func:`~controller.observe.observe_estate`),
reading what the kind shows whether or not git declares it: every group's members and every
mailbox's permissions for the Exchange and group kinds, the MFA and risky-user reports for
``users``. What git declares comes from the desired state, with the file and line of each
object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from controller import event_loop
from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Connections
from controller.models import DesiredState
from controller.models.declared import estate_declarations
from controller.models.observed import ObservedTenant
from controller.observe import observe_estate, read_partner_facts
from controller.plan import FailedCheck
from controller.plan.types import ExitStatus
from controller.reconcile._outputs import Delivered, Run
from controller.reconcile._plan import failed_checks
from controller.reconcile._world import Where, World, open_world
from controller.render.documents import GetReport
from controller.render.inventory import Kind, get_document

# What each kind needs beyond what git declares: (every object's members and permissions,
# the MFA and risky-user reports).
_READS: dict[Kind, tuple[bool, bool]] = {
    "users": (False, True),
    "groups": (True, False),
    "members": (True, False),
    "distribution-groups": (True, False),
    "shared-mailboxes": (True, False),
    "licences": (False, False),
    "consent": (False, False),
    "gdap": (False, False),
}


@dataclass(frozen=True)
class GetResult:
    """The kind's document, and the connection checks that failed while reading."""

    document: GetReport
    failed_checks: tuple[FailedCheck, ...] = ()

    @property
    def exit_status(self) -> ExitStatus:
        """1 when a connection check failed, 2 when something could not be read, else 0."""
        if self.failed_checks:
            return ExitStatus.ERROR
        return ExitStatus.CHANGES if self.document.unknown else ExitStatus.MATCHES


def get_run(
    state: DesiredState,
    where: Where,
    kind: Kind,
    *,
    group: str | None = None,
    concurrency: int = TENANTS_AT_ONCE,
    on_observed: Callable[[ObservedTenant], None] | None = None,
) -> Run[GetResult]:
    """Read ``kind`` in every tenant of ``state`` from the world ``where`` points at."""
    with open_world(state.msp, where, state.tenants) as world:
        result = event_loop.run(
            read_kind(
                state, world, kind, group=group, concurrency=concurrency, on_observed=on_observed
            )
        )
    return Run(result, Delivered(), world.notes)


async def read_kind(
    state: DesiredState,
    world: World,
    kind: Kind,
    *,
    group: str | None = None,
    concurrency: int = TENANTS_AT_ONCE,
    on_observed: Callable[[ObservedTenant], None] | None = None,
) -> GetResult:
    """Read the partner facts, observe every tenant for ``kind``, and build its document."""
    read_all, read_reports = _READS[kind]
    async with Connections(world.settings) as conns:
        partner = await read_partner_facts(conns, cipp=world.uses_cipp)
        observed = await observe_estate(
            state.tenants_to_observe(),
            conns,
            app_id=state.msp.spec.partner.client_id,
            cipp=world.uses_cipp,
            now=world.now(),
            concurrency=concurrency,
            on_done=on_observed,
            partner=partner,
            read_all=read_all,
            read_reports=read_reports,
        )
    declared = estate_declarations(state)
    names = sorted(declared)
    document = get_document(kind, [(observed[n], declared[n]) for n in names], group=group)
    return GetResult(document, failed_checks(partner))
