"""Sandbox benchmark: load time of a generated 1,000 x 100 scenario, and the sandbox's own
average CPU time per simple Graph GET (measured in the handler threads, so the client's cost
is excluded). ``--batch N``: per Graph ``$batch`` of N items instead (a user, the users page,
the groups page in turn: what an observation sends), the request tenantctl sends most.

    .venv/bin/python bench/sandbox_bench.py [--tenants 1000] [--users 100] [--requests 2000]
        [--batch N]
"""

from __future__ import annotations

import argparse
import ssl
import time

import httpx

from controller.sandbox import Sandbox, generate_scenario
from controller.sandbox._tokens import issue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=0, help="items per $batch (0: plain GETs)")
    args = parser.parse_args()

    started = time.perf_counter()
    scenario = generate_scenario(
        tenants=args.tenants, users=args.users, groups=args.groups, members_per_group=10, seed=1
    )
    generated = time.perf_counter()
    sb = Sandbox(scenario)
    loaded = time.perf_counter()
    print(
        f"load: generate {generated - started:.2f} s + build world {loaded - generated:.2f} s "
        f"= {loaded - started:.2f} s for {args.tenants} tenants x {args.users} users (target < 10 s)"
    )
    with sb:
        tenant = scenario.tenants[0].tenant_id
        user = scenario.tenants[0].users[0].user_principal_name
        graph = sb.endpoints["graph"]
        now = sb.clock.now()
        token = issue(
            sb.world.token_key,
            {"aud": graph, "tid": tenant, "roles": ["User.Read.All"], "exp": now + 3600},
        )
        sb.throttle.disable()
        context = ssl.create_default_context(cafile=str(sb.ca_path))
        with httpx.Client(
            verify=context, trust_env=False, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            urls = [f"/users/{user}", "/users?$top=100", "/groups?$select=id,displayName"]
            batch = {
                "requests": [
                    {"id": str(i), "method": "GET", "url": urls[i % len(urls)]}
                    for i in range(args.batch)
                ]
            }

            def send() -> httpx.Response:
                if args.batch:
                    return client.post(f"{graph}/v1.0/$batch", json=batch)
                return client.get(f"{graph}/v1.0/users/{user}")

            send()  # connect and warm up
            sb.accounting.clear()
            wall = time.perf_counter()
            for _ in range(args.requests):
                assert send().status_code == 200
            wall = time.perf_counter() - wall
        stats = sb.stats()
        what = f"$batch of {args.batch} GETs" if args.batch else "GET /v1.0/users/{upn}"
        print(
            f"{what}: sandbox CPU {stats['cpuSecondsPerRequest'] * 1000:.3f} ms "
            f"per request on average over {args.requests} (target < 1 ms); "
            f"wall {wall / args.requests * 1000:.3f} ms per request including the client"
        )


if __name__ == "__main__":
    main()
