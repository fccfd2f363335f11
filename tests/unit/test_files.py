"""The one atomic writer: a file is replaced whole or kept, gets the mode asked for whatever the
umask, is fsynced with its directory, can refuse to replace a file, and leaves no temporary
file behind, on success or failure."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.files import PRIVATE, SHARED, write_atomically


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
