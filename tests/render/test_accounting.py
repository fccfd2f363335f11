"""What a run cost: the accounting blocks the run adds to a plan (per tenant and service, and
the partner tenant's), outside the plan id and the fingerprints, in the JSON plan and in
``plan -v``'s lines; a plan without them renders as before."""

from __future__ import annotations

import json

import pytest

from controller.connectors import Accounting
from controller.plan import Plan, plan_estate
from controller.plan.planner import plan_id_of
from controller.reconcile._plan import with_accounting
from controller.render import render_accounting, render_json
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed

PARTNER = "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21"


@pytest.fixture(scope="module")
def demo_plan() -> Plan:
    state = demo_desired()
    return plan_estate(state, demo_observed(state), demo_context(state))


def _counted(plan: Plan, retries: int = 0) -> Accounting:
    accounting = Accounting()
    first = plan.tenants[0].tenant_id
    graph = accounting.of(first.upper(), "graph")  # tenant ids compare case-insensitively
    graph.round_trips, graph.requests, graph.resource_units = 2 + retries, 15, 19.0
    graph.retries = graph.throttles = retries
    exchange = accounting.of(first, "exchange")
    exchange.round_trips = exchange.requests = 1
    partner = accounting.of(PARTNER, "graph")
    partner.round_trips = partner.requests = 1
    partner.resource_units = 1.0
    return accounting


def test_each_tenant_gets_its_usage_per_service_and_the_partner_its_own(demo_plan: Plan) -> None:
    plan = with_accounting(demo_plan, _counted(demo_plan), partner_ids=[PARTNER])
    first, *others = plan.tenants
    assert first.accounting is not None
    assert first.accounting["graph"].round_trips == 2
    assert first.accounting["graph"].resource_units == 19.0
    assert first.accounting["exchange"].round_trips == 1
    assert all(t.accounting == {} for t in others)
    assert plan.accounting is not None and plan.accounting["graph"].round_trips == 1
    data = json.loads(render_json(plan))
    assert data["tenants"][0]["accounting"]["graph"]["resourceUnits"] == 19.0
    assert data["accounting"]["graph"]["roundTrips"] == 1


def test_the_plan_id_and_fingerprints_ignore_what_observing_cost(demo_plan: Plan) -> None:
    calm = with_accounting(demo_plan, _counted(demo_plan), partner_ids=[PARTNER])
    throttled = with_accounting(demo_plan, _counted(demo_plan, retries=3), partner_ids=[PARTNER])
    assert calm.tenants[0].accounting != throttled.tenants[0].accounting
    assert plan_id_of(calm) == plan_id_of(throttled) == plan_id_of(demo_plan) == demo_plan.plan_id
    assert [o.fingerprint for o in calm.operations] == [o.fingerprint for o in demo_plan.operations]


def test_a_plan_without_accounting_renders_no_accounting_key(demo_plan: Plan) -> None:
    data = json.loads(render_json(demo_plan))
    assert "accounting" not in data
    assert all("accounting" not in t for t in data["tenants"])
    assert render_accounting(demo_plan) == ""


def test_the_verbose_lines_show_each_tenant_the_totals_and_graph_s_budget(demo_plan: Plan) -> None:
    plan = with_accounting(demo_plan, _counted(demo_plan, retries=1), partner_ids=[PARTNER])
    text = render_accounting(plan)
    first = plan.tenants[0].name
    assert (
        f"  {first}" in text
        and "graph 3 round trips (15 requests), 19 resource units, 1 retried, 1 throttled" in text
    )
    assert "(partner)  graph 1 round trip, 1 resource unit" in text
    assert "total" in text and "20 resource units in all" in text
    assert "150,000 per 20 s" in text
