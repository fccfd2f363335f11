"""Exit codes never lie. Through the real command line, against the sandbox configured as real
endpoints would be (msp.yaml endpoints + CA bundle, secrets from the environment):

- a wrong or expired partner secret and an unreachable CIPP make ``plan``, ``plan --drift``,
  ``status`` and ``apply`` exit 1 with the same one-line diagnosis ``connect check`` gives;
  never 0 with "No changes." over a run that saw nothing;
- a tenant that matches git exits 0 with "No changes."; the same tenant with one unreadable
  area exits 2 and says "No changes in what could be observed";
- a usage error (a mistyped flag, an unknown tenant) exits 64, never 2.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from controller.cli import cli
from controller.cli.sandbox import msp_document
from controller.connectors import Connections
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED, serving

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Path]]:
    """The demo's contoso and fabrikam against a running sandbox, as a real estate is run."""
    with serving(tmp_path / "sandbox") as sb:
        desired = tmp_path / "desired"
        (desired / "tenants").mkdir(parents=True)
        shutil.copytree(DESIRED / "profiles", desired / "profiles")
        document = msp_document(sb)
        document["spec"]["defaults"] = {"usageLocation": "US"}
        (desired / "msp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        for name in ("contoso", "fabrikam"):
            shutil.copy(DESIRED / "tenants" / f"{name}.yaml", desired / "tenants")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", sb.secrets["partner"])
        monkeypatch.setenv("CIPP_CLIENT_SECRET", sb.secrets["cipp"])
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        yield sb, desired


def tenantctl(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def connect_check_failure(desired: Path) -> str:
    """The one FAIL line ``tenantctl connect check`` prints for this estate."""
    checked = tenantctl("connect", "check", "--desired", str(desired))
    assert checked.exit_code == 1, checked.output
    (line,) = [line for line in checked.stdout.splitlines() if line.startswith("FAIL")]
    return line


COMMANDS = (
    ("plan",),
    ("plan", "--drift"),
    ("status",),
    ("apply", "--no-interactive", "--journal", "journal.sqlite"),
)


def assert_every_command_fails_with(desired: Path, diagnosis: str) -> None:
    for command in COMMANDS:
        result = tenantctl(*command, "--desired", str(desired))
        assert result.exit_code == 1, (command, result.output)
        assert f"error: {diagnosis}" in result.stderr.splitlines(), (command, result.stderr)
        assert "No changes." not in result.stdout, command


def test_a_wrong_partner_secret_is_an_error_everywhere(
    estate: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, desired = estate
    monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", "not-the-secret")
    diagnosis = connect_check_failure(desired)
    assert "the client secret of app" in diagnosis and "is wrong" in diagnosis
    assert_every_command_fails_with(desired, diagnosis)


def test_a_wrong_secret_with_one_tenant_selected_never_says_no_changes(
    estate: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, desired = estate
    monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", "not-the-secret")
    result = tenantctl("plan", "--desired", str(desired), "--tenant", "contoso")
    assert result.exit_code == 1
    assert "No changes in what could be observed" in result.stdout
    assert "connection check(s) failed" in result.stdout


def test_an_expired_partner_secret_is_an_error_everywhere(estate: tuple[Sandbox, Path]) -> None:
    sb, desired = estate
    sb.world.partner.app.secret_expired = True
    diagnosis = connect_check_failure(desired)
    assert "has expired" in diagnosis
    assert_every_command_fails_with(desired, diagnosis)


def test_an_unreachable_cipp_is_an_error_everywhere(
    estate: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, desired = estate
    waited: list[float] = []

    async def no_wait(seconds: float) -> None:  # the retries' backoff, without sleeping
        waited.append(seconds)

    monkeypatch.setitem(Connections.__init__.__kwdefaults__, "sleep", no_wait)
    with socket.socket() as closed:  # a port on loopback that nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    document = yaml.safe_load((desired / "msp.yaml").read_text())
    document["spec"]["cipp"]["baseUrl"] = f"https://127.0.0.1:{port}"
    (desired / "msp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    diagnosis = connect_check_failure(desired)
    assert "CIPP is unreachable" in diagnosis
    assert_every_command_fails_with(desired, diagnosis)
    assert waited  # each command retried the connection before it gave up


def imported_contoso(desired: Path) -> None:
    """contoso's file as the tenant is: a plan of it has nothing to do."""
    for extra in (desired / "tenants").glob("*.yaml"):
        extra.unlink()
    imported = tenantctl("import", "--desired", str(desired), "--tenant", "contoso", "--force")
    assert imported.exit_code == 0, imported.output


def test_a_tenant_that_matches_exits_0_and_one_unreadable_area_makes_it_2(
    estate: tuple[Sandbox, Path],
) -> None:
    sb, desired = estate
    imported_contoso(desired)
    matches = tenantctl("plan", "--desired", str(desired))
    assert matches.exit_code == 0, matches.output
    assert matches.stdout.rstrip().endswith("No changes. 0 finding(s), 0 problem(s).")

    # Graph refuses one read (the groups list), every other area is read as before.
    sb.faults.add("GET", r"/v1\.0/groups", status=403, count=None, tenant=CONTOSO)
    partial = tenantctl("plan", "--desired", str(desired))
    assert partial.exit_code == 2, partial.output
    assert "  No changes in what could be observed; 1 area(s) unknown." in partial.stdout
    assert "No changes in what could be observed." in partial.stdout.rstrip().splitlines()[-1]
    assert "1 area(s) unknown in 1 tenant(s)" in partial.stdout
    assert "\nNo changes." not in partial.stdout

    drift = tenantctl("plan", "--drift", "--desired", str(desired))
    assert drift.exit_code == 2
    applied = tenantctl("apply", "--no-interactive", "--desired", str(desired))
    assert applied.exit_code == 2, applied.output  # nothing failed, but not everything was seen


@pytest.mark.parametrize(
    "argv",
    [
        ("plan", "--sandbx"),
        ("plan", "--tenant", "nosuch", "--sandbox"),
        ("plan", "--shard", "5/4", "--sandbox"),
        ("apply", "--concurrency", "0", "--sandbox"),
        ("approve", "missing-plan.json", "--by", "alice"),
        ("history", "--run", "7", "--journal", "missing.sqlite"),
        ("no-such-command",),
        ("--no-such-flag", "plan"),
    ],
)
def test_usage_errors_exit_64_never_2(argv: tuple[str, ...], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, [*argv, *(("--sandbox-state", str(tmp_path / "sb")) if "--sandbox" in argv else ())]
    )
    assert result.exit_code == 64, result.output
    assert "Traceback" not in result.output
