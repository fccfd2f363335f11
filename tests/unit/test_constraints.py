"""Reproducible installs: ``constraints.txt`` (made by ``make lock`` from pyproject.toml) pins
every dependency the project declares, core and dev, to one version; `make` and CI install
with it. A dependency added to pyproject.toml without re-locking fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    """The project name as PEP 503 normalises it (ruamel.yaml is ruamel-yaml)."""
    name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for extra in project["optional-dependencies"].values() for r in extra}
    pinned: dict[str, str] = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pinned[_name(name)] = version
    missing = sorted(declared - pinned.keys())
    assert not missing, f"not in constraints.txt: {', '.join(missing)}; run `make lock`"
