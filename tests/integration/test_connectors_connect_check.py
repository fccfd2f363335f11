"""``tenantctl connect check --sandbox`` with click's runner against the in-process sandbox:
exit 0 on the default sandbox; exit 1 with a one-line diagnosis and fix per failure and no
traceback for a wrong secret, an expired secret (a sandbox state whose app secret expired) and
an unreachable CIPP (its base URL on a closed 127.0.0.1 port)."""

from __future__ import annotations

import asyncio
import dataclasses
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
)
from controller.connectors._check import CHECK_RETRY
from controller.observe import check_connections
from controller.sandbox import Sandbox, default_scenario

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def invoke(state: Path) -> Result:
    return CliRunner().invoke(
        cli,
        ["connect", "check", "--sandbox", "--sandbox-state", str(state), "--desired", str(DESIRED)],
    )


def failures(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("FAIL")]


def with_settings(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[ConnectionSettings], ConnectionSettings]
) -> None:
    """Run the checks on changed settings, with retry pauses that do not wait."""

    async def no_wait(seconds: float) -> None:
        pass

    async def checks(settings: ConnectionSettings) -> list[CheckResult]:
        async with Connections(settings, retry=CHECK_RETRY, sleep=no_wait) as connections:
            return await check_connections(settings, connections=connections)

    def run_checks(settings: ConnectionSettings) -> list[CheckResult]:
        return asyncio.run(checks(change(settings)))

    monkeypatch.setattr(connect_command, "run_checks", run_checks)


def test_passes_on_the_default_sandbox(tmp_path: Path) -> None:
    result = invoke(tmp_path / "sandbox")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ok    partner app")
    assert lines[1].startswith("ok    GDAP") and "6 customer(s) visible" in lines[1]
    assert lines[2].startswith("ok    CIPP") and "/api/me" in lines[2]
    assert "all 3 check(s) passed" in result.output


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
