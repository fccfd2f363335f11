"""Lazy startup of the command line: ``--version``, ``--help`` and ``validate`` import only what
they use (never MSAL, httpx, rich, requests or the connectors; the first two not even the
models), commands are imported when they run, and the summaries ``--help`` lists without
importing the commands are the commands' own. Checked by the modules a fresh interpreter
loaded, not by a stopwatch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from controller.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]
SERVICE_CLIENTS = {"msal", "httpx", "httpcore", "rich", "requests", "orjson", "h11", "anyio"}

_PROBE = """
import json, sys
from controller.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)), file=sys.stderr)
"""


def _loaded(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_no_models_and_no_service_client(args: list[str]) -> None:
    tops = {name.split(".")[0] for name in _loaded(*args)}
    assert not tops & (SERVICE_CLIENTS | {"pydantic", "yaml"})
    ours = {name for name in _loaded(*args) if name.startswith("controller.")}
    assert ours <= {
        "controller.cli",
        "controller.cli.options",
        "controller.state_paths",
        "controller.cli.terminal",
        "controller.errors",
        "controller.redaction",
    }


def test_validate_loads_the_loader_but_no_service_client() -> None:
    loaded = _loaded("validate", "--desired", str(ROOT / "desired"))
    assert "controller.loader" in loaded
    assert not {name.split(".")[0] for name in loaded} & SERVICE_CLIENTS
    assert not any(
        name.startswith(("controller.connectors", "controller.sandbox")) for name in loaded
    )


def test_every_command_module_is_registered_under_its_command_name() -> None:
    helpers = {
        "__init__",
        "log_json",
        "options",
        "progress",
        "selection",
        "terminal",
        "world_options",
    }
    modules = {p.stem for p in (ROOT / "controller" / "cli").glob("*.py")} - helpers
    assert {module for module, _ in COMMANDS.values()} == modules
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None and command.name == name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_summary_help_lists_is_the_command_s_own(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    # Update COMMANDS in controller/cli/__init__.py when a command's first sentence changes.
    assert command.get_short_help_str(limit=1000) == COMMANDS[name][1]


def test_the_plan_command_loads_no_apply_engine_report_or_templates() -> None:
    """``controller.reconcile`` and the packages beside it import a name's module when the
    name is first used: the plan command pays at start-up for what planning uses."""
    loaded = _loaded("plan", "--help")
    assert "controller.reconcile._plan" in loaded
    unused = {
        "controller.reconcile._apply",
        "controller.reconcile._report",
        "controller.reconcile._get",
        "controller.apply.executors",
        "controller.render.report",
        "controller.render.documents",
        "controller.gitops.templates",
        "controller.gitops.checkout",
        "controller.render.observations",  # only with --observations
        "jinja2",
    }
    assert not loaded & unused
    # Signing and checking approvals (approve, apply) is all cryptography does here.
    assert "cryptography" not in {name.split(".")[0] for name in loaded}


def test_a_run_without_a_progress_bar_loads_no_rich() -> None:
    """rich draws the progress bar on a terminal; a plan in CI or in a pipe never does, and
    httpx's command-line module, which would import rich, click's extras and pygments on
    httpx's first import, is kept out (``controller/__init__.py``)."""
    loaded = _loaded("plan", "--help")
    assert "httpx" in loaded
    assert not {name.split(".")[0] for name in loaded} & {"rich", "pygments"}
