"""The package layout is the pipeline, and imports keep the layers honest (what import-linter
contracts would say): the pure cores (models, plan, policy, render) never import code that
talks to a service, connectors never import what is built on them, and nothing below the
command line imports the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "controller"

# layer -> modules (or third-party packages) it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "models": (
        "controller.loader",
        "controller.connectors",
        "controller.observe",
        "controller.plan",
        "controller.policy",
        "controller.apply",
        "controller.render",
        "controller.sandbox",
        "controller.cli",
        "httpx",
        "msal",
        "requests",
        "sqlite3",
    ),
    "plan": (
        "controller.connectors",
        "controller.observe",
        "controller.apply",
        "controller.sandbox",
        "controller.cli",
        "controller.loader",
        "httpx",
        "msal",
        "requests",
        "sqlite3",
        "time",
    ),
    "policy": (
        "controller.connectors",
        "controller.observe",
        "controller.apply",
        "controller.sandbox",
        "controller.cli",
        "httpx",
        "msal",
        "requests",
    ),
    "render": (
        "controller.connectors",
        "controller.observe",
        "controller.sandbox",
        "controller.cli",
        "httpx",
        "msal",
    ),
    "connectors": (
        "controller.observe",
        "controller.plan",
        "controller.policy",
        "controller.apply",
        "controller.render",
        "controller.sandbox",
        "controller.cli",
    ),
    "loader": (
        "controller.connectors",
        "controller.observe",
        "controller.sandbox",
        "controller.cli",
        "httpx",
        "msal",
    ),
    "observe": (
        "controller.plan",
        "controller.policy",
        "controller.apply",
        "controller.sandbox",
        "controller.cli",
    ),
    "apply": ("controller.sandbox", "controller.cli"),
    "sandbox": (
        "controller.connectors",
        "controller.observe",
        "controller.plan",
        "controller.policy",
        "controller.apply",
        "controller.render",
        "controller.loader",
        "msal",
    ),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_stay_within_bounds(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, layer
    breaches = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in sorted(_imports(path))
        for banned in FORBIDDEN[layer]
        if name == banned or name.startswith(banned + ".")
    ]
    assert breaches == []


# Modules every layer may use: they stand on nothing but the standard library (and, for the
# signature format, cryptography), so that using them never drags a service client along.
FOUNDATIONS: dict[str, tuple[str, ...]] = {
    "redaction.py": ("controller", "httpx", "msal", "requests"),
    "regular_files.py": ("controller", "httpx", "msal", "requests"),
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
