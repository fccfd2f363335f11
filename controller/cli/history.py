"""``tenantctl history``: the runs in the journal, or one run's operations."""

from __future__ import annotations

from pathlib import Path

import click

from controller.apply import DEFAULT_JOURNAL, Journal
from controller.cli.options import format_option
from controller.cli.terminal import Terminal
from controller.errors import UsageError
from controller.render.history import render_run, render_run_json, render_runs, render_runs_json

EPILOG = """\b
Examples:
  tenantctl history
  tenantctl history --run 3
  tenantctl history --journal ci/journal.sqlite --format json
"""


@click.command(epilog=EPILOG)
@click.option(
    "--run",
    "run_id",
    # SQLite integers are 64-bit: a larger id would overflow, not just match nothing.
    type=click.IntRange(1, 2**63 - 1),
    default=None,
    help="Show this run's operations.",
)
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_JOURNAL,
    show_default=True,
    help="The journal database.",
)
@format_option
@click.pass_obj
def history(terminal: Terminal, run_id: int | None, journal_path: Path, output_format: str) -> None:
    """Show what apply did: every run, or with --run one run's operations.

    An operation marked INTERRUPTED was started and never finished: the run was killed during
    the call. Re-running apply converges; it observes the tenant again rather than trusting
    the journal.
    """
    if not journal_path.exists():
        if run_id is not None:
            raise UsageError(f"no journal at {journal_path}; point --journal at apply's journal")
        if output_format == "json":
            terminal.out(render_runs_json([]))
        else:
            terminal.out(f"no runs recorded (no journal at {journal_path})")
        return
    with Journal.open(journal_path, create=False) as journal:
        if run_id is None:
            runs = journal.runs()
            terminal.out(render_runs_json(runs) if output_format == "json" else render_runs(runs))
            return
        run = journal.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id} in {journal_path}; `tenantctl history` lists them")
        operations = journal.operations(run_id)
        terminal.out(
            render_run_json(run, operations)
            if output_format == "json"
            else render_run(run, operations)
        )
