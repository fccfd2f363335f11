"""The one atomic writer: a file is replaced whole or kept, gets the mode asked for whatever the
umask, is fsynced with its directory, can refuse to replace a file, and leaves no temporary
file behind, on success or failure. A directory of files (the report) is replaced whole too,
only when it is new, empty or an earlier one, never a directory of someone else's files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.errors import UsageError
from controller.files import PRIVATE, SHARED, write_atomically, write_directory


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_text_replaces_the_file_whole_and_parents_are_created(tmp_path: Path) -> None:
    path = tmp_path / "out" / "plan.json"
    write_atomically(path, "old\n", mode=PRIVATE)
    write_atomically(path, "new ü\n", mode=PRIVATE)
    assert path.read_bytes() == "new ü\n".encode()
    assert sorted(p.name for p in path.parent.iterdir()) == ["plan.json"]


@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize("mode", [PRIVATE, SHARED])
def test_the_mode_is_the_one_asked_for_whatever_the_umask(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "file"
    write_atomically(path, b"x", mode=mode)
    assert _mode(path) == mode


def test_the_file_and_its_directory_are_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[bool] = []
    real = os.fsync

    def fsync(handle: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(handle).st_mode))
        real(handle)

    monkeypatch.setattr(os, "fsync", fsync)
    write_atomically(tmp_path / "state.json", "{}", mode=PRIVATE)
    assert synced == [False, True]  # the file first, then the rename in its directory


def test_without_overwrite_an_existing_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "litware.yaml"
    path.write_text("mine\n")
    with pytest.raises(FileExistsError):
        write_atomically(path, "skeleton\n", mode=PRIVATE, overwrite=False)
    assert path.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["litware.yaml"]
    write_atomically(tmp_path / "new.yaml", "skeleton\n", mode=PRIVATE, overwrite=False)
    assert (tmp_path / "new.yaml").read_text() == "skeleton\n"


def test_a_failed_write_keeps_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "approval.json"
    path.write_text("old\n")

    def fail(handle: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "new\n", mode=SHARED)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["approval.json"]


# -- a directory of files -----------------------------------------------------------------------

MARK = ".written-by-test"


def test_a_directory_is_written_with_modes_and_replaced_whole(
    tmp_path: Path, open_umask: None
) -> None:
    target = tmp_path / "out" / "report"
    write_directory(
        target, {"index.html": "one", "tenants/a.html": b"a"}, mode=PRIVATE, marker=MARK
    )
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        MARK,
        "index.html",
        "tenants",
        "tenants/a.html",
    ]
    assert (_mode(target), _mode(target / "tenants"), _mode(target / "index.html")) == (
        0o700,
        0o700,
        0o600,
    )
    write_directory(target, {"index.html": "two"}, mode=SHARED, marker=MARK)
    assert (target / "index.html").read_text() == "two"
    assert not (target / "tenants").exists()  # nothing of the earlier one is left
    assert _mode(target) == 0o755
    assert sorted(p.name for p in target.parent.iterdir()) == ["report"]  # no staging left


def test_a_directory_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="tenantctl did not write"):
        write_directory(tmp_path, {"index.html": "x"}, mode=PRIVATE, marker=MARK)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        write_directory(tmp_path / "file", {"index.html": "x"}, mode=PRIVATE, marker=MARK)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_directory(empty, {"index.html": "x"}, mode=PRIVATE, marker=MARK)
    assert (empty / "index.html").read_text() == "x"


def test_a_path_outside_the_directory_is_a_bug_and_nothing_is_left(tmp_path: Path) -> None:
    target = tmp_path / "report"
    for bad in ("../escape.html", "/etc/x", "a/../../b"):
        with pytest.raises(ValueError, match="not a path inside"):
            write_directory(target, {bad: "x"}, mode=PRIVATE, marker=MARK)
    assert list(tmp_path.iterdir()) == []
