"""The reconcile pipeline up to the plan: observe -> plan -> policy.

``plan`` and ``apply`` share it, so apply re-observes and re-plans exactly as plan did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from controller.connectors import Accounting, Connections
from controller.errors import UsageError
from controller.models import DesiredState, Guards, TenantConfig
from controller.models.observed import ObservedTenant
from controller.observe import observe_estate, read_partner_facts
from controller.plan import FailedCheck, Plan
from controller.plan.context import PlanContext
from controller.plan.planner import plan_estate
from controller.policy import decide
from controller.runtime import World


@dataclass
class PlanResult:
    plan: Plan
    observed: dict[str, ObservedTenant]
    accounting: Accounting


def select_tenants(
    state: DesiredState,
    names: Sequence[str] = (),
    predicate: Callable[[TenantConfig], bool] | None = None,
) -> DesiredState:
    """The desired state restricted to the named tenants (all when none are named)."""
    known = {t.metadata.name for t in state.tenants}
    unknown = sorted(set(names) - known)
    if unknown:
        raise UsageError(
            f"no tenant named {', '.join(unknown)} in the desired state "
            f"(known: {', '.join(sorted(known))})"
        )
    chosen = tuple(
        t
        for t in state.tenants
        if (not names or t.metadata.name in names) and (predicate is None or predicate(t))
    )
    return DesiredState(
        msp=state.msp,
        tenants=chosen,
        sources={
            t.metadata.name: state.sources[t.metadata.name]
            for t in chosen
            if t.metadata.name in state.sources
        },
    )


async def observe_and_plan(
    state: DesiredState,
    world: World,
    *,
    concurrency: int = 16,
    raise_guards: Guards | None = None,
    on_observed: Callable[[ObservedTenant], None] | None = None,
    connections: Connections | None = None,
) -> PlanResult:
    msp = state.msp
    now = world.now()
    own = connections is None
    conns = connections or Connections(world.settings)
    try:
        cipp = msp.spec.cipp is not None
        partner = await read_partner_facts(conns, cipp=cipp)
        observed = await observe_estate(
            state.tenants,
            conns,
            app_id=msp.spec.partner.client_id,
            cipp=cipp,
            now=now,
            concurrency=concurrency,
            on_done=on_observed,
            partner=partner,
        )
    finally:
        if own:
            await conns.aclose()
    ctx = PlanContext.from_msp(
        msp,
        now=now,
        # Links in the plan use msp.yaml's login endpoint, never the sandbox's ports, so
        # the same world gives the same plan run after run.
        cipp_connected=cipp and isinstance(partner.cipp_tenants, dict),
    )
    failed = tuple(
        FailedCheck(check=c.name, summary=c.summary, fix=c.fix) for c in partner.failed_checks
    )
    plan = plan_estate(state, observed, ctx, failed)
    tenant_rules = {t.metadata.name: t.spec.policy for t in state.tenants}
    plan = decide(plan, msp.spec.policy, tenant_rules, raise_guards=raise_guards)
    return PlanResult(plan, observed, conns.accounting)
