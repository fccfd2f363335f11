"""Numbers, dates and files from outside are bounded: every numeric option is range-checked
(no OverflowError), an approval dated in the future or expiring before it was made is
refused, approving the same plan twice on one day writes one file, and plans and approval
records are regular files inside their directory, of bounded size and nesting, each refused
with a message that names the file and never its content."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli import approve as approve_module
from controller.cli import cli
from controller.errors import ApprovalError, UsageError
from controller.gitops.shard import parse_shard
from controller.policy import build_approval, load_approvals, parse_guard_override
from controller.policy.approvals import approval_bytes
from tests.policy.test_approvals import NOW, decided_plan, write_plan


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(approve_module, "_now", lambda: NOW)
    monkeypatch.setattr(approve_module, "plan_id_of", lambda plan: plan.plan_id)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


# --- numeric options ------------------------------------------------------------------------


@pytest.mark.parametrize("expires", ["999999999d", "91d", "99999999999999999999h", "2161h"])
def test_an_expiry_beyond_90_days_is_a_usage_error(tmp_path: Path, expires: str) -> None:
    plan = write_plan(tmp_path)
    result = run(
        "approve", str(plan), "--by", "a", "--expires", expires, "--approvals", str(tmp_path)
    )
    assert result.exit_code == 64, result.output
    assert "Traceback" not in result.output and "Overflow" not in result.output
    assert result.stderr.startswith("error: ")


def test_a_run_id_beyond_64_bits_is_a_usage_error(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    journal.touch()
    result = run("history", "--run", "99999999999999999999", "--journal", str(journal))
    assert result.exit_code == 64
    assert "is not in the range 1<=x<=9223372036854775807" in result.stderr


def test_shards_and_guard_overrides_are_bounded() -> None:
    with pytest.raises(UsageError, match="1 <= K <= N <= 10,000"):
        parse_shard("1/" + "9" * 5000)
    with pytest.raises(UsageError, match="COUNT must be a whole number from 0 to 999,999,999"):
        parse_guard_override(["maxDeletions=" + "9" * 5000])
    assert parse_guard_override(["maxDeletions=12"]) is not None


# --- approval dates -------------------------------------------------------------------------


def _store(directory: Path, content: dict[str, object]) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / "record.json"
    path.write_text(json.dumps(content))
    return path


def test_an_approval_dated_in_the_future_is_refused(tmp_path: Path) -> None:
    plan = decided_plan()
    future = build_approval(
        plan, "sha256:x", by="Mallory", only=None, expires=dt.timedelta(days=7), reason=None,
        now=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    directory = tmp_path / "approvals"
    directory.mkdir()
    (directory / "future.json").write_bytes(approval_bytes(future))
    with pytest.raises(ApprovalError, match="approved_at 2031-01-01T00:00:00Z is in the future"):
        load_approvals(directory, NOW)
    # A few minutes of clock skew between machines is tolerated.
    skewed = build_approval(
        plan, "sha256:x", by="Dana", only=None, expires=dt.timedelta(days=7), reason=None,
        now=NOW + dt.timedelta(minutes=4),
    )  # fmt: skip
    (directory / "future.json").write_bytes(approval_bytes(skewed))
    assert len(load_approvals(directory, NOW).active) == 1


def test_an_approval_that_expires_before_it_was_made_is_refused(tmp_path: Path) -> None:
    record = build_approval(
        decided_plan(), "sha256:x", by="Dana", only=None, expires=dt.timedelta(days=1),
        reason=None, now=NOW,
    )  # fmt: skip
    content = record.model_dump(mode="json")
    content["expiresAt"] = "2026-11-20T00:00:00Z"
    unsigned = {k: v for k, v in content.items() if k != "recordDigest"}
    from controller.policy._records import _canonical, _sha256

    content["recordDigest"] = _sha256(_canonical(unsigned))
    path = _store(tmp_path / "approvals", content)
    with pytest.raises(ApprovalError) as refused:
        load_approvals(tmp_path / "approvals", NOW)
    assert f"{path}: not an approval record (Value error, expiresAt is not after approvedAt" in (
        str(refused.value)
    )


def test_approving_the_same_plan_twice_on_one_day_writes_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_plan(tmp_path)
    approvals = tmp_path / "approvals"
    first = run("approve", str(plan), "--by", "alice", "--approvals", str(approvals))
    assert first.exit_code == 0, first.output
    monkeypatch.setattr(approve_module, "_now", lambda: NOW + dt.timedelta(hours=3))
    again = run(
        "approve", str(plan), "--by", "alice", "--approvals", str(approvals), "--expires", "1d"
    )
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("already approved 2 operations of plan ab12cd34 by alice")
    assert "nothing written" in again.stderr
    assert [p.name for p in approvals.iterdir()] == ["2026-11-26-alice-ab12cd34.json"]


# --- plan files and record files ------------------------------------------------------------


def test_a_deeply_nested_plan_is_a_clean_error(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("[" * 100_000 + "]" * 100_000)
    result = run("approve", str(plan), "--by", "a", "--approvals", str(tmp_path / "a"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {plan} nests deeper than 64 levels; re-create it with `tenantctl plan --out`\n"
    )


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "outside", "directory"])
def test_a_plan_that_is_not_a_regular_file_inside_its_directory_is_refused(
    tmp_path: Path, kind: str
) -> None:
    directory = tmp_path / "plans"
    directory.mkdir()
    plan = directory / "plan.json"
    outside = tmp_path / "private.txt"
    outside.write_text("TOP-SECRET-CONTENT of another file")
    expected = {
        "dev-zero": f"is a link to a file outside {directory}",
        "fifo": "is a FIFO (named pipe), not a regular file",
        "outside": f"is a link to a file outside {directory}",
        "directory": "is a directory",
    }[kind]
    if kind == "dev-zero":
        plan.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(plan)
    elif kind == "outside":
        plan.symlink_to(outside)
    else:
        plan.mkdir()
    result = run("approve", str(plan), "--by", "a", "--approvals", str(tmp_path / "a"))
    assert result.exit_code == 64, result.output
    assert expected in result.stderr
    assert "TOP-SECRET" not in result.output


@pytest.mark.timeout(20)
def test_records_that_are_not_regular_files_inside_approvals_are_refused(tmp_path: Path) -> None:
    directory = tmp_path / "approvals"
    directory.mkdir()
    outside = tmp_path / "secret.json"
    outside.write_text('{"TOP-SECRET": "content"}')
    (directory / "a-link.json").symlink_to(outside)
    (directory / "b-zero.json").symlink_to("/dev/zero")
    os.mkfifo(directory / "c-fifo.json")
    (directory / "d-deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (directory / "e-big.json").write_bytes(b" " * (8 * 1024 * 1024 + 1))
    with pytest.raises(ApprovalError) as refused:
        load_approvals(directory, NOW)
    message = str(refused.value)
    assert message.splitlines() == [
        "5 approval records cannot be trusted:",
        f"  {directory / 'a-link.json'}: is a link to a file outside {directory}; keep it inside "
        f"{directory}",
        f"  {directory / 'b-zero.json'}: is a link to a file outside {directory}; keep it inside "
        f"{directory}",
        f"  {directory / 'c-fifo.json'}: is a FIFO (named pipe), not a regular file",
        f"  {directory / 'd-deep.json'}: nests deeper than 64 levels",
        f"  {directory / 'e-big.json'}: is larger than 8 MiB, more than such a file can hold",
    ]
    assert "TOP-SECRET" not in message
