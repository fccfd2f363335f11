"""Planner CPU time for one large tenant, in sync and with ~1% drift, at 1x, 2x and 4x.

1x = 10,000 users, 1,000 groups, 100,000 memberships (100 members per group). Target: under
2 s at 1x, and linear in size. Only ``plan_tenant`` is timed (process CPU time, best of 3);
building the inputs is not.

    .venv/bin/python bench/plan_bench.py [--sizes 1 2 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import time

from controller.models import TenantConfig
from controller.models.observed import (
    ConsentStatus,
    ExchangeAccess,
    GdapState,
    ObservedGroup,
    ObservedTenant,
    ObservedUser,
    Principal,
    Sku,
)
from controller.models.permissions import REQUIRED_PERMISSIONS
from controller.plan import PlanContext, plan_tenant

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
TENANT_ID = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
DOMAIN = "bench.example.com"
CTX = PlanContext(
    now=NOW, app_id="3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", default_usage_location="US"
)
SKU = Sku(sku_id="sku-e3", sku_part_number="SPE_E3", enabled_units=10**6, consumed_units=0)


def upn(i: int) -> str:
    return f"user{i:06d}@{DOMAIN}"


def build(scale: int, drift: bool) -> tuple[TenantConfig, ObservedTenant]:
    n_users, n_groups, per_group = 10_000 * scale, 1_000 * scale, 100
    users = [
        {
            "userPrincipalName": upn(i),
            "displayName": f"User {i}",
            "department": f"Dept {i % 50}",
            "usageLocation": "US",
            "accountEnabled": True,
            "licenses": ["SPE_E3"],
        }
        for i in range(n_users)
    ]
    groups = [
        {
            "displayName": f"Group {g}",
            "mailNickname": f"group{g:05d}",
            "members": [upn((g * per_group + k) % n_users) for k in range(per_group)],
        }
        for g in range(n_groups)
    ]
    desired = TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {"name": "bench", "tenantId": TENANT_ID, "domains": [DOMAIN]},
            "spec": {"users": users, "groups": groups},
        }
    )
    seen_users = [
        ObservedUser(
            id=f"u{i}",
            user_principal_name=upn(i),
            display_name=f"User {i}",
            department=f"Dept {i % 50}",
            usage_location="US",
            account_enabled=True,
            license_sku_ids=frozenset({"sku-e3"}),
        )
        for i in range(n_users)
    ]
    seen_groups = [
        ObservedGroup(
            id=f"g{g}",
            display_name=f"Group {g}",
            mail_nickname=f"group{g:05d}",
            kind="security",
            members=tuple(
                Principal(
                    id=f"u{(g * per_group + k) % n_users}",
                    address=upn((g * per_group + k) % n_users),
                )
                for k in range(per_group)
            ),
        )
        for g in range(n_groups)
    ]
    if drift:  # ~1%: departments changed, users disabled, missing users, members swapped
        for i in range(0, n_users, 100):
            seen_users[i] = dataclasses.replace(seen_users[i], department="Elsewhere")
        for i in range(50, n_users, 200):
            seen_users[i] = dataclasses.replace(seen_users[i], account_enabled=False)
        seen_users = [u for i, u in enumerate(seen_users) if i % 300 != 7]
        for g in range(0, n_groups, 100):
            group = seen_groups[g]
            assert isinstance(group.members, tuple)
            stranger = Principal(id="x", address=f"stranger{g}@{DOMAIN}")
            seen_groups[g] = dataclasses.replace(group, members=(*group.members[1:], stranger))
    observed = ObservedTenant(
        name="bench",
        tenant_id=TENANT_ID,
        observed_at=NOW,
        gdap=GdapState((), "active", True, False, NOW + dt.timedelta(days=365)),
        consent=ConsentStatus("granted", "sp", REQUIRED_PERMISSIONS, frozenset()),
        exchange=ExchangeAccess("not-managed", None, None, None, None),
        verified_domains=frozenset({DOMAIN}),
        skus=(SKU,),
        users=tuple(seen_users),
        groups=tuple(seen_groups),
        distribution_groups=(),
        shared_mailboxes=(),
        mfa=(),
        risky_users=(),
        action_ledger={},
    )
    return desired, observed


def cpu_seconds(desired: TenantConfig, observed: ObservedTenant, repeat: int) -> tuple[float, int]:
    best, ops = float("inf"), 0
    gc.collect()
    gc.freeze()  # the inputs live for the whole run, as in the CLI; do not rescan them
    for _ in range(repeat):
        start = time.process_time()
        plan = plan_tenant(desired, observed, CTX)
        best = min(best, time.process_time() - start)
        ops = len(plan.operations)
    gc.unfreeze()
    return best, ops


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'size':>4} {'users':>7} {'groups':>6} {'members':>8} {'state':>7} {'ops':>6} {'cpu s':>7} {'s/1x':>6}"
    )
    base: dict[str, float] = {}
    for scale in args.sizes:
        for drift in (False, True):
            desired, observed = build(scale, drift)
            seconds, ops = cpu_seconds(desired, observed, args.repeat)
            state = "drift" if drift else "in sync"
            base.setdefault(state, seconds / scale)
            print(
                f"{scale:>3}x {10_000 * scale:>7} {1_000 * scale:>6} {100_000 * scale:>8} "
                f"{state:>7} {ops:>6} {seconds:>7.3f} {seconds / scale:>6.3f}"
            )
    print("target: under 2 s at 1x; s/1x (CPU seconds per 1x of size) flat means linear")


if __name__ == "__main__":
    main()
