"""How long does ``validate_desired`` take on a large estate?

Generates, in a temporary directory, an estate of TENANTS tenant files holding USERS users in
total (plus groups with members, distribution groups, shared mailboxes and actions), then
loads and validates it once and prints the time and the rate. Not a test: run it by hand::

    .venv/bin/python bench/validate_bench.py                     # 1,000 tenants, 100,000 users
    .venv/bin/python bench/validate_bench.py --profiles 5        # ... taking 5 profiles
    .venv/bin/python bench/validate_bench.py --tenants 10 --users 500
    .venv/bin/python bench/validate_bench.py --cprofile          # where the time goes

With ``--profiles N`` (up to 5) the tenants take profiles as an MSP's would: a baseline and a
security profile named by every tenant, one selected by label (every third tenant), one named
by every fourth tenant, one in report mode named by every tenth; every fifth tenant overrides
a field of the baseline's helpdesk mailbox.

Target on a developer machine: under 10 s for the default size, with or without profiles.
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

_HEAD = "# yaml-language-server: $schema=../../schemas/profile.schema.json\n"
# (name, how tenants take it, the profile's file after its metadata)
PROFILES = (
    (
        "baseline",
        "named",
        """\
spec:
  users:
    - userPrincipalName: breakglass@${tenant.primaryDomain}
      displayName: Break Glass (${tenant.displayName})
      accountEnabled: true
      usageLocation: US
  sharedMailboxes:
    - name: Helpdesk
      primarySmtpAddress: helpdesk@${tenant.primaryDomain}
      fullAccess: ["user00000@${tenant.primaryDomain}"]
  policy:
    kinds: {user.delete: approve, group.addMember: allow}
""",
    ),
    (
        "security",
        "named",
        """\
spec:
  checks:
    mfa: {require: registered, except: ["breakglass@${tenant.primaryDomain}"]}
    riskyUsers: {maxRiskLevel: low}
""",
    ),
    (
        "gold",
        "label",
        """\
selector:
  matchLabels: {tier: gold}
spec:
  groups:
    - mailNickname: vip
      displayName: VIP desk of ${tenant.displayName}
      members: ["user00001@${tenant.primaryDomain}", "user00002@${tenant.primaryDomain}"]
""",
    ),
    (
        "healthcare",
        "every 4th",
        """\
spec:
  distributionGroups:
    - name: Clinical Staff
      primarySmtpAddress: clinical@${tenant.primaryDomain}
      members: ["user00000@${tenant.primaryDomain}", "breakglass@${tenant.primaryDomain}"]
""",
    ),
    (
        "pilot",
        "every 10th, report mode",
        """\
mode: report
spec:
  sharedMailboxes:
    - name: IT Desk
      primarySmtpAddress: itdesk@${tenant.primaryDomain}
      fullAccess: ["user00000@${tenant.primaryDomain}"]
""",
    ),
)


def profile_yaml(name: str, body: str) -> str:
    return f"{_HEAD}apiVersion: tenantctl/v1\nkind: Profile\nmetadata:\n  name: {name}\n{body}"


def takes(index: int, profiles: int) -> tuple[list[str], bool]:
    """The profiles tenant ``index`` names, and whether it carries the gold label."""
    named = [name for name, how, _ in PROFILES[:profiles] if how == "named"]
    if profiles >= 4 and index % 4 == 0:
        named.append("healthcare")
    if profiles >= 5 and index % 10 == 0:
        named.append("pilot")
    return named, profiles >= 3 and index % 3 == 0


def tenant_yaml(index: int, users: int, profiles: int = 0) -> str:
    """One tenant file, written the way people write them (block style, some comments)."""
    name = f"tenant{index:05d}"
    named, gold = takes(index, profiles)
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
        *(["  labels: {tier: gold}"] if gold else []),
        "spec:",
        *([f"  profiles: [{', '.join(named)}]"] if named else []),
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
        *(
            [
                f"    - primarySmtpAddress: helpdesk@{domain}",
                f"      fullAccess: [{', '.join(upns[:2])}]",
            ]
            if profiles and index % 5 == 0
            else []
        ),
        "  actions:",
        f"    - id: {name}-reset-1",
        f"      resetPassword: {{user: {upns[0]}}}",
        "  checks:",
        "    mfa: {require: registered}",
    ]
    return "\n".join(lines) + "\n"


def generate(root: Path, tenants: int, users: int, profiles: int = 0) -> Path:
    desired = root / "desired"
    (desired / "tenants").mkdir(parents=True)
    (desired / "msp.yaml").write_text(MSP, encoding="utf-8")
    if profiles:
        (desired / "profiles").mkdir()
    for name, _, body in PROFILES[:profiles]:
        (desired / "profiles" / f"{name}.yaml").write_text(profile_yaml(name, body))
    per_tenant, extra = divmod(users, tenants)
    for index in range(tenants):
        count = per_tenant + (1 if index < extra else 0)
        path = desired / "tenants" / f"tenant{index:05d}.yaml"
        path.write_text(tenant_yaml(index, max(count, 3), profiles), encoding="utf-8")
    return desired


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=100_000, help="users in total")
    parser.add_argument(
        "--profiles", type=int, default=0, choices=range(len(PROFILES) + 1), help="0 to 5"
    )
    parser.add_argument("--cprofile", action="store_true", help="print where the time goes")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tenantctl-bench-") as tmp:
        desired = generate(Path(tmp), args.tenants, args.users, args.profiles)
        size = sum(p.stat().st_size for p in desired.rglob("*.yaml"))
        profiler = cProfile.Profile() if args.cprofile else None
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
    with_profiles = f", {len(state.profiles)} profiles" if state.profiles else ""
    print(
        f"validated {len(state.tenants):,} tenants{with_profiles}, {users:,} users "
        f"({size / 1e6:.1f} MB of YAML) in {elapsed:.2f} s ({cpu:.2f} s CPU): "
        f"{users / elapsed:,.0f} users/s"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
