"""Writing a tenant file whole or not at all, and the importer's public surface."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller import importer
from controller.importer import write_whole


def test_a_file_is_replaced_whole_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "tenants" / "contoso.yaml"
    write_whole(path, "old\n")
    write_whole(path, "new\n")
    assert path.read_text() == "new\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["contoso.yaml"]


def test_a_failed_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "contoso.yaml"
    path.write_text("old\n")

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_whole(path, "new\n")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contoso.yaml"]


def test_the_package_declares_its_public_names() -> None:
    for name in importer.__all__:
        assert getattr(importer, name) is not None
    assert not [n for n in importer.__all__ if n.startswith("_")]
