"""The public surface of ``controller.plan`` and ``controller.render`` is what ``__all__``
says, and the planner core imports no connector, clock or file-system module."""

from __future__ import annotations

import ast
from pathlib import Path

import controller.plan
import controller.render

PLAN_DIR = Path(controller.plan.__file__).parent
FORBIDDEN = {
    "httpx",
    "requests",
    "msal",
    "time",
    "os",
    "pathlib",
    "random",
    "controller.connectors",
}


def test_all_names_exist() -> None:
    for module in (controller.plan, controller.render):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    assert {"plan_tenant", "plan_estate", "PlanContext"} <= set(controller.plan.__all__)


def test_the_planner_is_pure() -> None:
    for path in sorted(PLAN_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (
                    f"{path.name} imports {name}"
                )
        assert ".now(" not in path.read_text(encoding="utf-8"), f"{path.name} reads a clock"
