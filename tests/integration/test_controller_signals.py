"""SIGTERM in the middle of a controller's cycle, sent by the sandbox while it serves a write
(the third of the cycle): the call in flight finishes and is journaled, nothing starts after
it, the cycle's run ends ``cancelled`` (no run is left ``running``), its notification is
sent, and the controller exits 0: being stopped is a controller's normal end. With
``--once`` it exits 143, as apply does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from controller.apply import Journal, OutcomeStatus, RunStatus
from tests.integration.conftest import serving
from tests.integration.subprocess_support import environment, estate, webhook_receiver

pytestmark = pytest.mark.integration


def controller_command(tmp_path: Path, desired: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from controller.cli import main; main()",
        "controller",
        "--desired",
        str(desired),
        "--journal",
        str(tmp_path / "journal.sqlite"),
        "--approvals",
        str(tmp_path / "approvals"),
        "--interval",
        "1h",
        "--log-format",
        "json",
        *extra,
    ]


@pytest.mark.parametrize(("once", "status"), [(False, 0), (True, 143)])
def test_sigterm_mid_cycle_finishes_the_call_and_leaves_the_journal_consistent(
    tmp_path: Path, once: bool, status: int
) -> None:
    with serving(tmp_path / "sandbox") as sb, webhook_receiver() as hook:
        desired = estate(tmp_path, sb, {"contoso": None})
        victim: dict[str, int] = {}
        sb.faults.add(
            writes=True, skip=2, count=1, then=lambda: os.kill(victim["pid"], signal.SIGTERM)
        )
        command = controller_command(tmp_path, desired, "--notify", hook.url)
        run = subprocess.Popen(
            [*command, *(["--once"] if once else [])],
            env=environment(tmp_path, sb),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        victim["pid"] = run.pid
        stdout, stderr = run.communicate(timeout=180)
        assert run.returncode == status, stdout + stderr
        assert len(hook.received) == 1  # the cancelled cycle still reports what it did

    with Journal.open(tmp_path / "journal.sqlite", create=False) as journal:
        runs = journal.runs()
        assert [(r.command, r.status) for r in runs] == [("controller", RunStatus.CANCELLED)]
        assert not any(r.unfinished for r in runs)
        ops = journal.operations(runs[0].id)
        assert not journal.interrupted(runs[0].id)  # the call in flight got its result
    done = [op for op in ops if op.status is OutcomeStatus.SUCCEEDED]
    cancelled = [op for op in ops if op.hold is not None and op.hold.value == "cancelled"]
    assert len(done) == 3 and cancelled  # the third write finished; nothing started after
    if not once:
        assert '"message":"stopped by SIGTERM"' in stderr
