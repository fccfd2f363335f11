"""``tenantctl import`` through click against the sandbox: exit codes, what it prints, that
errors are one line without a traceback, and import -> plan exits 0 for the tenant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from controller.cli import cli
from tests.integration.conftest import DESIRED


@pytest.fixture
def desired(tmp_path: Path) -> Path:
    copy = tmp_path / "desired"
    shutil.copytree(DESIRED, copy)
    return copy


def tenantctl(desired: Path, *args: str) -> Result:
    state = desired.parent / "sandbox"
    world = ("--sandbox", "--sandbox-state", str(state))
    command, *rest = args
    extra = world if command in ("import", "plan") else ()
    return CliRunner().invoke(cli, [command, "--desired", str(desired), *extra, *rest])


def clean_failure(result: Result, code: int = 1) -> None:
    assert result.exit_code == code
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_import_then_plan_reports_no_changes(desired: Path) -> None:
    result = tenantctl(desired, "import", "--tenant", "contoso", "--force")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("wrote ")
    # admin@contoso.onmicrosoft.com stays in existingPrincipals: 5 users, not 6
    assert "(5 users, 2 groups, 1 distribution group, 1 shared mailbox)" in result.stdout
    assert "one-shot actions not kept" in result.stderr
    assert tenantctl(desired, "validate").exit_code == 0
    planned = tenantctl(desired, "plan", "--tenant", "contoso")
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout


def test_an_existing_file_is_not_overwritten_without_force(desired: Path) -> None:
    path = desired / "tenants" / "contoso.yaml"
    before = path.read_bytes()
    result = tenantctl(desired, "import", "--tenant", "contoso")
    clean_failure(result)
    assert "exists; not overwritten" in result.stderr
    assert path.read_bytes() == before


def test_an_incomplete_observation_writes_nothing(desired: Path) -> None:
    path = desired / "tenants" / "tailspin.yaml"
    before = path.read_bytes()
    result = tenantctl(desired, "import", "--tenant", "tailspin", "--force")
    clean_failure(result)
    assert (
        "error: tailspin: not imported, nothing written: distributionGroups, sharedMailboxes"
        in (result.stderr)
    )
    assert result.stdout == ""
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenant", "nosuch"), "no tenant named 'nosuch' in the tenant files or GDAP customers"),
        (("--tenant", "contoso", "--include", "users,mailboxes"), "(not mailboxes)"),
        ((), "name the tenants to import with --tenant NAME, or use --all"),
        (("--all", "--tenant", "contoso"), "use --tenant NAME or --all, not both"),
    ],
)
def test_usage_errors_are_one_line(desired: Path, args: tuple[str, ...], message: str) -> None:
    result = tenantctl(desired, "import", *args)
    clean_failure(result, code=64)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_force_keeps_what_a_person_wrote(desired: Path) -> None:
    """--force replaces what observation knows and keeps what it cannot: existingPrincipals
    (the customer's own admin never becomes a managed user), additive membership and
    permissions, and the comments on objects the tenant still holds."""
    path = desired / "tenants" / "contoso.yaml"
    text = path.read_text()
    text = text.replace(
        "    - name: Support\n",
        "    # Support's queue: agreed with the customer in ticket 4711\n    - name: Support\n",
    ).replace(
        "      sendOnBehalf: [alice@contoso.com]\n",
        "      sendOnBehalf: [alice@contoso.com]\n      permissions: additive\n",
    )
    path.write_text(text)
    result = tenantctl(desired, "import", "--tenant", "contoso", "--force")
    assert result.exit_code == 0, result.output
    assert "admin@contoso.onmicrosoft.com: listed in existingPrincipals, kept there" in (
        result.stderr
    )
    written = path.read_text()
    spec = yaml.safe_load(written)["spec"]
    assert "admin@contoso.onmicrosoft.com" in spec["existingPrincipals"]
    assert "admin@contoso.onmicrosoft.com" not in [u["userPrincipalName"] for u in spec["users"]]
    groups = {g["mailNickname"]: g for g in spec["groups"]}
    assert groups["phoenix"]["membership"] == "additive"
    assert "membership" not in groups["sales"]
    mailboxes = {m["primarySmtpAddress"]: m for m in spec["sharedMailboxes"]}
    assert mailboxes["support@contoso.com"]["permissions"] == "additive"
    lines = written.splitlines()
    comment = lines.index("    # Support's queue: agreed with the customer in ticket 4711")
    assert lines[comment + 1] == "    - name: support"  # the tenant's own spelling
    assert lines[comment + 3] == "      primarySmtpAddress: support@contoso.com"
    assert "# the customer's own global admin, not managed here" in written
    assert "# members added in Teams are kept" in written
    planned = tenantctl(desired, "plan", "--tenant", "contoso")
    assert planned.exit_code == 0, planned.output
