"""tenantctl against its peer, side by side: ``tenantctl plan`` and the naive script an MSP
engineer would write (``bench/naive_peer.py``), run in turn (A B A B ...) against the same
sandbox served from a child process, on a generated estate (default 200 tenants x 50 users,
10 groups of 10 members, 20 ms latency per request).

Each command runs as its own process, as an operator runs it. Printed per run and as medians:
wall time, CPU (user + sys of the process and the workers it forked, from the kernel's
accounting), peak memory (the largest resident set among them), round trips on the wire (the
sandbox's request log; items inside a ``$batch`` are not round trips), CPU per round trip, and
the ratio tenantctl / peer of each pair, and the sandbox's own CPU (its handler threads' CPU time,
TLS handshakes apart) in seconds and per round trip. Target (the performance issue): tenantctl's wall time
at most 0.6 x the peer's. ``--no-peer`` runs tenantctl alone (the scale figures).

    .venv/bin/python bench/peer_bench.py [--tenants 200] [--users 50] [--latency 0.02] [--runs 5]
        [--no-peer] [--workers N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_bench import _scenario, write_desired

from controller.sandbox import Sandbox

HERE = Path(__file__).resolve().parent


def _serve(conn: Any, tenants: int, users: int, latency: float) -> None:
    # Started at the wall clock: tenantctl, pointed at it as at real endpoints, reads the wall
    # clock too.
    with Sandbox(_scenario(tenants, users), epoch=time.time()) as sb:
        sb.latency = latency
        partner = sb.world.partner
        conn.send(
            (sb.endpoints, str(sb.ca_path), sb.secrets, partner.tenant_id, partner.app.client_id)
        )
        while conn.recv() == "count":
            wire = Counter(r.service for r in sb.requests if not r.in_batch)
            conn.send((dict(wire), float(sb.stats()["cpuSeconds"])))
            sb.accounting.clear()


@dataclass
class Measured:
    wall: float
    cpu: float
    round_trips: int
    returncode: int
    peak_mib: float
    sandbox_cpu: float  # the sandbox's handler threads, TLS handshakes apart

    @property
    def sandbox_cpu_per_round_trip_ms(self) -> float:
        return 1000 * self.sandbox_cpu / self.round_trips if self.round_trips else float("nan")

    @property
    def cpu_per_round_trip_ms(self) -> float:
        return 1000 * self.cpu / self.round_trips if self.round_trips else float("nan")


def run(command: list[str], env: dict[str, str], counts: Any) -> Measured:
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        # The child's own usage, its workers' included (they are reaped before it exits).
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in (0, 2):
            out.seek(0)
            print(out.read()[-4000:].decode(errors="replace"), file=sys.stderr)
    counts.send("count")
    wire, sandbox_cpu = counts.recv()
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(
        wall, cpu, sum(wire.values()), child.returncode, usage.ru_maxrss / 1024, sandbox_cpu
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-peer", action="store_true", help="run tenantctl alone")
    parser.add_argument("--workers", type=int, help="tenantctl plan --workers (default: its own)")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(child, args.tenants, args.users, args.latency), daemon=True
    )
    server.start()
    endpoints, ca, secrets, partner_id, client_id = parent.recv()
    with tempfile.TemporaryDirectory(prefix="tenantctl-peer-") as tmp:
        desired = write_desired(_scenario(args.tenants, args.users), Path(tmp))
        msp = yaml.safe_load((desired / "msp.yaml").read_text(encoding="utf-8"))
        msp["spec"]["endpoints"] = {
            "login": endpoints["login"],
            "graph": endpoints["graph"],
            "exchange": endpoints["exchange"],
            "partnerCenter": endpoints["partnerCenter"],
        }
        msp["spec"]["caBundle"] = ca
        msp["spec"]["partner"] = {
            "tenantId": partner_id,
            "clientId": client_id,
            "credential": {"secret": {"env": "TENANTCTL_CLIENT_SECRET"}},
        }
        msp["spec"].pop("cipp", None)
        (desired / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False), encoding="utf-8")
        env = {
            **os.environ,
            "TENANTCTL_CLIENT_SECRET": secrets["partner"],
            "HOME": tmp,
        }
        tenantctl = [str(Path(sys.executable).with_name("tenantctl")), "plan", "--desired"]
        ours = [*tenantctl, str(desired)]
        if args.workers:
            ours += ["--workers", str(args.workers)]
        peer = [
            sys.executable,
            str(HERE / "naive_peer.py"),
            "--login",
            endpoints["login"],
            "--graph",
            endpoints["graph"],
            "--ca",
            ca,
            "--partner",
            partner_id,
            "--client-id",
            client_id,
        ]
        who = "tenantctl plan alone" if args.no_peer else "tenantctl plan vs the naive script"
        print(
            f"== {who}: {args.tenants} tenants x {args.users} users, "
            f"{args.latency * 1000:.0f} ms latency, {args.runs} runs =="
        )
        run(ours, env, parent)  # warm-up: imports, caches, the sandbox's first connections
        if not args.no_peer:
            run(peer, env, parent)
        pairs: list[tuple[Measured, Measured | None]] = []
        for i in range(args.runs):
            a = run(ours, env, parent)
            b = None if args.no_peer else run(peer, env, parent)
            pairs.append((a, b))
            line = f"run {i + 1}: tenantctl {_figures(a)}"
            if b is not None:
                line += f" | peer {_figures(b)} | ratio {a.wall / b.wall:.2f}"
            print(line)
    parent.send("stop")
    server.join(timeout=30)

    def median(values: list[float]) -> float:
        return statistics.median(values)

    ours_runs = [a for a, _ in pairs]
    print(f"median tenantctl: {_medians(ours_runs, args.tenants)}")
    peer_runs = [b for _, b in pairs if b is not None]
    if not peer_runs:
        return
    print(f"median peer:      {_medians(peer_runs, args.tenants)}")
    ratios = [a.wall / b.wall for a, b in pairs if b is not None]
    ratio = statistics.median(ratios)
    print(
        f"wall ratio tenantctl / peer: median {ratio:.2f} (min {min(ratios):.2f}, "
        f"max {max(ratios):.2f}); target <= 0.6: {'OK' if ratio <= 0.6 else 'MISSED'}"
    )


def _figures(m: Measured) -> str:
    return (
        f"{m.wall:.2f} s wall, {m.cpu:.2f} s CPU, {m.peak_mib:.0f} MiB, "
        f"{m.round_trips} round trips (exit {m.returncode}); sandbox {m.sandbox_cpu:.3f} s CPU, "
        f"{m.sandbox_cpu_per_round_trip_ms:.3f} ms per round trip"
    )


def _medians(runs: list[Measured], tenants: int) -> str:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    wall = median([m.wall for m in runs])
    return (
        f"{wall:.2f} s wall ({1000 * wall / tenants:.1f} ms per tenant), "
        f"{median([m.cpu for m in runs]):.2f} s CPU, "
        f"{median([m.peak_mib for m in runs]):.0f} MiB peak, "
        f"{median([m.round_trips for m in runs]):.0f} round trips, "
        f"{median([m.cpu_per_round_trip_ms for m in runs]):.2f} ms CPU per round trip; "
        f"sandbox {median([m.sandbox_cpu for m in runs]):.3f} s CPU, "
        f"{median([m.sandbox_cpu_per_round_trip_ms for m in runs]):.3f} ms per round trip"
    )


if __name__ == "__main__":
    main()
