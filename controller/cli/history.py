"""``tenantctl history``: the runs in the journal, or one run's operations."""

from __future__ import annotations

from pathlib import Path

import click

from controller.apply import Journal
from controller.apply.journal import JournalLocation, journal_exists
from controller.cli.options import OutputFormat, desired_option, journal_option, output_options
from controller.cli.terminal import Terminal
from controller.errors import UsageError
from controller.loader import load_msp
from controller.reconcile import journal_location
from controller.render.history import history_report, render_run, render_runs, run_report

EPILOG = """\b
Examples:
  tenantctl history
  tenantctl history --run 3
  tenantctl history --journal ci/journal.sqlite -o json
  tenantctl history --journal postgresql://auditor@db.example.com/tenantctl
  tenantctl history -q                          the run ids, one per line
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
@journal_option(
    "The journal: a SQLite file or a postgresql:// URL  [default: msp.yaml's journal, else "
    ".tenantctl/journal.sqlite in the desired-state repository].",
)
@desired_option
@output_options
@click.pass_obj
def history(
    terminal: Terminal,
    run_id: int | None,
    journal: JournalLocation | None,
    desired: Path,
    output: OutputFormat,
) -> None:
    """Show what apply did: every run, or with --run one run's operations.

    An operation marked INTERRUPTED was started and never finished: the run was killed during
    the call. Re-running apply converges; it observes the tenant again rather than trusting
    the journal. With -q: the run ids, or with --run the run's status.
    """
    location = journal_location(journal, None if journal else load_msp(desired), desired)
    where = location.describe()
    if not journal_exists(location):
        if run_id is not None:
            raise UsageError(f"no journal at {where}; point --journal at apply's journal")
        if output != "table":
            terminal.document(history_report([]), output)
        elif not terminal.quiet:
            terminal.out(f"no runs recorded (no journal at {where})")
        return
    with Journal.open(location, create=False) as opened:
        if run_id is None:
            runs = opened.runs()
            if output != "table":
                terminal.document(history_report(runs), output)
            elif terminal.quiet:
                for run_record in runs:
                    terminal.out(str(run_record.id))
            else:
                terminal.out(render_runs(runs))
            return
        run = opened.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id} in {where}; `tenantctl history` lists them")
        operations = opened.operations(run_id)
    if output != "table":
        terminal.document(run_report(run, operations), output)
    elif terminal.quiet:
        terminal.out("unfinished" if run.unfinished else run.status)
    else:
        terminal.out(render_run(run, operations))
