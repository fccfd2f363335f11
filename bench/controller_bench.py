"""The controller benchmark, in two parts, against the in-process sandbox on its virtual clock
(cycles run back to back: the controller's sleep advances the clock).

**round trips**: a generated estate (default 200 tenants x 10 users) whose desired state
matches the sandbox, so a cycle has nothing to do. One ``plan`` (``observe_and_plan``, fresh
connections) and then one controller cycle with every tenant due are measured alike: round
trips on the wire (the sandbox's request log, batch items not counted) and the client's
accounting. Target: the idle cycle costs at most the round trips of the plan (it is a plan,
plus an apply with nothing to do and a journal run).

**memory**: the same controller runs ``--cycles`` cycles (default 100) with every tenant due
each time (refresh = interval), and the process's resident set size is printed after cycle 1,
the middle one and the last (the sandbox's request log is cleared after each cycle: it is the
emulator's, not the controller's). Target: flat (growth within a few MiB, no trend).

    .venv/bin/python bench/controller_bench.py [--tenants 200] [--users 10] [--cycles 100]
        [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan_bench import _scenario, write_desired

from controller.connectors import Connections
from controller.loader import load_desired
from controller.loop import Controller, ControllerOptions, DesiredSource, Timing
from controller.models import MSPConfig
from controller.reconcile import World, observe_and_plan, sandbox_settings
from controller.sandbox import Sandbox

INTERVAL = 900.0


def rss_mib() -> float:
    """The resident set size of this process now (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wire(sb: Sandbox) -> Counter[str]:
    return Counter(r.service for r in sb.requests if not r.in_batch)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tenantctl-controller-bench-") as tmp:
        os.environ["HOME"] = str(Path(tmp) / "home")
        os.environ.pop("TENANTCTL_HOME", None)
        scenario = _scenario(args.tenants, args.users)
        desired = write_desired(scenario, Path(tmp))
        state = load_desired(desired)
        with Sandbox(scenario) as sb:
            sb.clock.freeze()
            sb.throttle.disable()

            async def wait(seconds: float) -> None:
                sb.clock.advance(seconds)

            def world_for(msp: MSPConfig, tenants: object) -> World:
                return World(sandbox_settings(msp, sb), sb)

            opened: list[Connections] = []

            def connections(world: World) -> Connections:
                opened.append(Connections(world.settings, sleep=wait))
                return opened[-1]

            print(
                f"== controller against the sandbox: {args.tenants} tenants x {args.users} "
                f"users, concurrency {args.concurrency} =="
            )

            # -- round trips: a plan, then an idle cycle --------------------------------------
            async def plan() -> int:
                async with connections(world_for(state.msp, None)) as conns:
                    result = await observe_and_plan(
                        state,
                        world_for(state.msp, None),
                        concurrency=args.concurrency,
                        connections=conns,
                    )
                    assert not result.plan.operations, "the estate should match the sandbox"
                    return conns.accounting.total().round_trips

            sb.accounting.clear()
            plan_client = asyncio.run(plan())
            plan_wire = wire(sb)

            controller = Controller(
                DesiredSource(desired),
                world_for,
                ControllerOptions(
                    journal=Path(tmp) / "journal.sqlite",
                    timing=Timing(INTERVAL, jitter=0.0),
                    refresh=INTERVAL,
                    concurrency=args.concurrency,
                ),
                clock=sb.clock.now,
                sleep=sb.clock.advance,
                connections=connections,
                user="bench",
            )
            sb.accounting.clear()
            started = time.perf_counter()
            report = controller.cycle()
            first_wall = time.perf_counter() - started
            assert report.result is not None and len(report.reconciled) == args.tenants
            assert not report.result.plan.operations
            cycle_client = opened[-1].accounting.total().round_trips
            cycle_wire = wire(sb)
            sb.accounting.clear()
            print(
                "plan:       round trips on the wire "
                + ", ".join(f"{s} {n}" for s, n in sorted(plan_wire.items()))
                + f"; total {sum(plan_wire.values())} (client accounting {plan_client})"
            )
            print(
                "idle cycle: round trips on the wire "
                + ", ".join(f"{s} {n}" for s, n in sorted(cycle_wire.items()))
                + f"; total {sum(cycle_wire.values())} (client accounting {cycle_client}); "
                f"{first_wall:.1f} s"
            )
            ok = sum(cycle_wire.values()) <= sum(plan_wire.values())
            print(f"result: idle cycle <= plan: {'OK' if ok else 'MISSED'}")

            # -- memory over many cycles --------------------------------------------------------
            marks = {1, max(args.cycles // 2, 1), args.cycles}
            rss: dict[int, float] = {}
            walls: list[float] = []
            for number in range(1, args.cycles + 1):
                controller.sleep(controller.until_next())
                started = time.perf_counter()
                report = controller.cycle()
                walls.append(time.perf_counter() - started)
                assert len(report.reconciled) == args.tenants, report.problem
                opened.clear()
                sb.accounting.clear()
                if number in marks:
                    rss[number] = rss_mib()
                    print(f"after cycle {number:>4}: RSS {rss[number]:.1f} MiB")
            growth = rss[args.cycles] - rss[1]
            print(
                f"cycles: {args.cycles} x {args.tenants} tenants, mean {sum(walls) / len(walls):.2f}"
                f" s per cycle; RSS growth from cycle 1 to {args.cycles}: {growth:+.1f} MiB"
            )


if __name__ == "__main__":
    main()
