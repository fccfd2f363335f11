"""One default for the tenants a run works on at once (``controller/concurrency.py``): the
command line's ``--concurrency`` and every library entry point take the same one."""

from __future__ import annotations

import inspect

import click

from controller.cli import cli
from controller.concurrency import TENANTS_AT_ONCE
from controller.importer._discover import discover_run
from controller.observe import observe_estate
from controller.reconcile import apply_run, observe_and_plan, plan_run


def test_the_command_line_and_the_library_share_one_default() -> None:
    for name in ("plan", "apply", "status"):
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        option = next(p for p in command.params if p.name == "concurrency")
        assert option.default == TENANTS_AT_ONCE, name
    for function in (plan_run, observe_and_plan, apply_run, observe_estate, discover_run):
        default = inspect.signature(function).parameters["concurrency"].default
        assert default == TENANTS_AT_ONCE, function.__name__
    assert TENANTS_AT_ONCE == 32
