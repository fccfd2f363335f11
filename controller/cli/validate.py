"""``tenantctl validate``: check the desired state without touching any tenant."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from controller.cli.options import desired_option, format_option
from controller.cli.terminal import Terminal
from controller.loader import validate_desired
from controller.models import OperationKind


@click.command(
    epilog="\b\nExamples:\n  tenantctl validate\n  tenantctl validate --desired ./desired "
    "--format json\n\n\b\nOperation kinds that policy rules may name (globs like group.* work):\n  "
    + "\n  ".join(k.value for k in OperationKind)
)
@desired_option
@format_option
@click.pass_obj
def validate(terminal: Terminal, desired: Path, output_format: str) -> None:
    """Validate the desired state: YAML syntax, models, formats and cross-references.

    Every problem is reported, each as FILE:LINE:COL: PATH: MESSAGE. No network call is made.
    Exit status 0 when valid, 1 when not, 64 when the command line is wrong (no such folder).
    """
    state, problems = validate_desired(desired)
    errors = [p for p in problems if p.severity == "error"]
    if output_format == "json":
        terminal.out(
            json.dumps(
                {
                    "valid": state is not None,
                    "tenants": len(state.tenants) if state else None,
                    "diagnostics": [asdict(p) for p in problems],
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            terminal.out(str(problem))
        if state is not None:
            terminal.info(f"valid: msp.yaml and {len(state.tenants)} tenant(s) in {desired}")
        else:
            terminal.info(f"invalid: {len(errors)} error(s) in {desired}")
    if state is None:
        raise click.exceptions.Exit(1)
