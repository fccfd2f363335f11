"""The GitOps flow end to end, in a temporary git repository, through the real command line
against the sandbox configured as real endpoints would be (msp.yaml endpoints + CA bundle,
secrets from the environment): branch, edit YAML, plan --changed-since, approve, commit the
approval, merge, apply, plan again = no changes. Also: a pull request that touches one
tenant observes only that tenant (asserted from the sandbox's request log)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from controller.cli import cli
from controller.cli.sandbox import msp_document
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED, serving

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
FABRIKAM = "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture
def gitops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Path]]:
    with serving(tmp_path / "sandbox") as sb:
        for sku in sb.world.tenants[FABRIKAM].skus.values():
            sku.units = 25
        repo = tmp_path / "repo"
        (repo / "desired" / "tenants").mkdir(parents=True)
        shutil.copytree(DESIRED / "profiles", repo / "desired" / "profiles")
        document = msp_document(sb)
        document["spec"]["defaults"] = {"usageLocation": "US"}
        (repo / "desired" / "msp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        for name in ("contoso", "fabrikam"):
            shutil.copy(DESIRED / "tenants" / f"{name}.yaml", repo / "desired" / "tenants")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "the estate")
        monkeypatch.chdir(repo)
        monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", sb.secrets["partner"])
        monkeypatch.setenv("CIPP_CLIENT_SECRET", sb.secrets["cipp"])
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        yield sb, repo


def tenantctl(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def converge(repo: Path) -> None:
    """Bring the tenants in line with main, as the first scheduled apply would."""
    assert tenantctl("plan", "--out", "plan.json").exit_code == 2
    assert tenantctl("approve", "plan.json", "--by", "Setup").exit_code == 0
    applied = tenantctl("apply", "--no-interactive")
    assert applied.exit_code == 0, applied.output
    (repo / "plan.json").unlink()
    shutil.rmtree(repo / "approvals")
    assert tenantctl("plan").exit_code == 0


def test_branch_plan_approve_merge_apply_plan(gitops: tuple[Sandbox, Path]) -> None:
    sb, repo = gitops
    converge(repo)

    git(repo, "checkout", "-q", "-b", "add-frank")
    contoso = repo / "desired" / "tenants" / "contoso.yaml"
    text = contoso.read_text().replace(
        "  groups:\n",
        "    - userPrincipalName: frank@contoso.com\n"
        "      displayName: Frank Castle\n"
        "      licenses: [SPE_E3]\n"
        "  groups:\n",
        1,
    )
    contoso.write_text(text)
    git(repo, "commit", "-qam", "Add Frank")

    sb.accounting.clear()
    planned = tenantctl(
        "plan", "--changed-since", "main", "--out", "plan.json", "--markdown", "plan.md"
    )
    assert planned.exit_code == 2, planned.output
    observed = {r.tenant_id for r in sb.requests if r.service in ("graph", "exchange")}
    assert observed - {None, sb.world.partner.tenant_id} == {CONTOSO}
    plan = json.loads((repo / "plan.json").read_text())
    assert [t["name"] for t in plan["tenants"]] == ["contoso"]
    kinds = {op["kind"] for op in plan["tenants"][0]["operations"]}
    assert kinds == {"user.create", "user.assignLicenses"}
    assert (repo / "plan.md").read_text().startswith("<!-- tenantctl-plan -->")

    approved = tenantctl("approve", "plan.json", "--by", "Dana Reviewer")
    assert approved.exit_code == 0, approved.output
    git(repo, "add", "approvals")
    git(repo, "commit", "-qm", "Approve the plan for Frank")

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "add-frank", "-m", "Merge add-frank")
    applied = tenantctl("apply", "--no-interactive", "--out", "result.json")
    assert applied.exit_code == 0, applied.output
    result = json.loads((repo / "result.json").read_text())
    assert result["counts"]["succeeded"] == 2
    frank = [
        u
        for u in sb.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "frank@contoso.com"
    ]
    assert len(frank) == 1

    again = tenantctl("plan")
    assert again.exit_code == 0, again.output


def test_an_unapproved_change_is_held_after_merge(gitops: tuple[Sandbox, Path]) -> None:
    sb, repo = gitops
    converge(repo)
    contoso = repo / "desired" / "tenants" / "contoso.yaml"
    contoso.write_text(
        contoso.read_text().replace("jobTitle: Sales Director", "jobTitle: VP Sales")
    )
    git(repo, "commit", "-qam", "Promote Alice (nobody approved the plan)")
    applied = tenantctl("apply", "--no-interactive", "--out", "result.json")
    assert applied.exit_code == 2  # work is left: the change waits for an approval
    result = json.loads((repo / "result.json").read_text())
    (held,) = result["operations"]
    assert (held["kind"], held["status"], held["hold"]) == (
        "user.update",
        "held",
        "pending-approval",
    )
    alice = next(
        u
        for u in sb.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "alice@contoso.com"
    )
    assert alice.job_title == "Sales Director"
