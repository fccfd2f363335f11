"""The report benchmark: ``tenantctl report --html DIR --observations FILE`` for a large estate.

A saved observation of ``--tenants`` tenants x ``--users`` users (default 1,000 x 100) is
generated first and not timed: per tenant, 10 groups of 10 members, 2 distribution groups,
2 shared mailboxes with permissions, 2 SKUs, GDAP, consent, MFA and risky-user reports; the
desired state declares 90 of the users (one with another job title), 2 users not there yet,
5 groups with their members and the MFA check, each with a file and line; the real planner
plans it, so the report has drift, findings and a GIT column to show.

Timed: ``report_run``, as the command runs it: reading and validating the file, rendering
every page, writing them (each fsynced) and swapping the directory into place; wall and CPU
time (``--profile FILE`` for where it goes). Target: under 10 s at 1,000 x 100.

    .venv/bin/python bench/report_bench.py [--tenants 1000] [--users 100] [--repeat 1]
        [--keep DIR] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import tempfile
import time
import uuid
from pathlib import Path

import yaml

from controller.models import DesiredState, MSPConfig, Provenance, Source, TenantConfig
from controller.models.declared import estate_declarations
from controller.models.observed import (
    ConsentStatus,
    ExchangeAccess,
    GdapRelationship,
    GdapState,
    MfaRegistration,
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    ObservedTenant,
    ObservedUser,
    Principal,
    RiskyUser,
    Sku,
)
from controller.models.permissions import GLOBAL_ADMINISTRATOR_ROLE, REQUIRED_PERMISSIONS
from controller.plan import PlanContext
from controller.plan.planner import plan_estate
from controller.reconcile import report_run
from controller.render.observations import observations_json, saved_observations

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
DEMO_MSP = Path(__file__).resolve().parents[1] / "desired" / "msp.yaml"
E3, BP = "05e9a617-0261-4cee-bb44-138d3ef5d965", "f245ecc8-75af-4f8e-b61f-27d8114de5c3"
FIRST = ["Alex", "Sam", "Kim", "Noor", "Lena", "Omar", "Ines", "Tom", "Yuki", "Ravi"]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Kowalski", "Chen", "Okafor", "Rossi"]


def _tenant(
    t: int, n_users: int
) -> tuple[TenantConfig, ObservedTenant, dict[tuple[str, ...], Source]]:
    name, domain = f"t{t:05d}", f"t{t:05d}.example.com"
    tenant_id = str(uuid.UUID(int=t + 1, version=4))
    file = f"desired/tenants/{name}.yaml"
    upns = [f"user{u:04d}@{domain}" for u in range(n_users)]
    declared_users = [
        {
            "userPrincipalName": upn,
            "displayName": f"{FIRST[u % 10]} {LAST[u % 8]}",
            "jobTitle": "Director" if u == 3 else "Staff",
            "usageLocation": "US",
            "licenses": ["SPE_E3"] if u % 2 == 0 else ["O365_BUSINESS_PREMIUM"],
        }
        for u, upn in enumerate(upns[: n_users * 9 // 10])
    ] + [
        {"userPrincipalName": f"new{k}@{domain}", "displayName": f"New {k}", "licenses": []}
        for k in range(2)
    ]
    groups = [
        {
            "displayName": f"Group {g}",
            "mailNickname": f"group{g:02d}",
            "members": [upns[(g * 10 + k) % n_users] for k in range(10)],
        }
        for g in range(5)
    ]
    config = TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": name,
                "displayName": f"Synthetic Tenant {t}",
                "tenantId": tenant_id,
                "domains": [domain],
            },
            "spec": {"users": declared_users, "groups": groups, "checks": {"mfa": {}}},
        }
    )
    lines: dict[tuple[str, ...], Source] = {(): Source(file=file, line=6)}
    for i, user in enumerate(declared_users):
        lines[("users", str(user["userPrincipalName"]))] = Source(file=file, line=20 + 6 * i)
    for i, group in enumerate(groups):
        lines[("groups", str(group["mailNickname"]))] = Source(file=file, line=700 + 5 * i)
    lines[("checks", "mfa", "require")] = Source(file=file, line=760)

    users = tuple(
        ObservedUser(
            id=str(uuid.UUID(int=(t << 20) + u, version=4)),
            user_principal_name=upn,
            display_name=f"{FIRST[u % 10]} {LAST[u % 8]}",
            job_title="Staff",
            usage_location="US",
            account_enabled=u % 23 != 5,
            license_sku_ids=frozenset({E3 if u % 2 == 0 else BP}),
        )
        for u, upn in enumerate(upns)
    )
    member = [Principal(id=user.id, address=user.user_principal_name) for user in users]
    observed = ObservedTenant(
        name=name,
        tenant_id=tenant_id,
        observed_at=NOW,
        gdap=GdapState(
            (
                GdapRelationship(
                    "rel",
                    f"{name}-gdap",
                    "active",
                    NOW + dt.timedelta(days=t % 400),
                    frozenset({GLOBAL_ADMINISTRATOR_ROLE}),
                ),
            ),
            "expiring" if t % 400 < 30 else "active",
            True,
            True,
            NOW + dt.timedelta(days=t % 400),
        ),
        consent=ConsentStatus("granted", "sp", REQUIRED_PERMISSIONS, frozenset()),
        exchange=ExchangeAccess("working-direct", "direct", True, True, None),
        verified_domains=frozenset({domain}),
        skus=(
            Sku(E3, "SPE_E3", n_users, n_users // 2),
            Sku(BP, "O365_BUSINESS_PREMIUM", n_users // 2 - 2, n_users // 2),
        ),
        users=users,
        groups=tuple(
            ObservedGroup(
                id=f"g{g}",
                display_name=f"Group {g}",
                mail_nickname=f"group{g:02d}",
                kind="security",
                members=tuple(member[(g * 10 + k) % n_users] for k in range(10)) if g < 5 else None,
            )
            for g in range(10)
        ),
        distribution_groups=tuple(
            ObservedDistributionGroup(f"dg{d}", f"List {d}", None, f"list{d}@{domain}")
            for d in range(2)
        ),
        shared_mailboxes=tuple(
            ObservedSharedMailbox(
                f"mb{m}",
                f"Box {m}",
                None,
                f"box{m}@{domain}",
                full_access=frozenset(upns[:3]),
                send_as=frozenset(upns[:1]),
                send_on_behalf=frozenset(),
            )
            for m in range(2)
        ),
        mfa=tuple(MfaRegistration(upn, u % 7 != 0, True) for u, upn in enumerate(upns)),
        risky_users=(RiskyUser(upns[1], "medium", "atRisk"),),
        action_ledger={},
    )
    return config, observed, lines


def build(tenants: int, users: int, path: Path) -> None:
    msp = MSPConfig.model_validate(yaml.safe_load(DEMO_MSP.read_text(encoding="utf-8")))
    configs, observed, provenance, sources = [], {}, {}, {}
    for t in range(tenants):
        config, seen, lines = _tenant(t, users)
        configs.append(config)
        observed[seen.name] = seen
        provenance[seen.name] = Provenance.of(lines)
        sources[seen.name] = f"desired/tenants/{seen.name}.yaml"
    state = DesiredState(msp, tuple(configs), sources=sources, provenance=provenance)
    plan = plan_estate(state, observed, PlanContext.from_msp(msp, now=NOW))
    saved = saved_observations(plan, observed, estate_declarations(state))
    path.write_text(observations_json(saved), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Write the report here and keep it.")
    parser.add_argument("--profile", type=Path, help="Write a cProfile of the timed part here.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / "observations.json"
        start = time.perf_counter()
        build(args.tenants, args.users, saved)
        print(
            f"saved observation: {args.tenants} tenants x {args.users} users, "
            f"{saved.stat().st_size / 2**20:.1f} MiB, built in {time.perf_counter() - start:.1f} s "
            "(not timed)"
        )
        out = args.keep or Path(scratch) / "report"
        profile = cProfile.Profile() if args.profile else None
        for run in range(1, args.repeat + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            done = report_run(out, observations=[saved])
            if profile:
                profile.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"run {run}: {done.result.pages} pages for {done.result.tenants} tenants in "
                f"{wall:.2f} s wall, {cpu:.2f} s CPU"
            )
        print("target: under 10 s")
        if profile and args.profile:
            profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
