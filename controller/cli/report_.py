"""``tenantctl report --html DIR``: the estate report, static pages people open in a browser.

The module is ``report_``: ``controller.cli.report`` would shadow the package's ``report()``,
which prints tenantctl's errors."""

from __future__ import annotations

from pathlib import Path

import click

from controller.apply.journal import JournalLocation
from controller.cli.options import (
    OutputFormat,
    desired_option,
    journal_option,
    output_option,
    tenant_option,
)
from controller.cli.progress import RunProgress
from controller.cli.selection import chosen_tenants, selector_option
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.errors import UsageError
from controller.loader import load_msp
from controller.reconcile import journal_location, report_run
from controller.render.documents import ReportWritten

EPILOG = """\b
Examples:
  tenantctl report --html report --sandbox          observe and plan, then write the report
  tenantctl plan --observations obs.json            save a run (CI), and later, anywhere:
  tenantctl report --html report --observations obs.json
  tenantctl report --html report --observations shard-1.json --observations shard-2.json

\b
Pages: index.html (every tenant: onboarding badges, GDAP end date, drift, findings, last
apply), tenants/NAME.html (what git manages and what is there, findings with the users
concerned, manual steps with their links, licence usage) and tenants/NAME-summary.html (a
printable summary for the customer). No script, nothing loaded from anywhere: open it from
a CI artifact, a file share or Pages. DIR is created, or replaced when it holds an earlier
report; a directory with other files is refused.

\b
Exit status: 0 the report was written; 1 an error; 64 usage error.
"""


@click.command("report", epilog=EPILOG)
@click.option(
    "--html",
    "directory",
    type=click.Path(path_type=Path, dir_okay=True, file_okay=False),
    required=True,
    metavar="DIR",
    help="Write the report's pages into this directory.",
)
@click.option(
    "--observations",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="FILE",
    help="Build the report from saved observations (`plan --observations FILE`; repeatable, "
    "one per shard) instead of observing the tenants.",
)
@journal_option(
    "The journal the last applies are read from: a SQLite file or a postgresql:// URL  "
    "[default: msp.yaml's journal, else .tenantctl/journal.sqlite in the desired-state "
    "repository].",
)
@desired_option
@tenant_option("Only this tenant (repeatable; any case). Default: every tenant.")
@selector_option
@output_option
@world_options
@click.pass_obj
def report_(
    terminal: Terminal,
    directory: Path,
    observations: tuple[Path, ...],
    journal: JournalLocation | None,
    desired: Path,
    tenants: tuple[str, ...],
    selectors: tuple[str, ...],
    output: OutputFormat,
    world: WorldOptions,
) -> None:
    """Report: write the estate report as static HTML pages.

    Observes and plans exactly as `tenantctl plan` does (reads only), or reads saved
    observations and observes nothing. With -q: the path of the overview page.
    """
    location = journal_location(journal, None if journal else load_msp(desired), desired)
    if observations:
        if tenants or selectors or world.sandbox:
            raise UsageError(
                "--observations builds the report from what was saved: choose the tenants "
                "when saving them (plan --tenant ... --observations FILE)"
            )
        run = report_run(directory, observations=observations, journal=location)
    else:
        state = chosen_tenants(terminal, desired, tenants, selectors=selectors)
        with RunProgress(terminal) as progress:
            progress.phase("observing", len(state.tenants), "tenants")
            run = report_run(
                directory,
                state=state,
                where=world.where,
                journal=location,
                concurrency=world.concurrency,
                on_observed=progress.advance,
            )
    for note in run.notes:
        terminal.info(f"note: {note}")
    written = run.result
    index = written.directory / "index.html"
    if output != "table":
        document = ReportWritten(
            directory=str(written.directory),
            index=str(index),
            pages=written.pages,
            tenants=written.tenants,
        )
        terminal.document(document, output)
    elif terminal.quiet:
        terminal.out(str(index))
    else:
        terminal.out(
            f"wrote {written.pages} page(s) for {written.tenants} tenant(s) to "
            f"{written.directory}; open {index}"
        )
