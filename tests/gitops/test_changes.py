"""``--changed-since REF``: which tenants a branch touched, in a real temporary git repository.

Covers: an edited tenant alone; ``msp.yaml`` and a profile select every tenant; added, deleted and renamed
files (by ``git mv`` and by hand); a tenant renamed inside its file; staged, unstaged and
untracked edits; commits on the base branch after branching do not count (three-dot
semantics); files outside ``tenants/`` are ignored; an unreadable changed file selects every
tenant; and clear usage errors outside a repository or for an unknown REF.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.errors import UsageError
from controller.gitops.changes import ChangeSet, changed_tenants

TENANT = """\
apiVersion: tenantctl/v1
kind: Tenant
metadata:
  name: {name}
  tenantId: {tenant_id}
  domains: [{name}.com]
spec:
  users: []
"""
IDS = {
    "contoso": "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
    "fabrikam": "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1",
    "adatum": "9d8c7b6a-5f4e-4d3c-a2b1-0f9e8d7c6b5a",
}


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.desired = root / "desired"

    def git(self, *args: str) -> str:
        done = subprocess.run(
            [
                "git",
                "-c",
                "user.name=Test Operator",
                "-c",
                "user.email=operator@example.com",
                "-c",
                "commit.gpgsign=false",
                *args,
            ],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def tenant(self, name: str, *, file: str | None = None, users: str = "[]") -> None:
        text = TENANT.format(name=name, tenant_id=IDS.get(name, IDS["adatum"]))
        self.write(
            f"desired/tenants/{file or name}.yaml", text.replace("users: []", f"users: {users}")
        )

    def commit(self, message: str) -> None:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)

    def changes(self, ref: str = "main") -> ChangeSet:
        return changed_tenants(self.desired, ref)


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own git configuration (hooks, signing, default branch) must not leak in.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    repo = Repo(tmp_path / "estate")
    repo.root.mkdir()
    repo.git("init", "--quiet", "--initial-branch=main")
    repo.write("desired/msp.yaml", "apiVersion: tenantctl/v1\nkind: MSP\n")
    for name in IDS:
        repo.tenant(name)
    repo.write("README.md", "the estate\n")
    repo.commit("the estate")
    repo.git("switch", "--quiet", "-c", "edit")
    yield repo


def test_nothing_changed(repo: Repo) -> None:
    result = repo.changes()
    assert (result.changed, result.removed, result.all_tenants, result.files) == (
        frozenset(),
        frozenset(),
        False,
        (),
    )
    assert result.base == repo.git("rev-parse", "main").strip()


def test_an_edited_tenant_alone(repo: Repo) -> None:
    repo.tenant("contoso", users="[{userPrincipalName: alice@contoso.com}]")
    repo.commit("alice")
    result = repo.changes()
    assert result.changed == {"contoso"}
    assert result.removed == frozenset()
    assert not result.all_tenants
    assert result.files == ("desired/tenants/contoso.yaml",)
    assert result.selects("contoso")
    assert not result.selects("fabrikam")


def test_msp_yaml_selects_every_tenant(repo: Repo) -> None:
    repo.write("desired/msp.yaml", "apiVersion: tenantctl/v1\nkind: MSP\nspec: {}\n")
    repo.commit("policy")
    result = repo.changes()
    assert result.all_tenants
    assert result.all_reason == "msp.yaml changed: it applies to every tenant"
    assert result.selects("fabrikam")
    assert result.files == ("desired/msp.yaml",)


def test_a_changed_profile_selects_every_tenant(repo: Repo) -> None:
    repo.write("desired/profiles/standard.yaml", "apiVersion: tenantctl/v1\nkind: Profile\n")
    repo.commit("a baseline")
    result = repo.changes()
    assert result.all_tenants
    assert result.all_reason == "profiles/standard.yaml changed: a profile may apply to any tenant"
    assert result.files == ("desired/profiles/standard.yaml",)


def test_a_new_tenant_file(repo: Repo) -> None:
    repo.tenant("northwind")
    repo.commit("a new customer")
    assert repo.changes().changed == {"northwind"}


def test_a_deleted_tenant_is_reported_as_removed(repo: Repo) -> None:
    repo.git("rm", "--quiet", "desired/tenants/fabrikam.yaml")
    repo.commit("offboard fabrikam")
    result = repo.changes()
    assert result.changed == frozenset()
    assert result.removed == {"fabrikam"}
    assert result.files == ("desired/tenants/fabrikam.yaml",)
    assert not result.all_tenants


def test_a_renamed_file_keeps_its_tenant(repo: Repo) -> None:
    repo.git("mv", "desired/tenants/contoso.yaml", "desired/tenants/contoso-ltd.yaml")
    repo.commit("rename")
    result = repo.changes()
    assert result.changed == {"contoso"}
    assert result.removed == frozenset()
    assert result.files == ("desired/tenants/contoso-ltd.yaml", "desired/tenants/contoso.yaml")


def test_a_file_moved_by_hand_keeps_its_tenant(repo: Repo) -> None:
    (repo.desired / "tenants" / "adatum.yaml").unlink()
    repo.tenant("adatum", file="adatum-corp", users="[{userPrincipalName: henry@adatum.com}]")
    result = repo.changes()  # uncommitted: a deleted and an untracked file
    assert result.changed == {"adatum"}
    assert result.removed == frozenset()


def test_a_tenant_renamed_inside_its_file(repo: Repo) -> None:
    text = (repo.desired / "tenants" / "contoso.yaml").read_text()
    repo.write("desired/tenants/contoso.yaml", text.replace("name: contoso", "name: contoso-ltd"))
    repo.commit("rename the tenant")
    result = repo.changes()
    assert result.changed == {"contoso-ltd"}
    assert result.removed == {"contoso"}


def test_the_name_comes_from_metadata_not_the_file_name(repo: Repo) -> None:
    repo.tenant("woodgrove", file="customer-0042")
    repo.commit("woodgrove")
    assert repo.changes().changed == {"woodgrove"}


def test_uncommitted_edits_count(repo: Repo) -> None:
    repo.tenant("contoso", users="[{userPrincipalName: a@contoso.com}]")  # unstaged
    repo.tenant("fabrikam", users="[{userPrincipalName: b@fabrikam.com}]")
    repo.git("add", "desired/tenants/fabrikam.yaml")  # staged
    repo.tenant("northwind")  # untracked
    assert repo.changes().changed == {"contoso", "fabrikam", "northwind"}


def test_an_edit_undone_before_commit_is_no_change(repo: Repo) -> None:
    repo.tenant("contoso", users="[{userPrincipalName: a@contoso.com}]")
    repo.commit("alice")
    repo.tenant("contoso")  # back to what main has, not committed yet
    assert repo.changes().changed == frozenset()


def test_commits_on_the_base_branch_after_branching_do_not_count(repo: Repo) -> None:
    repo.tenant("contoso", users="[{userPrincipalName: a@contoso.com}]")
    repo.commit("on the branch")
    repo.git("switch", "--quiet", "main")
    repo.tenant("fabrikam", users="[{userPrincipalName: b@fabrikam.com}]")
    repo.write("desired/msp.yaml", "apiVersion: tenantctl/v1\nkind: MSP\nspec: {}\n")
    repo.commit("meanwhile on main")
    repo.git("switch", "--quiet", "edit")
    result = repo.changes("main")
    assert result.changed == {"contoso"}
    assert not result.all_tenants


def test_files_outside_tenants_are_ignored(repo: Repo) -> None:
    repo.write("README.md", "changed\n")
    repo.write("approvals/2026-01-01-alice.yaml", "fingerprints: []\n")
    repo.write(
        "desired/tenants/archive/old.yaml", TENANT.format(name="old", tenant_id=IDS["adatum"])
    )
    repo.write("desired/tenants/notes.txt", "not a tenant file\n")
    repo.commit("noise")
    assert repo.changes() == ChangeSet(ref="main", base=repo.changes().base)


def test_a_changed_file_without_a_readable_name_selects_every_tenant(repo: Repo) -> None:
    repo.write("desired/tenants/contoso.yaml", "metadata: [this is: not valid\n")
    result = repo.changes()
    assert result.all_tenants
    assert result.all_reason == (
        "desired/tenants/contoso.yaml changed and its metadata.name cannot be read"
    )


def test_a_desired_directory_at_the_repository_root(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.desired = tmp_path
    repo.git("init", "--quiet", "--initial-branch=main")
    repo.write("msp.yaml", "kind: MSP\n")
    repo.write("tenants/contoso.yaml", TENANT.format(name="contoso", tenant_id=IDS["contoso"]))
    repo.commit("estate")
    repo.write("tenants/fabrikam.yml", TENANT.format(name="fabrikam", tenant_id=IDS["fabrikam"]))
    assert repo.changes().changed == {"fabrikam"}


def test_outside_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "desired").mkdir()
    with pytest.raises(UsageError, match="needs a git repository"):
        changed_tenants(tmp_path / "desired", "main")


def test_an_unknown_ref(repo: Repo) -> None:
    with pytest.raises(UsageError, match=r"git does not know 'origin/main'.*fetch-depth: 0"):
        repo.changes("origin/main")


def test_a_ref_that_looks_like_an_option_is_not_one(repo: Repo) -> None:
    with pytest.raises(UsageError, match="git does not know '--output=x'"):
        repo.changes("--output=x")


def test_a_missing_desired_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a directory"):
        changed_tenants(tmp_path / "nowhere", "main")


def test_a_ref_without_shared_history(repo: Repo) -> None:
    repo.git("switch", "--quiet", "--orphan", "unrelated")
    repo.tenant("contoso")
    repo.commit("unrelated history")
    with pytest.raises(UsageError, match="share no history"):
        repo.changes("main")
