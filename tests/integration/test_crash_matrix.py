"""The crash matrix: ``tenantctl apply`` (its own process) is killed with SIGKILL right after
each write of its run in turn (the sandbox serves the Nth write, then kills the client before
answering), and re-run, with the sandbox's replication delay on, until the tenant matches.
Every case converges under the one approval given before the first run: no object exists
twice, the one-shot reset ran at most once (a reset cut off between its call and its record is
reported "may have run: verify", never run again), and there is no password file for a write
that did not happen.

Also: killed right after ``user.create``, the re-run assigns the licence without a new
approval; had someone changed the user's usage location in between, the licence is stale.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.apply import DirectorySink, HoldReason, Journal
from controller.apply.engine import ApplyResult
from controller.apply.lock import apply_lock
from controller.connectors import Connections, settings_from_msp
from controller.loader import load_desired
from controller.plan import Plan
from controller.policy import create_approval, load_approvals
from controller.reconcile import Outputs, Where, World, apply_estate, plan_run
from controller.sandbox import Sandbox
from tests.integration.conftest import serving
from tests.integration.subprocess_support import apply_command, environment, estate

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
RESET = "crash-reset-bob"
TENANT = f"""
apiVersion: tenantctl/v1
kind: Tenant
metadata:
  name: contoso
  tenantId: {CONTOSO}
  domains: [contoso.com, contoso.onmicrosoft.com]
spec:
  consent: granted
  exchange: direct
  existingPrincipals: [bob@contoso.com]
  users:
    - {{userPrincipalName: zed@contoso.com, displayName: Zed Teller, licenses: [SPE_E3]}}
  groups:
    - {{displayName: Tellers, mailNickname: tellers, type: security, members: [zed@contoso.com]}}
  distributionGroups:
    - {{name: Branch, primarySmtpAddress: branch@contoso.com, members: [bob@contoso.com]}}
  sharedMailboxes:
    - {{name: Vault, primarySmtpAddress: vault@contoso.com, fullAccess: [bob@contoso.com]}}
  actions:
    - {{id: {RESET}, resetPassword: {{user: bob@contoso.com}}}}
"""


class Case:
    """One sandbox for the whole matrix, its world put back before each case; the plan and
    its one approval are made once (the same world gives the same fingerprints)."""

    def __init__(self, sb: Sandbox, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sb, self.root = sb, root
        self.desired = estate(root, sb, {"contoso": TENANT}, policy={"default": "approve"})
        self.env = environment(root, sb)
        for name in ("TENANTCTL_CLIENT_SECRET", "CIPP_CLIENT_SECRET", "HOME"):
            monkeypatch.setenv(name, self.env[name])
        self.state = load_desired(self.desired)
        self.plan_file = root / "plan.json"
        self.fresh_world()
        plan_run(self.state, Where(), outputs=Outputs(json=self.plan_file))
        create_approval(
            self.plan_file,
            by="Dana Reviewer",
            only=None,
            expires=dt.timedelta(hours=4),
            reason="crash matrix",
            now=dt.datetime.now(dt.UTC),
            directory=root / "approvals",
        )

    def fresh_world(self) -> None:
        self.sb.reset()
        self.sb.clock.set(time.time())  # tenantctl reads the wall clock against a served world

    def start(self, work: Path) -> None:
        """A clean working directory for one case, holding the one approval."""
        self.fresh_world()
        shutil.rmtree(self.root / "secrets", ignore_errors=True)  # each case counts its own
        work.mkdir()
        shutil.copytree(self.root / "approvals", work / "approvals")

    def apply_in_process(self, work: Path) -> ApplyResult:
        """A re-run: the same steps as ``tenantctl apply`` (apply_estate under the journal's
        lock), in this process, its retries waiting on the service's clock, not on ours."""
        world = World(settings_from_msp(self.state.msp))
        approvals = load_approvals(work / "approvals", dt.datetime.now(dt.UTC))

        async def sleep(seconds: float) -> None:
            self.sb.clock.advance(seconds)

        async def run() -> ApplyResult:
            async with Connections(world.settings, sleep=sleep) as connections:
                with Journal.open(work / "journal.sqlite", clock=world.now) as journal:
                    return await apply_estate(
                        self.state,
                        world,
                        approvals=approvals,
                        journal=journal,
                        sink=DirectorySink(self.root / "secrets"),
                        connections=connections,
                        user="ci",
                    )

        with apply_lock(work / "journal.sqlite"):
            return asyncio.run(run())

    def killed_after(self, work: Path, writes: int, path: str = ".*") -> int:
        """Run apply as a process that dies right after the sandbox served its ``writes``-th
        write (matching ``path``); its exit status (-9 when killed). The writes before it are
        replicated at once (only to reach the Nth sooner); the Nth is hidden by the replication
        delay, as are the re-runs' own."""
        delay, victim, served = self.sb.replication_delay, {}, [0]
        self.sb.replication_delay = 0

        def on_write() -> None:
            served[0] += 1
            if served[0] == writes - 1:
                self.sb.replication_delay = delay
            elif served[0] == writes:
                os.kill(victim["pid"], signal.SIGKILL)

        if writes == 1:
            self.sb.replication_delay = delay
        rule = self.sb.faults.add(path=path, writes=True, count=None, then=on_write)
        command = apply_command(work, self.desired)
        command[command.index("--approvals") + 1] = str(work / "approvals")
        env = {**self.env, "HOME": str(work / "home")}
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        victim["pid"] = process.pid
        status = process.wait(timeout=120)
        self.sb.faults.rules.remove(rule)
        self.sb.replication_delay = delay
        return status

    def rerun_until_settled(self, work: Path) -> tuple[list[ApplyResult], Plan]:
        """Re-run at once (replication still hides what the killed run made), then with the
        service's clock moved past the replication delay, until a run's plan finds nothing
        left; the runs, and that plan."""
        results: list[ApplyResult] = []
        for _ in range(5):
            results.append(self.apply_in_process(work))
            if not _work_left(results[-1].plan):
                break
            self.sb.clock.advance(10)
        return results, results[-1].plan


def _work_left(plan: Plan) -> bool:
    return bool(plan.operations) or any(
        u.area != f"actions/{RESET}" for t in plan.tenants for u in t.unknown
    )


@pytest.fixture(scope="module")
def matrix(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Case]:
    root = tmp_path_factory.mktemp("crash")
    with serving(root / "sandbox") as sb, pytest.MonkeyPatch.context() as monkeypatch:
        yield Case(sb, root, monkeypatch)


def _writes_of_a_whole_run(case: Case, work: Path) -> int:
    case.start(work)
    counter = case.sb.faults.add(writes=True, count=None, then=lambda: None)
    result = case.apply_in_process(work)
    case.sb.faults.rules.remove(counter)
    assert not result.failed and not _work_left(case.apply_in_process(work).plan)
    return counter.hits


def test_killed_after_each_write_every_case_converges(matrix: Case) -> None:
    writes = _writes_of_a_whole_run(matrix, matrix.root / "whole")
    # user, licence, group, member, ledger started, reset, ledger done, DG, member, mailbox, right
    assert writes >= 10
    waited: set[str] = set()  # what a first re-run found hidden and did not create again
    for n in range(1, writes + 1):
        work = matrix.root / f"killed-after-write-{n}"
        matrix.start(work)
        requests_before = len(matrix.sb.requests)
        assert matrix.killed_after(work, n) == -signal.SIGKILL, f"write {n}"
        results, after = matrix.rerun_until_settled(work)
        waited |= {
            u.area for t in results[0].plan.tenants for u in t.unknown if u.code == "notVisibleYet"
        }
        _assert_converged(
            matrix, work, results, after, requests_before=requests_before, why=f"write {n}"
        )
    assert {"users/zed@contoso.com", "groups/tellers"} <= waited


def _assert_converged(
    case: Case,
    work: Path,
    results: list[ApplyResult],
    after: Plan,
    *,
    requests_before: int,
    why: str,
) -> None:
    assert not _work_left(after), (
        why,
        [op.id for op in after.operations],
        after.tenants[0].unknown,
    )
    for result in results:
        assert not result.failed, (why, {k: v.error for k, v in result.outcomes.items() if v.error})
        stale = [
            k
            for k, v in result.outcomes.items()
            if v.hold in (HoldReason.STALE, HoldReason.PENDING_APPROVAL)
        ]
        assert not stale, (why, stale)
    # One approval, given before the first run, carried every case.
    assert [p.name for p in (work / "approvals").iterdir()] == [
        p.name for p in (case.root / "approvals").iterdir()
    ], why
    tenant = case.sb.world.tenants[CONTOSO]
    live = [u for u in tenant.users.values() if u.deleted_at is None]
    for key in ("user_principal_name", "mail"):
        values = [str(getattr(u, key) or "").lower() for u in live if getattr(u, key)]
        assert len(values) == len(set(values)), (why, key)
    nicknames = [g.mail_nickname.lower() for g in tenant.groups.values() if g.mail_nickname]
    assert len(nicknames) == len(set(nicknames)), why
    expected = {"zed@contoso.com", "vault@contoso.com"}
    assert expected <= {u.user_principal_name.split("@")[0] + "@contoso.com" for u in live}, why
    # The reset ran at most once, and a password file exists only for what was done.
    bob = next(u for u in live if u.user_principal_name == "bob@contoso.com")
    resets = [
        r
        for r in case.sb.requests[requests_before:]
        if r.method == "PATCH" and r.path == f"/v1.0/users/{bob.id}" and r.status == 204
    ]
    assert len(resets) <= 1, why
    files = sorted((work / "home").rglob("*.txt")) + sorted((case.root / "secrets").rglob("*.txt"))
    reset_files = [f for f in files if f"reset-{RESET}" in f.name]
    initial = [f for f in files if f.name.startswith("zed@contoso.com-initial-password")]
    assert len(reset_files) == len(resets), (why, reset_files)
    assert len(initial) == 1, (why, initial)
    if not resets:  # cut off before the reset: "started" (may have run) or not begun
        unknown = {u.area for t in after.tenants for u in t.unknown}
        assert unknown <= {f"actions/{RESET}"}, why


def test_killed_after_user_create_the_licence_runs_unless_someone_changed_the_user(
    matrix: Case,
) -> None:
    work = matrix.root / "after-create"
    matrix.start(work)
    assert matrix.killed_after(work, 1, path=r"^/v1\.0/users$") == -signal.SIGKILL
    # What the journal knows, plan --journal knows too; without it, zed looks absent.
    blind = plan_run(matrix.state, Where()).result.plan
    seeing = plan_run(matrix.state, Where(), journal=work / "journal.sqlite").result.plan
    create = "contoso/user.create/zed@contoso.com"
    assert create in {op.id for op in blind.operations}
    assert create not in {op.id for op in seeing.operations}
    assert [u.code for u in seeing.tenants[0].unknown if u.area == "users/zed@contoso.com"] == [
        "notVisibleYet"
    ]
    results, _ = matrix.rerun_until_settled(work)
    licence = "contoso/user.assignLicenses/zed@contoso.com"
    ran = [r.outcomes[licence] for r in results if licence in r.outcomes]
    assert ran and ran[-1].status.value == "succeeded", ran  # under the first approval

    other = matrix.root / "after-create-changed"
    matrix.start(other)
    assert matrix.killed_after(other, 1, path=r"^/v1\.0/users$") == -signal.SIGKILL
    matrix.sb.clock.advance(10)  # zed is visible now
    _set_usage_location(matrix, "zed@contoso.com", "DE")  # someone else, in between
    again = matrix.apply_in_process(other)
    held = again.outcomes[licence]
    assert (held.status.value, held.hold) == ("held", HoldReason.STALE), held


def _set_usage_location(case: Case, upn: str, location: str) -> None:
    with case.sb.rt.lock:
        for user in case.sb.world.tenants[CONTOSO].users.values():
            if user.user_principal_name == upn:
                user.usage_location = location
