"""The package layout is the pipeline, and imports keep the layers honest (what import-linter
contracts would say; docs/architecture.md draws the same order).

- Every package and every module at the package root sits in exactly one layer; a root
  module that imports nothing of the package (a shared primitive) belongs to the base layer.
- A module imports its own layer and the layers below it, never one above: absolute imports,
  relative ones (resolved first), imports inside functions and under ``TYPE_CHECKING`` alike.
- The pure cores never import code that talks to a service or the clock: the planner sees
  observed values, never how they were read.
- The sandbox stands apart: it imports only the base layer, and only the code that opens the
  world (reconcile) and the ``sandbox`` command import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "controller"

# Lowest first. A layer may import itself and any layer before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "files"),  # the error tree and the atomic writer
    ("models",),
    ("loader",),
    ("connectors", "secrets"),
    ("observe",),
    ("plan",),
    ("policy",),
    ("apply",),
    ("render", "schemas"),
    ("gitops",),
    ("reconcile",),
    ("importer",),
    ("loop",),  # tenantctl controller: the runs on a schedule, health and metrics
    ("cli",),
)
SANDBOX = "sandbox"
# Beside the layers: __init__.py (the version) imports nothing of the package.
OUTSIDE = frozenset({SANDBOX, "__init__"})
SANDBOX_USERS = frozenset({"reconcile", "cli"})

# Pure cores: besides the order, what they must never import.
_SERVICES = ("httpx", "msal", "requests", "controller.connectors", "controller.observe")
PURE: dict[str, tuple[str, ...]] = {
    "models": (*_SERVICES, "sqlite3", "controller.files"),
    "plan": (*_SERVICES, "sqlite3", "time", "controller.loader", "controller.files"),
    "policy": _SERVICES,
    "render": (*_SERVICES, "controller.files"),
    "loader": _SERVICES,
}

RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def _unit(path: Path) -> str:
    """The layer name of a file: its package, or its own name at the package root."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    return _imports_of(path.read_text(encoding="utf-8"), _module(path), path.name == "__init__.py")


def _imports_of(source: str, here: str, is_package: bool) -> set[str]:
    """Every module ``source`` (module ``here``) imports, relative imports resolved."""
    tree = ast.parse(source)
    package = here if is_package else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            # ``from controller import gitops`` imports controller.gitops.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _target(name: str) -> str | None:
    """The layer an imported module belongs to, or None outside the package."""
    parts = name.split(".")
    if parts[0] != "controller" or len(parts) < 2:
        return None
    return parts[1]


FILES = sorted(PACKAGE.rglob("*.py"))
# Root modules that import nothing of the package sit in the base layer by construction.
RANK.update(
    {
        path.stem: 0
        for path in PACKAGE.glob("*.py")
        if path.stem not in OUTSIDE and not any(_target(n) for n in _imports(path))
    }
)


def test_every_package_and_root_module_sits_in_a_layer() -> None:
    units = {_unit(path) for path in FILES}
    placed = set(RANK) | OUTSIDE
    assert sorted(units - placed) == []
    assert sorted(set(RANK) - units) == []  # no layer names a package that is gone
    assert {"errors", "files"} <= {name for name, rank in RANK.items() if rank == 0}


def test_relative_imports_are_resolved_before_they_are_judged() -> None:
    source = "from ..reconcile import plan_run\nfrom . import engine\nimport httpx\n"
    assert _imports_of(source, "controller.apply.run", is_package=False) == {
        "controller.reconcile",
        "controller.reconcile.plan_run",
        "controller.apply",
        "controller.apply.engine",
        "httpx",
    }
    assert _imports_of("from .types import Plan\n", "controller.plan", is_package=True) == {
        "controller.plan.types",
        "controller.plan.types.Plan",
    }
    assert _module(PACKAGE / "plan" / "__init__.py") == "controller.plan"


@pytest.mark.parametrize("unit", sorted(RANK))
def test_no_layer_imports_a_layer_above_it(unit: str) -> None:
    breaches = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in FILES
        if _unit(path) == unit
        for name in sorted(_imports(path))
        if (target := _target(name)) is not None and target in RANK and RANK[target] > RANK[unit]
    ]
    assert breaches == []


@pytest.mark.parametrize("unit", sorted(PURE))
def test_the_pure_cores_talk_to_no_service(unit: str) -> None:
    breaches = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in FILES
        if _unit(path) == unit
        for name in sorted(_imports(path))
        for banned in PURE[unit]
        if name == banned or name.startswith(banned + ".")
    ]
    assert breaches == []


def test_the_sandbox_stands_apart() -> None:
    base = set(LAYERS[0])
    inside = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in FILES
        if _unit(path) == SANDBOX
        for name in sorted(_imports(path))
        if (target := _target(name)) is not None and target not in base | {SANDBOX}
    ]
    assert inside == []
    users = {
        _unit(path)
        for path in FILES
        if _unit(path) != SANDBOX and any(_target(n) == SANDBOX for n in _imports(path))
    }
    assert users <= SANDBOX_USERS


def test_the_package_version_module_imports_nothing_of_the_package() -> None:
    assert not [n for n in _imports(PACKAGE / "__init__.py") if _target(n)]


# Modules every layer may use: they stand on nothing but the standard library (and, for the
# signature format, cryptography), so that using them never drags a service client along.
FOUNDATIONS: dict[str, tuple[str, ...]] = {
    "redaction.py": ("controller", "httpx", "msal", "requests"),
    "regular_files.py": ("controller", "httpx", "msal", "requests"),
    "event_loop.py": ("controller", "httpx", "msal", "requests"),
    "policy/signatures.py": ("controller.connectors", "controller.cli", "httpx", "msal"),
}


@pytest.mark.parametrize("module", sorted(FOUNDATIONS))
def test_foundation_modules_import_nothing_above_them(module: str) -> None:
    allowed = {"controller.errors", "controller.regular_files"}
    breaches = [
        name
        for name in sorted(_imports(PACKAGE / module))
        for banned in FOUNDATIONS[module]
        if (name == banned or name.startswith(banned + ".")) and name not in allowed
    ]
    assert breaches == []
