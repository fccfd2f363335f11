"""SIGTERM and SIGINT in the middle of an apply, sent by the sandbox while it serves a write
(deterministic: the third write of the run): the call in flight finishes and is journaled,
nothing starts after it, ``--out``, ``--markdown`` and the notification are written, the run
is ``cancelled`` in the journal, the exit status is 143 / 130, and the next run finishes.
Also: two applies at once over one journal; the second refuses, or waits and finds nothing
left, and nothing exists twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from controller.apply import Journal, RunStatus
from tests.integration.conftest import serving
from tests.integration.subprocess_support import (
    apply_command,
    environment,
    estate,
    password_files,
    webhook_receiver,
)

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
FABRIKAM = "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1"


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_apply_is_a_graceful_stop(
    tmp_path: Path, sig: signal.Signals, status: int
) -> None:
    with serving(tmp_path / "sandbox") as sb, webhook_receiver() as hook:
        desired = estate(tmp_path, sb, {"contoso": None})
        out, markdown = tmp_path / "result.json", tmp_path / "result.md"
        victim: dict[str, int] = {}
        sb.faults.add(writes=True, skip=2, count=1, then=lambda: os.kill(victim["pid"], sig))
        command = apply_command(tmp_path, desired)
        env = environment(tmp_path, sb)
        run = subprocess.Popen(
            [*command, "--out", str(out), "--markdown", str(markdown), "--notify", hook.url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        victim["pid"] = run.pid
        stdout, stderr = run.communicate(timeout=180)
        assert run.returncode == status, stdout + stderr

        result = json.loads(out.read_text())
        assert result["cancelledBy"] == sig.name
        held = [o for o in result["operations"] if o.get("hold") == "cancelled"]
        done = [o for o in result["operations"] if o["status"] == "succeeded"]
        assert held and len(done) >= 2  # the write in flight finished
        assert f"cancelled by {sig.name}" in markdown.read_text()
        assert len(hook.received) == 1
        with Journal.open(tmp_path / "journal.sqlite") as journal:
            (record,) = journal.runs()
            assert record.status is RunStatus.CANCELLED and record.interrupted == 0

        again = subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=180
        )
        assert again.returncode == 0, again.stdout + again.stderr
        users = [u.user_principal_name for u in sb.world.tenants[CONTOSO].users.values()]
        assert len(users) == len(set(users))


def test_two_applies_at_once_one_refuses_one_waits_nothing_twice(tmp_path: Path) -> None:
    with serving(tmp_path / "sandbox") as sb:
        desired = estate(tmp_path, sb, {"contoso": None, "fabrikam": None})
        for sku in sb.world.tenants[FABRIKAM].skus.values():
            sku.units = 25  # the demo is short of licences there, on purpose
        env = environment(tmp_path, sb)
        command = apply_command(tmp_path, desired)
        sb.latency = 0.02
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        holder = tmp_path / "journal.sqlite.lock.holder"
        deadline = time.monotonic() + 60
        while not holder.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() is None, "the first apply ended before the second could start"
        refused = subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=60
        )
        waiting = subprocess.Popen(
            [*command, "--lock-timeout", "300"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first_out, first_err = first.communicate(timeout=300)
        waited_out, waited_err = waiting.communicate(timeout=300)

        assert refused.returncode == 1
        assert f"another apply holds the lock of the journal {tmp_path / 'journal.sqlite'}" in (
            refused.stderr
        )
        assert f"pid {first.pid} on host " in refused.stderr
        assert first.returncode in (0, 2), first_out + first_err
        assert waiting.returncode in (0, 2), waited_out + waited_err
        assert "0 succeeded, 0 failed" in waited_out  # it found the work done

        for tenant in sb.world.tenants.values():
            upns = [u.user_principal_name.lower() for u in tenant.users.values()]
            assert len(upns) == len(set(upns)), tenant.name
            nicknames = [g.mail_nickname for g in tenant.groups.values() if g.mail_nickname]
            assert len(nicknames) == len(set(nicknames)), tenant.name
        per_user: dict[str, int] = {}
        for path in password_files(tmp_path):
            key = path.name.rsplit("-", 1)[0]  # <upn>-<purpose> without the time
            per_user[key] = per_user.get(key, 0) + 1
        assert per_user and all(count == 1 for count in per_user.values()), per_user
        with Journal.open(tmp_path / "journal.sqlite") as journal:
            assert len(journal.runs()) == 2  # the refused one never started a run
