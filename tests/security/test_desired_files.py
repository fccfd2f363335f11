"""Desired-state files are regular files inside the desired directory, of bounded size and
nesting: a tenant file that is a FIFO, a link to /dev/zero or to a file outside the
repository, a file over the size cap, or YAML nested thousands deep is a located diagnostic;
the loader neither hangs nor reads without bound, and a link's target is never echoed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.loader import MAX_FILE_BYTES
from controller.loader.source import MAX_DEPTH, parse_yaml
from tests.unit.desired_files import TENANT, validate


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", "is a FIFO (named pipe), not a regular file"),
        ("dev-zero", "is a link to a file outside desired; keep it inside desired"),
        ("outside", "is a link to a file outside desired; keep it inside desired"),
    ],
)
def test_a_tenant_file_that_is_not_a_regular_file_inside_desired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, message: str
) -> None:
    tenants = tmp_path / "desired" / "tenants"
    tenants.mkdir(parents=True)
    hostile = tenants / "hostile.yaml"
    outside = tmp_path / "id_rsa"
    outside.write_text("spec: PRIVATE-KEY-MATERIAL\n")
    if kind == "fifo":
        os.mkfifo(hostile)
    elif kind == "dev-zero":
        hostile.symlink_to("/dev/zero")
    else:
        hostile.symlink_to(outside)
    found = validate(tmp_path, monkeypatch, {"contoso": TENANT})
    assert found == [f"desired/tenants/hostile.yaml:1:1: {message}"]
    assert "PRIVATE-KEY" not in "".join(found)


def test_a_link_inside_desired_is_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "desired" / "shared"
    shared.mkdir(parents=True)
    (shared / "contoso.yaml").write_text(TENANT)
    (tmp_path / "desired" / "tenants").mkdir()
    (tmp_path / "desired" / "tenants" / "contoso.yaml").symlink_to(shared / "contoso.yaml")
    assert validate(tmp_path, monkeypatch, {}) == []


def test_an_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tenants = tmp_path / "desired" / "tenants"
    tenants.mkdir(parents=True)
    with (tenants / "huge.yaml").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}) == [
        "desired/tenants/huge.yaml:1:1: is larger than 32 MiB, more than such a file can hold"
    ]


def test_deep_nesting_is_a_located_error_not_a_recursion_error() -> None:
    deep = parse_yaml("spec:\n  x: " + "[" * 200 + "]" * 200 + "\n", "t.yaml")
    assert [str(d) for d in deep.diagnostics] == [
        f"t.yaml:2:{MAX_DEPTH + 4}: nested deeper than {MAX_DEPTH} levels"
    ]
    # libyaml stops at 1,000 levels itself; either way it is one located diagnostic.
    deepest = parse_yaml("spec:\n  x: " + "[" * 100_000 + "]" * 100_000 + "\n", "t.yaml")
    assert len(deepest.diagnostics) == 1 and deepest.diagnostics[0].line == 2
    shallow = parse_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "t.yaml")
    assert shallow.diagnostics == []


def test_aliases_cannot_nest_past_the_limit() -> None:
    half = MAX_DEPTH // 2 + 2
    text = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    assert [str(d) for d in parse_yaml(text, "t.yaml").diagnostics] == [
        f"t.yaml:1:1: aliases nest this document deeper than {MAX_DEPTH} levels"
    ]
