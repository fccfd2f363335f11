"""How long does ``validate_desired`` take on a large estate?

Generates, in a temporary directory, an estate of TENANTS tenant files holding USERS users in
total (plus groups with members, distribution groups, shared mailboxes and actions), then
loads and validates it once and prints the time and the rate. Not a test: run it by hand::

    .venv/bin/python bench/validate_bench.py                     # 1,000 tenants, 100,000 users
    .venv/bin/python bench/validate_bench.py --tenants 10 --users 500
    .venv/bin/python bench/validate_bench.py --profile           # where the time goes

Target on a developer machine: under 10 s for the default size.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

from controller.loader import validate_desired

MSP = """\
apiVersion: tenantctl/v1
kind: MSP
metadata:
  name: bench-msp
spec:
  partner:
    tenantId: 0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21
    clientId: 3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f
    credential:
      secret: {env: TENANTCTL_CLIENT_SECRET}
  cipp:
    baseUrl: https://cipp.example.com
    tenantId: 0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21
    clientId: 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d
    secret: {env: CIPP_CLIENT_SECRET}
  defaults:
    usageLocation: US
"""

DEPARTMENTS = ("Sales", "Support", "Finance", "Engineering", "Operations")


def tenant_yaml(index: int, users: int) -> str:
    """One tenant file, written the way people write them (block style, some comments)."""
    name = f"tenant{index:05d}"
    domain = f"{name}.example.com"
    tenant_id = uuid.UUID(int=index + 1, version=4)
    lines = [
        "# yaml-language-server: $schema=../../schemas/tenant.schema.json",
        "apiVersion: tenantctl/v1",
        "kind: Tenant",
        "metadata:",
        f"  name: {name}",
        f"  displayName: Tenant {index}",
        f"  tenantId: {tenant_id}",
        f"  domains: [{domain}, {name}.onmicrosoft.com]",
        "spec:",
        "  consent: granted",
        f"  exchange: {'cipp' if index % 2 else 'direct'}",
        "  users:",
    ]
    upns = [f"user{u:05d}@{domain}" for u in range(users)]
    for u, upn in enumerate(upns):
        lines += [
            f"    - userPrincipalName: {upn}",
            f"      displayName: User {u} of {name}",
            f"      givenName: User{u}",
            "      surname: Example",
            f"      department: {DEPARTMENTS[u % len(DEPARTMENTS)]}",
            "      accountEnabled: true",
            "      usageLocation: NO" if u % 7 == 0 else "      usageLocation: US",
            "      licenses: [SPE_E3]",
        ]
    lines.append("  groups:")
    for g, department in enumerate(DEPARTMENTS):
        members = upns[g :: len(DEPARTMENTS)]
        lines += [
            f"    - displayName: {department}",
            f"      mailNickname: {department.lower()}",
            "      type: security",
            "      members:",
            *(f"        - {m}" for m in members),
        ]
    lines += [
        "  distributionGroups:",
        "    - name: All Staff",
        f"      primarySmtpAddress: allstaff@{domain}",
        f"      members: [{', '.join(upns[:10])}]",
        "  sharedMailboxes:",
        "    - name: Support",
        f"      primarySmtpAddress: support@{domain}",
        f"      fullAccess: [{', '.join(upns[:3])}]",
        f"      sendAs: [{upns[0]}]",
        "  actions:",
        f"    - id: {name}-reset-1",
        f"      resetPassword: {{user: {upns[0]}}}",
        "  checks:",
        "    mfa: {require: registered}",
    ]
    return "\n".join(lines) + "\n"


def generate(root: Path, tenants: int, users: int) -> Path:
    desired = root / "desired"
    (desired / "tenants").mkdir(parents=True)
    (desired / "msp.yaml").write_text(MSP, encoding="utf-8")
    per_tenant, extra = divmod(users, tenants)
    for index in range(tenants):
        count = per_tenant + (1 if index < extra else 0)
        path = desired / "tenants" / f"tenant{index:05d}.yaml"
        path.write_text(tenant_yaml(index, max(count, 1)), encoding="utf-8")
    return desired


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=100_000, help="users in total")
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tenantctl-bench-") as tmp:
        desired = generate(Path(tmp), args.tenants, args.users)
        size = sum(p.stat().st_size for p in desired.rglob("*.yaml"))
        profiler = cProfile.Profile() if args.profile else None
        start, start_cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        state, problems = validate_desired(desired)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - start_cpu

    if state is None:
        for problem in problems[:20]:
            print(problem, file=sys.stderr)
        print(f"the generated estate is invalid ({len(problems)} problems)", file=sys.stderr)
        return 1
    users = sum(len(t.spec.users) for t in state.tenants)
    print(
        f"validated {len(state.tenants):,} tenants, {users:,} users "
        f"({size / 1e6:.1f} MB of YAML) in {elapsed:.2f} s ({cpu:.2f} s CPU): "
        f"{users / elapsed:,.0f} users/s"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
