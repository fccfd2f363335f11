"""``tenantctl render --tenant NAME``: the effective tenant after its profiles, each object
(and each field declared in another file than its object) commented with its source; exit
64 for an unknown tenant, 1 (with the located problems) for an invalid estate; and
``validate`` reporting a profile's errors with their locations like any other file's."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli import cli
from tests.unit.desired_files import tenant, write_estate

PROFILE = """\
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: standard
spec:
  exchange: direct
  users:
    - userPrincipalName: breakglass@${tenant.primaryDomain}
      displayName: Break Glass
  sharedMailboxes:
    - name: Helpdesk
      primarySmtpAddress: helpdesk@${tenant.primaryDomain}
      fullAccess: ["breakglass@${tenant.primaryDomain}"]
"""

CONTOSO = tenant(
    spec="""\
    profiles: [standard]
    sharedMailboxes:
      - primarySmtpAddress: helpdesk@contoso.com
        sendAs: [breakglass@contoso.com]
    """
)


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str, profile: str = PROFILE) -> Result:
    desired = write_estate(root, {"contoso": CONTOSO})
    (desired / "profiles").mkdir(exist_ok=True)
    (desired / "profiles" / "standard.yaml").write_text(profile)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_render_prints_the_effective_tenant_with_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(tmp_path, monkeypatch, "render", "--tenant", "contoso")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "# The effective tenant contoso: desired/tenants/contoso.yaml with its profiles applied, "
        "as the\n"
        "# planner sees it (tenantctl render). Profiles, in the order they apply: standard\n"
        "# (desired/profiles/standard.yaml, enforce, named). Each object says where it was "
        "declared, and so\n"
        "# does a field declared in another file than its object.\n"
        "apiVersion: tenantctl/v1\n"
        "kind: Tenant\n"
        "metadata:\n"
        "  name: contoso\n"
        "  tenantId: 6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f\n"
        "  domains: [contoso.com]\n"
        "spec:\n"
        "  profiles: [standard]\n"
        "  # desired/profiles/standard.yaml:6 (profile standard)\n"
        "  exchange: direct\n"
        "  users:\n"
        "    # desired/profiles/standard.yaml:8 (profile standard)\n"
        "    - userPrincipalName: breakglass@contoso.com\n"
        "      displayName: Break Glass\n"
        "  sharedMailboxes:\n"
        "    # desired/tenants/contoso.yaml:10\n"
        "    -\n"
        "      # desired/profiles/standard.yaml:11 (profile standard)\n"
        "      name: Helpdesk\n"
        "      primarySmtpAddress: helpdesk@contoso.com\n"
        "      # desired/profiles/standard.yaml:13 (profile standard)\n"
        "      fullAccess: [breakglass@contoso.com]\n"
        "      sendAs: [breakglass@contoso.com]\n"
    )


def test_render_of_an_unknown_tenant_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(tmp_path, monkeypatch, "render", "--tenant", "nobody")
    assert result.exit_code == 64
    assert result.stderr == "error: no tenant named 'nobody' in the desired state; known: contoso\n"


def test_render_and_validate_report_a_profile_error_at_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = PROFILE.replace("${tenant.primaryDomain}", "${tenant.domain}", 1)
    rendered = run(tmp_path, monkeypatch, "render", "--tenant", "contoso", profile=broken)
    validated = run(tmp_path, monkeypatch, "validate", profile=broken)
    located = (
        "desired/profiles/standard.yaml:8:26: spec.users[0].userPrincipalName: unknown "
        "placeholder ${tenant.domain}; did you mean ${tenant.primaryDomain}? (a profile may "
        "use ${tenant.name}, ${tenant.displayName}, ${tenant.primaryDomain}, "
        "${tenant.tenantId}; there is no escape for '${')\n"
    )
    assert (rendered.exit_code, validated.exit_code) == (1, 1)
    assert rendered.stderr.startswith(located)
    assert validated.stdout == located
