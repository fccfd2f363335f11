"""Where the controller reads the desired state: a git branch kept checked out (a local
repository stands in for the remote: fetch, a new commit, a failed fetch keeps the last state,
a token in the URL is never shown) and a directory (read again only when a file changed);
what people were told, read back from the journal after a restart; /healthz's window."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from controller.apply import Journal, Outcome, RunStatus
from controller.apply.outcomes import HoldReason
from controller.errors import SourceError, UsageError
from controller.gitops import parse_shard, sync_checkout
from controller.loop import CONTROLLER_COMMAND, DesiredSource, GitRepository, Reported
from controller.plan import Plan, plan_estate
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A repository with the demo estate on main (the remote the controller follows)."""
    repo = tmp_path / "remote"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    shutil.copytree(DESIRED, repo / "desired")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "estate")
    return repo


def test_the_branch_is_checked_out_and_followed(remote: Path, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    source = DesiredSource(Path("desired"), git=GitRepository(str(remote), "main", checkout))
    first = source.refresh()
    assert first.changed and first.revision == git(remote, "rev-parse", "HEAD")
    assert {t.metadata.name for t in first.state.tenants} >= {"contoso", "fabrikam"}
    assert source.approvals == checkout / "approvals"
    assert not source.refresh().changed  # same commit: not loaded again

    (remote / "desired" / "tenants" / "tailspin.yaml").unlink()
    git(remote, "commit", "--quiet", "-am", "tailspin leaves")
    (checkout / "desired" / "stray.txt").write_text("left by someone")
    second = source.refresh()
    assert second.changed and "tailspin" not in {t.metadata.name for t in second.state.tenants}


def test_a_shard_keeps_its_tenants_only(remote: Path, tmp_path: Path) -> None:
    shards = [
        DesiredSource(
            Path("desired"),
            git=GitRepository(str(remote), "main", tmp_path / f"c{k}"),
            shard=parse_shard(f"{k}/2"),
        ).refresh()
        for k in (1, 2)
    ]
    names = [{t.metadata.name for t in s.state.tenants} for s in shards]
    assert not names[0] & names[1]
    assert names[0] | names[1] == {"adatum", "contoso", "fabrikam", "tailspin", "woodgrove"}


def test_a_failed_fetch_keeps_the_last_state_and_never_shows_the_token(
    remote: Path, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    source = DesiredSource(Path("desired"), git=GitRepository(str(remote), "main", checkout))
    source.refresh()
    shutil.rmtree(remote)
    with pytest.raises(SourceError, match="git fetch"):
        source.refresh()
    assert source.last is not None and source.last.state.tenants

    url = "https://x-access-token:ghs_s3cr3tT0ken9@127.0.0.1:9/northwind/estate.git"
    with pytest.raises(SourceError) as failed:
        sync_checkout(url, "main", tmp_path / "other", timeout=30)
    assert "ghs_s3cr3tT0ken9" not in str(failed.value)
    assert "https://127.0.0.1:9/***" in str(failed.value)


@pytest.mark.parametrize("branch", ["--upload-pack=touch x", "a..b", ""])
def test_a_branch_that_could_be_an_option_is_refused(tmp_path: Path, branch: str) -> None:
    with pytest.raises(UsageError, match="--branch"):
        sync_checkout("https://example.com/r.git", branch, tmp_path / "c")


def test_a_directory_is_read_again_only_when_a_file_changed(tmp_path: Path) -> None:
    desired = tmp_path / "desired"
    shutil.copytree(DESIRED, desired)
    source = DesiredSource(desired)
    assert source.refresh().changed
    assert not source.refresh().changed
    (tmp_path / "approvals").mkdir()
    (tmp_path / "approvals" / "x.json").write_text("{}")
    assert source.refresh().changed  # approvals are part of what a cycle reads
    contoso = desired / "tenants" / "contoso.yaml"
    contoso.write_text(contoso.read_text() + "\n")
    assert source.refresh().changed


def test_what_was_reported_survives_a_restart_through_the_journal(tmp_path: Path) -> None:
    state = demo_desired()
    plan: Plan = plan_estate(state, demo_observed(state), demo_context(state))
    held = [op for op in plan.operations if op.tenant == "contoso"][:2]
    failed = [op for op in plan.operations if op.tenant == "fabrikam"][:1]
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        older = journal.start_run(CONTROLLER_COMMAND, plan.plan_id)
        journal.held(older, failed[0], Outcome.held(HoldReason.PENDING_APPROVAL, "x"))
        journal.finish_run(older, RunStatus.SUCCEEDED)
        run = journal.start_run(CONTROLLER_COMMAND, plan.plan_id)
        for op in held:
            journal.held(run, op, Outcome.held(HoldReason.PENDING_APPROVAL, "waits"))
        journal.intent(run, failed[0])
        journal.result(run, failed[0].id, Outcome.failed("boom"))
        journal.finish_run(run, RunStatus.FAILED)
        unfinished = journal.start_run(CONTROLLER_COMMAND, plan.plan_id)
        journal.held(unfinished, held[0], Outcome.held(HoldReason.STALE, "never reported"))
        reported = Reported.from_journal(journal, ["contoso", "fabrikam", "woodgrove"])
    assert reported.of("contoso") == {f"held:{op.fingerprint}" for op in held}
    assert reported.of("fabrikam") == {f"failed:{failed[0].fingerprint}"}
    assert reported.of("woodgrove") == frozenset()
    assert reported.news("contoso", frozenset({f"held:{held[0].fingerprint}"})) == frozenset()
