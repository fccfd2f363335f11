"""``tenantctl connect check --sandbox`` with click's runner against the in-process sandbox:
exit 0 on the default sandbox; exit 1 with a one-line diagnosis and fix per failure and no
traceback for a wrong secret, an expired secret (a sandbox state whose app secret expired) and
an unreachable CIPP (its base URL on a closed 127.0.0.1 port). The credential line: read from
the app registration (the sandbox clock starts at the scenario's epoch, 2026-11-26), a warning
30 days before the end, and msp.yaml's ``notAfter`` when the app may not read itself."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli import cli
from controller.cli import connect as connect_command
from controller.connectors import (
    CheckResult,
    ClientSecret,
    Connections,
    ConnectionSettings,
    CredentialExpiry,
)
from controller.connectors._check import CHECK_RETRY
from controller.observe import check_connections
from controller.sandbox import Sandbox, default_scenario

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def invoke(state: Path, desired: Path = DESIRED) -> Result:
    return CliRunner().invoke(
        cli,
        ["connect", "check", "--sandbox", "--sandbox-state", str(state), "--desired", str(desired)],
    )


def failures(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("FAIL")]


def with_settings(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[ConnectionSettings], ConnectionSettings]
) -> None:
    """Run the checks on changed settings, with retry pauses that do not wait."""

    async def no_wait(seconds: float) -> None:
        pass

    async def checks(settings: ConnectionSettings, expiry: CredentialExpiry) -> list[CheckResult]:
        async with Connections(settings, retry=CHECK_RETRY, sleep=no_wait) as connections:
            return await check_connections(settings, expiry=expiry, connections=connections)

    def run_checks(settings: ConnectionSettings, expiry: CredentialExpiry) -> list[CheckResult]:
        return asyncio.run(checks(change(settings), expiry))

    monkeypatch.setattr(connect_command, "run_checks", run_checks)


def test_passes_on_the_default_sandbox(tmp_path: Path) -> None:
    result = invoke(tmp_path / "sandbox")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ok    partner app")
    assert lines[1] == (
        "ok    credential    the client secret expires on 2027-11-26 09:00 UTC, in 365 days "
        "(app registration)"
    )
    assert lines[2].startswith("ok    GDAP") and "6 customer(s) visible" in lines[2]
    assert lines[3].startswith("ok    CIPP") and "/api/me" in lines[3]
    assert "all 4 check(s) passed" in result.output


def test_warns_30_days_before_the_secret_expires(tmp_path: Path) -> None:
    state = tmp_path / "sandbox"
    with Sandbox(default_scenario(), state_dir=state) as prepared:
        prepared.world.partner.app.secret_ends_at = prepared.clock.now() + 20 * 86400
    result = invoke(state)
    assert result.exit_code == 0, result.output  # a warning, not a failure
    (line,) = [line for line in result.output.splitlines() if "credential" in line]
    assert line.startswith(
        "WARN  credential    the client secret expires on 2026-12-16 09:00 UTC, in 20 days "
        "(app registration); fix: create a new client secret for app "
    )
    assert "update env:TENANTCTL_CLIENT_SECRET" in line
    quiet = CliRunner().invoke(
        cli, ["connect", "check", "-q", "--sandbox", "--sandbox-state", str(state)]
    )
    assert quiet.output.splitlines() == [line]


def test_an_app_that_may_not_read_itself_uses_not_after(tmp_path: Path) -> None:
    """Without Application.Read.All or Directory.Read.All in the partner tenant Graph answers
    403; the date in msp.yaml takes over, and without one the line says how to get one."""
    state = tmp_path / "sandbox"
    with Sandbox(default_scenario(), state_dir=state) as prepared:
        prepared.world.partner.app.partner_roles = ["DelegatedAdminRelationship.Read.All"]
    result = invoke(state)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "credential" in line]
    assert line.startswith(
        "WARN  credential    when the client secret expires is unknown: the app may not read "
        "its own registration; fix: grant app "
    )
    assert "set spec.partner.credential.notAfter" in line
    desired = tmp_path / "desired"
    shutil.copytree(DESIRED, desired)
    msp = desired / "msp.yaml"
    text = msp.read_text()
    assert "      secret: {env: TENANTCTL_CLIENT_SECRET}\n" in text
    msp.write_text(
        text.replace(
            "      secret: {env: TENANTCTL_CLIENT_SECRET}\n",
            "      secret: {env: TENANTCTL_CLIENT_SECRET}\n      notAfter: 2026-12-20\n",
        )
    )
    result = invoke(state, desired)
    (line,) = [line for line in result.output.splitlines() if "credential" in line]
    assert line.startswith(
        "WARN  credential    the client secret expires on 2026-12-21 00:00 UTC, in 25 days "
        "(msp.yaml notAfter); fix: create a new client secret"
    )


def test_wrong_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_settings(
        monkeypatch, lambda s: dataclasses.replace(s, credential=ClientSecret("wrong-secret"))
    )
    result = invoke(tmp_path / "sandbox")
    assert result.exit_code == 1
    (failed,) = failures(result)
    assert failed.startswith("FAIL  partner app")
    assert "client secret of app" in failed and "is wrong" in failed and "fix: copy" in failed
    assert "Traceback" not in result.output and "wrong-secret" not in result.output


def test_expired_secret(tmp_path: Path) -> None:
    state = tmp_path / "sandbox"
    with Sandbox(default_scenario(), state_dir=state) as prepared:
        prepared.world.partner.app.secret_expired = True  # saved on exit; the CLI loads it
    result = invoke(state)
    assert result.exit_code == 1
    (failed,) = failures(result)
    assert "has expired" in failed and "fix: create a new client secret" in failed
    assert "Traceback" not in result.output


def test_unreachable_cipp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a 127.0.0.1 port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"https://127.0.0.1:{probe.getsockname()[1]}"

    def unreachable(settings: ConnectionSettings) -> ConnectionSettings:
        assert settings.cipp is not None
        return dataclasses.replace(
            settings, cipp=dataclasses.replace(settings.cipp, base_url=closed)
        )

    with_settings(monkeypatch, unreachable)
    result = invoke(tmp_path / "sandbox")
    assert result.exit_code == 1, result.output
    (failed,) = failures(result)
    assert f"CIPP is unreachable at {closed}" in failed and "fix: check spec.cipp.baseUrl" in failed
    assert "Traceback" not in result.output
    assert result.output.startswith("ok    partner app")


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["connect", "check", "--help"])
    assert result.exit_code == 0
    assert "tenantctl connect check --sandbox" in result.output
