"""Journal faults in the SQLite store: what sqlite reports when the journal is locked past the busy timeout, full,
or read-only becomes a :class:`JournalError` of that kind with its own message (never "not a
tenantctl journal", never an internal error); the files it creates are private.

The conditions are real sqlite ones: another connection's exclusive lock, ``max_page_count``
(sqlite's SQLITE_FULL, as a full disk gives), a read-only connection (SQLITE_READONLY, as a
read-only file or file system gives). A small tmpfs, when this machine lets a test mount one,
shows the same for a real full and a real read-only file system.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.apply import Journal, RunStatus
from controller.apply._journal_sqlite import SqliteDatabase
from controller.apply.journal import journal_error
from controller.errors import JournalError, UsageError
from tests.policy.factory import op

CREATE = op("user.create", "user:a@c.example", op_id="create")


def _filled(journal: Journal) -> None:
    """Let the database grow no further: sqlite answers SQLITE_FULL, as on a full disk."""
    database = journal.database
    assert isinstance(database, SqliteDatabase)
    pages = database.connection.execute("PRAGMA page_count").fetchone()[0]
    database.connection.execute(f"PRAGMA max_page_count = {pages}")
    for _ in range(200):  # fill the last free page
        with contextlib.suppress(JournalError):
            journal.start_run("apply", "x" * 400)


def test_a_locked_journal_says_locked(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Journal.open(path, busy_timeout=0.05) as journal, pytest.raises(JournalError) as err:
            journal.start_run("apply")
    except JournalError as at_open:  # the schema check may already meet the lock
        err = pytest.ExceptionInfo.from_exc_info((type(at_open), at_open, None))
    finally:
        holder.rollback()
        holder.close()
    assert err.value.problem == "locked"
    assert "is locked by another process (waited 0.05 s)" in str(err.value)
    assert "internal error" not in str(err.value)


def test_a_full_journal_says_no_space(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        _filled(journal)
        with pytest.raises(JournalError) as err:
            journal.start_run("apply", "y" * 4000)
    assert err.value.problem == "full"
    assert str(err.value).startswith("no space left on the device of the journal")


def test_a_read_only_journal_says_read_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal.open(path).close()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    journal = Journal(SqliteDatabase(connection, path), lambda: dt.datetime.now(dt.UTC))
    with pytest.raises(JournalError) as err:
        journal.start_run("apply")
    journal.close()
    assert err.value.problem == "read-only"
    assert "cannot be written (a read-only file, directory or file system)" in str(err.value)
    assert "not a tenantctl journal" not in str(err.value)


@pytest.mark.parametrize(
    ("number", "problem"),
    [(28, "full"), (30, "read-only"), (13, "read-only"), (5, "unavailable")],
)
def test_os_errors_are_told_apart_by_errno(number: int, problem: str, tmp_path: Path) -> None:
    error = journal_error(tmp_path / "j", OSError(number, os.strerror(number)), "creating it")
    assert error.problem == problem


def test_a_file_that_is_not_sqlite_is_still_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database at all\n" * 100)
    with pytest.raises(UsageError, match="is not a tenantctl journal"):
        Journal.open(path)


def test_journal_and_its_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite"
    old = os.umask(0o022)
    try:
        with Journal.open(path) as journal:
            run = journal.start_run("apply")
            journal.intent(run, CREATE)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_cancelled_run_is_recorded_as_cancelled(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        run = journal.start_run("apply")
        journal.finish_run(run, RunStatus.CANCELLED)
        (record,) = journal.runs()
    assert record.status is RunStatus.CANCELLED and not record.unfinished


# --- a real small file system, when a test may mount one --------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the sqlite-level tests above cover the messages")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_a_full_file_system(small_tmpfs: Path) -> None:
    path = small_tmpfs / "journal.sqlite"
    with Journal.open(path) as journal:
        with contextlib.suppress(OSError), (small_tmpfs / "ballast").open("wb") as ballast:
            for _ in range(1024):  # the file system, full to the last block
                ballast.write(b"\0" * 1024)
                ballast.flush()
        with pytest.raises(JournalError) as err:
            for _ in range(1000):
                journal.start_run("apply", "z" * 2000)
    assert err.value.problem == "full", err.value


def test_a_read_only_file_system(small_tmpfs: Path) -> None:
    path = small_tmpfs / "journal.sqlite"
    Journal.open(path).close()
    remount = ["mount", "-o", "remount,ro", str(small_tmpfs)]
    if subprocess.run(remount, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    with Journal.open(path) as journal, pytest.raises(JournalError) as err:
        journal.start_run("apply")
    assert err.value.problem == "read-only"
    with pytest.raises(JournalError) as at_create:
        Journal.open(small_tmpfs / "new" / "journal.sqlite")
    assert at_create.value.problem == "read-only"
