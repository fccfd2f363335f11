"""Generated passwords and the secret sink: strength (all four character classes, length,
randomness), file and directory modes, file naming, refusing a directory inside a git work
tree or open to others, and a grep over every file a run writes (approval record, journal,
plan) finding the password only in its sink file."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from controller.apply import DirectorySink, Journal, Outcome, generate_password
from controller.apply.secret_sink import DIGITS, LOWER, SYMBOLS, UPPER
from controller.errors import SecretNotStored, UsageError
from controller.policy import create_approval
from tests.policy.factory import op, plan, tenant

NOW = dt.datetime(2026, 11, 26, 9, 30, 5, tzinfo=dt.UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("length", [12, 20, 64])
def test_passwords_meet_entra_complexity(length: int) -> None:
    for _ in range(200):
        password = generate_password(length)
        assert len(password) == length
        for characters in (UPPER, LOWER, DIGITS, SYMBOLS):
            assert any(c in characters for c in password)
        assert set(password) <= set(UPPER + LOWER + DIGITS + SYMBOLS)


def test_passwords_are_random_and_avoid_look_alikes() -> None:
    passwords = {generate_password() for _ in range(500)}
    assert len(passwords) == 500
    assert not set("Il1O0") & set("".join(passwords))


@pytest.mark.parametrize("length", [0, 11, 257])
def test_password_length_limits(length: int) -> None:
    with pytest.raises(ValueError, match="12 to 256"):
        generate_password(length)


def test_the_sink_writes_one_private_file_and_returns_its_path(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "secrets")
    password = generate_password()
    path = sink.store(
        tenant="contoso", upn="alice@contoso.example", purpose="initial", secret=password, now=NOW
    ).path
    assert (
        path
        == tmp_path / "secrets" / "contoso" / "alice@contoso.example-initial-20261126T093005Z.txt"
    )
    assert path.read_text() == password + "\n"
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert _mode(tmp_path / "secrets") == 0o700


def test_the_modes_hold_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o000)
    try:
        path = (
            DirectorySink(tmp_path / "s")
            .store(tenant="t", upn="u@x.example", purpose="reset", secret="x", now=NOW)
            .path
        )
    finally:
        os.umask(previous)
    assert (_mode(path), _mode(path.parent), _mode(tmp_path / "s")) == (0o600, 0o700, 0o700)


def test_a_second_secret_in_the_same_second_never_overwrites(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "s")
    first = sink.store(tenant="t", upn="u@x.example", purpose="reset", secret="one", now=NOW).path
    second = sink.store(tenant="t", upn="u@x.example", purpose="reset", secret="two", now=NOW).path
    assert first is not None and second is not None
    assert second.name == first.name.replace(".txt", "-2.txt")
    assert first.read_text() == "one\n"


def test_a_name_used_99_times_is_not_stored_and_nothing_is_left(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "s")
    for _ in range(99):
        sink.store(tenant="t", upn="u@x.example", purpose="reset", secret="s", now=NOW)
    folder = tmp_path / "s" / "t"
    before = sorted(folder.iterdir())
    with pytest.raises(SecretNotStored, match=r"99 files named .* already exist; nothing was sent"):
        sink.store(tenant="t", upn="u@x.example", purpose="reset", secret="s", now=NOW)
    assert sorted(folder.iterdir()) == before


def test_names_cannot_escape_the_sink(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "s")
    path = sink.store(
        tenant="../evil", upn="a/b@x.example", purpose="reset", secret="x", now=NOW
    ).path
    assert path is not None
    assert path.parent.parent == tmp_path / "s"
    assert path.name.startswith("a_b@x.example-reset-")


def test_a_directory_inside_a_git_work_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(UsageError, match=r"is inside the git work tree .*repo; a password"):
        DirectorySink(tmp_path / "repo" / "not-yet" / "secrets")
    sink = DirectorySink(tmp_path / "repo" / "secrets", allow_in_git_work_tree=True)
    assert sink.directory == tmp_path / "repo" / "secrets"


def test_a_git_worktree_file_counts_as_a_work_tree(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: /elsewhere\n")
    with pytest.raises(UsageError, match="inside the git work tree"):
        DirectorySink(tmp_path / "wt" / "secrets")


def test_a_directory_open_to_others_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(UsageError, match=r"is open to other users \(mode 0755\)"):
        DirectorySink(shared)


def test_the_password_is_only_in_its_sink_file(tmp_path: Path) -> None:
    """A run's worth of files: plan, approval record, journal and sink. Only one holds it."""
    work = tmp_path / "repo"
    work.mkdir()
    sink = DirectorySink(tmp_path / "sink")
    password = generate_password()
    new_user = op("user.create", "user:alice@contoso.example")
    the_plan = plan(tenant("contoso", new_user))
    plan_path = work / "plan.json"
    plan_path.write_text(the_plan.model_dump_json(indent=2))
    create_approval(
        plan_path,
        by="alice",
        only=None,
        expires=dt.timedelta(days=1),
        reason=None,
        now=NOW,
        directory=work / "approvals",
    )
    with Journal.open(work / ".tenantctl" / "journal.sqlite") as journal:
        run = journal.start_run("apply", the_plan.plan_id)
        journal.intent(run, new_user)
        secret_file = sink.store(
            tenant="contoso",
            upn="alice@contoso.example",
            purpose="initial",
            secret=password,
            now=NOW,
        ).path
        journal.result(run, new_user.id, Outcome.succeeded(detail=f"password in {secret_file}"))
    holding = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file() and password.encode() in path.read_bytes()
    ]
    assert holding == [secret_file]
    written = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()}
    assert {"plan.json", ".tenantctl/journal.sqlite"} <= written
    assert any(name.startswith("approvals/") for name in written)


def test_a_full_sink_leaves_no_file_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = DirectorySink(tmp_path / "secrets")

    def disk_full(handle: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(SecretNotStored, match="No space left on device; nothing was sent"):
        sink.store(tenant="contoso", upn="a@contoso.example", purpose="p", secret="s", now=NOW)
    monkeypatch.undo()
    assert [p for p in (tmp_path / "secrets").rglob("*") if p.is_file()] == []  # no 0-byte file


def test_a_voided_password_file_is_gone(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "secrets")
    stored = sink.store(tenant="contoso", upn="a@contoso.example", purpose="p", secret="s", now=NOW)
    path = stored.path
    assert path is not None and str(stored) == str(path)
    assert path.read_text() == "s\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    sink.void(stored)
    assert not path.exists()
    assert [p.name for p in path.parent.iterdir()] == []  # no temporary file either


def test_a_sink_that_cannot_be_a_directory_holds_instead_of_crashing(tmp_path: Path) -> None:
    """A read-only root file system with HOME at a file (a container without a writable HOME):
    ``~/.tenantctl/secrets`` cannot be made. The operation is held with the reason, never an
    internal NotADirectoryError."""
    home = tmp_path / "home"
    home.write_text("not a directory")
    sink = DirectorySink(home / ".tenantctl" / "secrets")
    with pytest.raises(SecretNotStored, match=r"Not a directory; nothing was sent"):
        sink.store(tenant="contoso", upn="a@contoso.example", purpose="p", secret="s", now=NOW)


def test_check_makes_the_directory_private_and_refuses_one_it_cannot_write(
    tmp_path: Path,
) -> None:
    sink = DirectorySink(tmp_path / "secrets")
    sink.check()
    assert _mode(tmp_path / "secrets") == 0o700
    (tmp_path / "blocked").write_text("a file where the sink's directory should be\n")
    with pytest.raises(
        SecretNotStored, match=r"could not be stored in .*blocked.*nothing was sent"
    ):
        DirectorySink(tmp_path / "blocked" / "secrets").check()
