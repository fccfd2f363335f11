"""``tenantctl validate``: check the desired state without touching any tenant."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from controller.cli.options import OutputFormat, desired_option, output_options
from controller.cli.terminal import Terminal
from controller.loader import validate_desired
from controller.models import OperationKind
from controller.render._document import ValidationReport


@click.command(
    epilog="\b\nExamples:\n  tenantctl validate\n  tenantctl validate --desired ./desired "
    "-o json\n  tenantctl validate -q || exit 1          only the problems, nothing when valid"
    "\n\n\b\nOperation kinds that policy rules may name (globs like group.* work):\n  "
    + "\n  ".join(k.value for k in OperationKind)
)
@desired_option
@output_options
@click.pass_obj
def validate(terminal: Terminal, desired: Path, output: OutputFormat) -> None:
    """Validate the desired state: YAML syntax, models, formats and cross-references.

    Every problem is reported, each as FILE:LINE:COL: PATH: MESSAGE. No network call is made.
    Exit status 0 when valid, 1 when not, 64 when the command line is wrong (no such folder).
    With -q only the problems are printed.
    """
    state, problems = validate_desired(desired)
    errors = [p for p in problems if p.severity == "error"]
    if output != "table":
        report = ValidationReport.model_validate(
            {
                "valid": state is not None,
                "tenants": len(state.tenants) if state else None,
                "diagnostics": [asdict(p) for p in problems],
            }
        )
        terminal.document(report, output)
    else:
        for problem in problems:
            terminal.out(str(problem))
        if state is not None:
            terminal.info(f"valid: msp.yaml and {len(state.tenants)} tenant(s) in {desired}")
        else:
            terminal.info(f"invalid: {len(errors)} error(s) in {desired}")
    if state is None:
        raise click.exceptions.Exit(1)
