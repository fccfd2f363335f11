"""A plan run: open the world -> read partner facts -> observe -> plan -> policy -> outputs.

``plan`` and ``status`` call :func:`plan_run`; ``apply`` calls :func:`observe_and_plan` from
its own run, so apply re-observes and re-plans exactly as plan did.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from controller import event_loop
from controller.apply import Journal
from controller.apply.journal import JournalLocation, journal_exists
from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Accounting, Connections, ConnectionSettings
from controller.errors import UsageError
from controller.gitops import summarize
from controller.models import DesiredState, Guards, MSPConfig, TenantConfig
from controller.models.naming import unknown_tenants_message
from controller.models.observed import EarlierCreate, ObservedTenant
from controller.observe import PartnerFacts, observe_estate, read_partner_facts
from controller.observe.earlier import look_up_earlier_creates
from controller.plan import FailedCheck, Plan, ServiceUsage, TenantPlan
from controller.plan.context import PlanContext
from controller.plan.planner import EstatePlanner
from controller.policy import decide
from controller.reconcile._early import EarlyPartner
from controller.reconcile._outputs import (
    Delivered,
    Outputs,
    Run,
    notify,
    save_observations,
    write_output,
)
from controller.reconcile._workers import PER_TENANT, default_workers, observe_in_workers
from controller.reconcile._world import Where, World, open_world
from controller.render import render_json, render_markdown


@dataclass
class PlanResult:
    plan: Plan
    # Every tenant's observation, in the desired state's order; empty when the run was asked
    # to keep none (``keep_observations=False``: the workers then plan and send plans).
    observed: dict[str, ObservedTenant]
    accounting: Accounting


def plan_run(
    state: DesiredState,
    where: Where,
    *,
    concurrency: int = TENANTS_AT_ONCE,
    workers: int | None = None,
    raise_guards: Guards | None = None,
    on_observed: Callable[[str], None] | None = None,
    outputs: Outputs | None = None,
    journal: Path | JournalLocation | None = None,
    keep_observations: bool = True,
    early: EarlyPartner | None = None,
) -> Run[PlanResult]:
    """Plan ``state`` against the world ``where`` points at, and deliver the outputs. With a
    ``journal`` (a SQLite file's path or a location, that exists), the creates its killed runs
    left unanswered are looked up before anything is planned to be created again, as apply
    does. ``workers``: processes that observe (``None``: from the estate's size and the
    cores). ``on_observed``: called with each tenant's name as it is observed.
    ``keep_observations``: False when only the plan is wanted (``result.observed`` is then
    empty); the saved observations of ``outputs`` keep them whatever it says. ``early``: the
    partner's GDAP relationships being read while the desired state loaded (taken when read
    with the run's settings)."""
    outputs = outputs or Outputs()
    keep = keep_observations or outputs.observations is not None
    earlier = interrupted_creates(journal) if journal is not None else {}
    with open_world(state.msp, where, state.tenants) as world:
        result = event_loop.run(
            observe_and_plan(
                state,
                world,
                concurrency=concurrency,
                workers=default_workers(len(state.tenants)) if workers is None else workers,
                raise_guards=raise_guards,
                on_observed=on_observed,
                earlier_creates=earlier,
                keep_observations=keep,
                early=early,
            )
        )
    delivered = deliver_plan(result.plan, outputs)
    if outputs.observations is not None:
        saved = save_observations(outputs.observations, state, result.plan, result.observed)
        delivered = replace(delivered, written=(*delivered.written, saved))
    return Run(result, delivered, world.notes)


async def observe_and_plan(
    state: DesiredState,
    world: World,
    *,
    concurrency: int = TENANTS_AT_ONCE,
    workers: int = 1,
    raise_guards: Guards | None = None,
    on_observed: Callable[[str], None] | None = None,
    connections: Connections | None = None,
    earlier_creates: Mapping[str, Sequence[EarlierCreate]] | None = None,
    keep_observations: bool = True,
    early: EarlyPartner | None = None,
) -> PlanResult:
    """Read the partner facts, observe every tenant, look up the creates an earlier run left
    unanswered (``earlier_creates``, by tenant name, from the journal), plan, and decide by
    policy. Uses ``connections`` when given (and leaves them open), else opens its own. With
    ``workers`` above 1 the tenants are observed in that many processes (same plan, every
    core). Each tenant is planned as soon as it is observed, while the others still are;
    with workers and without ``keep_observations`` the worker that observed it plans it
    (``result.observed`` is then empty). ``on_observed``: each tenant's name as it is
    observed."""
    msp = state.msp
    now = world.now()
    async with _connected(world, connections, concurrency) as conns:
        gdap = await _taken(early, conns)
        partner = await read_partner_facts(conns, cipp=world.uses_cipp, gdap=gdap)
        context = _plan_context(msp, now, partner, cipp=world.uses_cipp)
        planner = EstatePlanner(state, context, later=earlier_creates or {})

        def observed_one(tenant: ObservedTenant) -> None:
            planner.add(tenant)
            if on_observed is not None:
                on_observed(tenant.name)

        def planned_one(tenant: TenantPlan) -> None:
            planner.take(tenant)
            if on_observed is not None:
                on_observed(tenant.name)

        if workers > 1:
            observed, accounting = await observe_in_workers(
                state.tenants_to_observe(),
                conns.settings,
                workers=workers,
                app_id=msp.spec.partner.client_id,
                cipp=world.uses_cipp,
                now=now,
                concurrency=concurrency,
                partner=partner,
                on_done=observed_one,
                plan_here=None if keep_observations else planner.plan_now,
                on_planned=planned_one,
                meanwhile=planner.digest_desired,
                discovered=conns.tokens.discovered(),
            )
            conns.accounting.add(accounting)
        else:
            observed = await observe_estate(
                state.tenants_to_observe(),
                conns,
                app_id=msp.spec.partner.client_id,
                cipp=world.uses_cipp,
                now=now,
                concurrency=concurrency,
                on_done=observed_one,
                partner=partner,
            )
        for name, earlier in (earlier_creates or {}).items():
            if name in observed:
                observed[name] = await look_up_earlier_creates(conns, observed[name], earlier)
    # Policy works out the plan's id, with the decisions in it.
    plan = planner.finish(observed, failed_checks(partner), identified=False)
    plan = _policy(plan, state, raise_guards)
    plan = with_accounting(plan, conns.accounting, partner_ids=_partner_ids(conns.settings))
    return PlanResult(plan, observed if keep_observations else {}, conns.accounting)


def with_accounting(
    plan: Plan, accounting: Accounting, *, partner_ids: Collection[str] = ()
) -> Plan:
    """``plan`` with what observing cost: each tenant's usage per service, and the partner
    tenant's (``partner_ids``: the partner's and CIPP's tenant) at the plan's level. Neither
    the plan id nor a fingerprint covers it: it varies with retries and throttling."""
    by_tenant: dict[str, dict[str, ServiceUsage]] = {}
    for (tenant, service), usage in accounting.snapshot().items():
        if not usage.round_trips:
            continue
        counted = ServiceUsage(
            round_trips=usage.round_trips,
            requests=usage.requests,
            retries=usage.retries,
            throttles=usage.throttles,
            resource_units=usage.resource_units,
        )
        services = by_tenant.setdefault(tenant.lower(), {})
        services[service] = services[service] + counted if service in services else counted
    tenants = tuple(
        t.model_copy(update={"accounting": _sorted(by_tenant.get(t.tenant_id.lower(), {}))})
        for t in plan.tenants
    )
    partner: dict[str, ServiceUsage] = {}
    for tenant_id in dict.fromkeys(p.lower() for p in partner_ids):
        for name, used in by_tenant.get(tenant_id, {}).items():
            partner[name] = partner[name] + used if name in partner else used
    return plan.model_copy(update={"tenants": tenants, "accounting": _sorted(partner)})


def select_tenants(
    state: DesiredState,
    names: Sequence[str] = (),
    predicate: Callable[[TenantConfig], bool] | None = None,
) -> DesiredState:
    """The desired state restricted to the named tenants (all when none are named). Names
    match in any case (tenant names are lowercase): ``--tenant Contoso`` is contoso."""
    known = {t.metadata.name for t in state.tenants}
    wanted = {name.strip().lower() for name in names}
    unknown = sorted({name.strip() for name in names if name.strip().lower() not in known})
    if unknown:
        raise UsageError(unknown_tenants_message(unknown, known, "the desired state"))
    chosen = tuple(
        t
        for t in state.tenants
        if (not wanted or t.metadata.name in wanted) and (predicate is None or predicate(t))
    )
    return replace(
        state,
        tenants=chosen,
        sources={
            t.metadata.name: state.sources[t.metadata.name]
            for t in chosen
            if t.metadata.name in state.sources
        },
    )


def deliver_plan(plan: Plan, outputs: Outputs) -> Delivered:
    """Write the plan's files and send its summary; what was written and what went wrong."""
    written: list[Path] = []
    if outputs.json is not None:
        written.append(write_output(outputs.json, render_json(plan)))
    if outputs.markdown is not None:
        hint = f"the full plan is in {outputs.json}" if outputs.json is not None else None
        written.append(write_output(outputs.markdown, render_markdown(plan, full_plan_hint=hint)))
    warnings = notify(
        outputs.webhook,
        lambda: summarize(plan, mode="drift" if outputs.drift else "plan", shard=outputs.shard),
    )
    return Delivered(tuple(written), warnings)


# -- the steps' parts -------------------------------------------------------------------------


@asynccontextmanager
async def _connected(
    world: World, given: Connections | None, concurrency: int
) -> AsyncIterator[Connections]:
    if given is not None:
        yield given
        return
    # Keep-alive connections sized to the requests in flight: tenants at once x per tenant.
    async with Connections(world.settings, connections_per_host=concurrency * PER_TENANT) as own:
        yield own


async def _taken(early: EarlyPartner | None, conns: Connections) -> PartnerFacts | None:
    """The relationships read early, when read as this run reads them; their cost is the
    run's, and the OIDC discovery made for them its own."""
    if early is None:
        return None
    read = await asyncio.to_thread(early.take, conns.settings)
    if read is None:
        return None
    conns.accounting.add(read.accounting)
    conns.tokens.learn(read.discovered)
    return read.facts


def _sorted(services: dict[str, ServiceUsage]) -> dict[str, ServiceUsage]:
    return dict(sorted(services.items()))


def _partner_ids(settings: ConnectionSettings) -> tuple[str, ...]:
    cipp = settings.cipp.tenant_id if settings.cipp is not None else None
    return (settings.partner_tenant_id, *([cipp] if cipp else []))


def interrupted_creates(journal: Path | JournalLocation) -> dict[str, list[EarlierCreate]]:
    """The journal's creates that were called and never answered, by tenant (none when there
    is no journal: a fresh machine knows nothing of earlier runs)."""
    location = JournalLocation.of(journal)
    if not journal_exists(location):
        return {}
    with Journal.open(location, create=False) as opened:
        return earlier_creates_of(opened)


def earlier_creates_of(journal: Journal) -> dict[str, list[EarlierCreate]]:
    by_tenant: dict[str, list[EarlierCreate]] = {}
    for record in journal.interrupted_creates():
        by_tenant.setdefault(record.tenant, []).append(
            EarlierCreate(
                kind=record.kind.value,
                key=record.target.partition(":")[2].lower(),
                intent_at=record.intent_at,
                run_id=record.run_id,
            )
        )
    return by_tenant


def _plan_context(
    msp: MSPConfig, now: dt.datetime, partner: PartnerFacts, *, cipp: bool
) -> PlanContext:
    return PlanContext.from_msp(
        msp,
        now=now,
        # Links in the plan use msp.yaml's login endpoint, never the sandbox's ports, so
        # the same world gives the same plan run after run.
        cipp_connected=cipp and isinstance(partner.cipp_tenants, dict),
    )


def failed_checks(partner: PartnerFacts) -> tuple[FailedCheck, ...]:
    return tuple(
        FailedCheck(check=c.name, summary=c.summary, fix=c.fix) for c in partner.failed_checks
    )


def _policy(plan: Plan, state: DesiredState, raise_guards: Guards | None) -> Plan:
    tenant_rules = {t.metadata.name: t.spec.policy for t in state.tenants}
    return decide(plan, state.msp.spec.policy, tenant_rules, raise_guards=raise_guards)
