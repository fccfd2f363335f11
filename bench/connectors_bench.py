"""Connectors benchmark: observe one sandbox tenant of 500 users and 50 groups (20 members
each) as ``tenantctl plan`` does, and print what it cost on the wire.

The tenant's desired state (built here, not loaded) declares the 50 groups with their members,
every user with a licence, and the MFA and risky-user checks, so observe reads the consent,
directory roles, licences, users, groups, members and both security reports. Target: at most
6 Graph round trips for the tenant (``$batch`` and ``$top=999``).

    .venv/bin/python bench/connectors_bench.py [--users 500] [--groups 50] [--members 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from collections import Counter
from pathlib import Path
from typing import Any

from controller.connectors import Connections
from controller.loader import load_desired
from controller.models import TenantConfig
from controller.observe import TenantObserver, read_partner_facts
from controller.reconcile import sandbox_settings
from controller.sandbox import Sandbox, generate_scenario

DESIRED = Path(__file__).resolve().parents[1] / "desired"
TARGET_ROUND_TRIPS = 6


def desired_tenant(scenario_tenant: Any) -> TenantConfig:
    """The tenant file an MSP would write for the generated tenant."""
    users = [
        {
            "userPrincipalName": u.user_principal_name,
            "displayName": u.display_name,
            "usageLocation": u.usage_location,
            "licenses": list(u.licenses),
        }
        for u in scenario_tenant.users
    ]
    groups = [
        {
            "displayName": g.display_name,
            "mailNickname": g.mail_nickname,
            "type": g.type,
            "members": list(g.members),
        }
        for g in scenario_tenant.groups
    ]
    return TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": scenario_tenant.name,
                "tenantId": scenario_tenant.tenant_id,
                "domains": list(scenario_tenant.domains),
            },
            "spec": {
                "users": users,
                "groups": groups,
                "checks": {"mfa": {"require": "registered"}, "riskyUsers": {"maxRiskLevel": "low"}},
            },
        }
    )


async def observe(sandbox: Sandbox, tenant: TenantConfig) -> tuple[Any, Connections]:
    msp = load_desired(DESIRED).msp
    connections = Connections(sandbox_settings(msp, sandbox))
    async with connections:
        partner = await read_partner_facts(connections, cipp=False)
        observer = TenantObserver(
            connections,
            app_id=connections.settings.client_id,
            partner=partner,
            now=dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC),
        )
        observed = await observer.observe(tenant)
    return observed, connections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--members", type=int, default=20)
    args = parser.parse_args()

    scenario = generate_scenario(
        tenants=1, users=args.users, groups=args.groups, members_per_group=args.members, seed=1
    )
    spec = scenario.tenants[0]
    tenant = desired_tenant(spec)
    with Sandbox(scenario) as sandbox:
        sandbox.clock.advance(1)  # past the scenario's creation instant
        started = time.perf_counter()
        observed, connections = asyncio.run(observe(sandbox, tenant))
        wall = time.perf_counter() - started
        stats = sandbox.stats()
        batch_sizes = [
            r.batch_size
            for r in sandbox.requests
            if r.service == "graph" and r.tenant_id == spec.tenant_id and r.batch_size
        ]
        paths = Counter(
            r.path.split("?", 1)[0].split("/")[2]
            for r in sandbox.requests
            if r.service == "graph" and r.tenant_id == spec.tenant_id and not r.in_batch
        )

    graph = connections.accounting.tenant(spec.tenant_id, "graph")
    partner = connections.accounting.tenant(scenario.partner.tenant_id, "graph")
    exchange = connections.accounting.tenant(spec.tenant_id, "exchange")
    members = sum(len(g.members) for g in observed.groups if not isinstance(g.members, type(None)))
    print(
        f"tenant: {args.users} users, {args.groups} groups x {args.members} members "
        f"(observed {len(observed.users)} users, {len(observed.groups)} groups, "
        f"{members} memberships, MFA {type(observed.mfa).__name__}, "
        f"risky {type(observed.risky_users).__name__}, consent {observed.consent.state})"
    )
    verdict = "ok" if graph.round_trips <= TARGET_ROUND_TRIPS else "OVER TARGET"
    print(
        f"graph (tenant):  {graph.round_trips} round trips [target <= {TARGET_ROUND_TRIPS}: "
        f"{verdict}], {graph.requests} requests, {graph.batch_items} batch items, "
        f"{graph.retries} retries, {graph.throttles} throttles, "
        f"{graph.resource_units:.0f} resource units"
    )
    print(f"  $batch envelope sizes: {batch_sizes}; top-level paths: {dict(paths)}")
    print(
        f"graph (partner, once per run): {partner.round_trips} round trips, "
        f"{partner.requests} requests"
    )
    print(f"exchange: {exchange.round_trips} round trips, {exchange.requests} requests")
    print(
        f"sandbox: {stats['requests']} HTTP requests ({stats['batchItems']} batch items), "
        f"by service {stats['byService']}, CPU {stats['cpuSeconds']:.3f} s "
        f"(+ TLS handshakes {stats['tlsHandshakeCpuSeconds']:.3f} s)"
    )
    print(f"wall time: {wall:.2f} s (observe, including token acquisition)")


if __name__ == "__main__":
    main()
