"""Two promises of apply, tested through the real command line:

* a run killed with SIGKILL in the middle of a tenant is finished by the next run: nothing
  exists twice, and the journal shows both runs and the interrupted operation;
* no secret and no generated password appears in any output, log, plan, approval record or
  journal of a full plan -> approve -> apply run (only in the secret sink's files).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from controller.apply import Journal
from controller.cli import cli
from controller.cli.sandbox import msp_document
from controller.loader import load_desired
from controller.sandbox import Sandbox, default_scenario
from tests.integration.conftest import DESIRED, plan_against, serving

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


def _estate(tmp_path: Path, sb: Sandbox, tenants: list[str]) -> Path:
    desired = tmp_path / "desired"
    (desired / "tenants").mkdir(parents=True)
    shutil.copytree(DESIRED / "profiles", desired / "profiles")
    document = msp_document(sb)
    document["spec"]["policy"] = {"default": "allow"}
    document["spec"]["defaults"] = {"usageLocation": "US"}
    (desired / "msp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    for name in tenants:
        shutil.copy(DESIRED / "tenants" / f"{name}.yaml", desired / "tenants")
    return desired


def _intents(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(journal) as db:
            return int(
                db.execute(
                    "select count(*) from operations where intent_at is not null"
                ).fetchone()[0]
            )
    except sqlite3.Error:
        return 0


def test_a_killed_apply_is_finished_by_the_next_run(tmp_path: Path) -> None:
    with serving(tmp_path / "sandbox") as sb:
        desired = _estate(tmp_path, sb, ["contoso"])
        journal = tmp_path / "journal.sqlite"
        env = {
            **os.environ,
            "HOME": str(tmp_path / "home"),
            "TENANTCTL_CLIENT_SECRET": sb.secrets["partner"],
            "CIPP_CLIENT_SECRET": sb.secrets["cipp"],
        }
        command = [
            sys.executable,
            "-c",
            "from controller.cli import main; main()",
            "apply",
            "--desired",
            str(desired),
            "--journal",
            str(journal),
            "--approvals",
            str(tmp_path / "approvals"),
            "--no-interactive",
        ]
        sb.latency = 0.1  # slow enough to be killed in the middle
        victim = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while _intents(journal) < 6 and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert victim.poll() is None, "apply finished before it could be killed"
        victim.send_signal(signal.SIGKILL)
        victim.wait()

        sb.latency = 0.0
        rerun = subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=300
        )
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr

        users = [
            u.user_principal_name
            for u in sb.world.tenants[CONTOSO].users.values()
            if u.deleted_at is None
        ]
        assert users.count("carol@contoso.com") == 1
        mailboxes = [
            u
            for u in sb.world.tenants[CONTOSO].users.values()
            if (u.mail or "").lower() == "info@contoso.com"
        ]
        assert len(mailboxes) <= 1

        with Journal.open(journal) as records:
            runs = records.runs()
            assert len(runs) == 2
            first, second = sorted(runs, key=lambda r: r.id)
            assert first.status == "running"  # never finished: it was killed
            assert second.status == "succeeded"
            assert records.operations(first.id)  # the killed run left its intents

        state = load_desired(desired)
        after = plan_against(sb, state).plan
        assert [op.id for op in after.operations] == []


def test_no_secret_or_password_leaks_into_any_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    state_dir = work / ".tenantctl" / "sandbox"
    runner = CliRunner()
    env = {"HOME": str(home), "NO_COLOR": "1"}
    outputs: list[str] = []

    def run(*args: str) -> None:
        result = runner.invoke(cli, ["-vv", *args], env=env, catch_exceptions=False)
        outputs.append(result.output)
        assert result.exit_code in (0, 1, 2), result.output

    monkeypatch.chdir(work)
    common = ["--desired", str(DESIRED), "--sandbox", "--sandbox-state", str(state_dir)]
    run("plan", *common, "--out", "plan.json", "--markdown", "plan.md")
    run("approve", "plan.json", "--by", "Dana Reviewer", "--approvals", "approvals")
    run(
        "apply",
        *common,
        "--approvals",
        "approvals",
        "--journal",
        "journal.sqlite",
        "--out",
        "result.json",
        "--markdown",
        "result.md",
        "--no-interactive",
    )
    run("history", "--journal", "journal.sqlite")
    run("plan", *common, "--out", "plan2.json")
    written = [p for p in Path.cwd().rglob("*") if p.is_file()]

    sink = home / ".tenantctl" / "secrets"
    passwords = [p.read_text().strip() for p in sink.rglob("*.txt")]
    assert len(passwords) >= 2  # carol's initial password, bob's reset, judy's...
    with Sandbox(default_scenario()) as sb:
        secrets = [sb.secrets["partner"], sb.secrets["cipp"]]
    needles = [*secrets, *passwords]
    haystacks = {"stdout/stderr": "\n".join(outputs)}
    for path in written:
        if state_dir in path.parents:
            continue  # the sandbox's own world (it plays Entra: it holds the app's secret)
        haystacks[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert any(p.name == "journal.sqlite" for p in written)
    leaks = [
        (name, needle[:4] + "...")
        for name, text in haystacks.items()
        for needle in needles
        if needle in text
    ]
    assert leaks == []
