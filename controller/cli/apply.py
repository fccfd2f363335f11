"""``tenantctl apply``: re-observe, re-plan, and execute exactly what policy allows or an
unexpired approval names."""

from __future__ import annotations

import os
from pathlib import Path

import click

from controller.apply import Outcome, OutcomeStatus
from controller.apply.journal import JournalLocation
from controller.apply.lock import DEFAULT_LOCK_TIMEOUT
from controller.cli.options import (
    OutputFormat,
    desired_option,
    journal_option,
    output_options,
    tenant_option,
)
from controller.cli.progress import RunProgress
from controller.cli.selection import chosen_tenants
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.gitops import parse_webhook
from controller.plan import Operation, Plan
from controller.policy import parse_guard_override, policy_failures
from controller.reconcile import (
    InteractiveApproval,
    Outputs,
    apply_run,
    journal_location,
    local_user,
)
from controller.render import render_terminal
from controller.render.apply import apply_report, render_apply_terminal, tally_line
from controller.state_paths import StatePaths

EPILOG = """\b
Examples:
  tenantctl apply --sandbox                    apply what is approved, against the sandbox
  tenantctl apply --approvals approvals --journal .tenantctl/journal.sqlite
  tenantctl apply --journal postgresql://tenantctl@db.example.com/tenantctl
  tenantctl apply --tenant contoso --out result.json
  tenantctl apply -o json | jq '.operations[] | select(.status == "failed")'

\b
An operation runs only when policy allows it or an unexpired approval under --approvals names
its fingerprint. Everything else is held and reported with its reason: pending approval,
stale (the tenant changed since approval), denied, manual, propagating, blocked, guard.

\b
One apply at a time per journal (with a PostgreSQL journal: per tenant, across machines): a
second one refuses at once, naming the pid, host and start time of the first (or waits up to
--lock-timeout seconds). SIGTERM or Ctrl-C stops starting
operations, lets the call in flight finish, and still writes --out, --markdown and --notify.

\b
Exit status:
  0   every selected tenant was observed and everything planned was done
  2   work is left: operations held (approval, stale, manual, propagating, ...) or an
      area could not be observed
  1   an operation failed, the journal could not record the run, a tenant could not be
      observed, a connection check failed (credential, GDAP, CIPP), the plan failed its
      policy check, or another apply holds the journal's lock
  64  usage error (a wrong flag or argument)
  130 / 143  cancelled by SIGINT / SIGTERM (outputs written; run apply again to finish)
"""


@click.command(epilog=EPILOG)
@desired_option
@click.option(
    "--approvals",
    "approvals_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of approval records (written by tenantctl approve)  "
    "[default: approvals/ in the desired-state repository].",
)
@tenant_option("Apply only this tenant (repeatable; any case).")
@click.option("--shard", metavar="K/N", help="Apply only shard K of N.")
@journal_option(
    "The journal of runs and operations (tenantctl history reads it): a SQLite file, or a "
    "shared PostgreSQL database as postgresql://USER@HOST/DB (password in PGPASSWORD)  "
    "[default: .tenantctl/journal.sqlite in the desired-state repository, or the journal "
    "msp.yaml names].",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0, max=86_400),
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait while another apply holds the journal's lock (0: refuse at once).",
)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="Write results as JSON."
)
@click.option(
    "--markdown", type=click.Path(path_type=Path, dir_okay=False), help="Write results as Markdown."
)
@click.option("--notify", metavar="URL", help="Post a summary to a Teams or Slack webhook.")
@click.option(
    "--allow-guard",
    "allow_guard",
    multiple=True,
    metavar="NAME=COUNT",
    help="Raise a guard for this run.",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Show the plan and ask before running what needs approval (default: on a terminal, "
    "never in CI).",
)
@output_options
@world_options
@click.pass_obj
def apply(
    terminal: Terminal,
    desired: Path,
    approvals_dir: Path | None,
    tenants: tuple[str, ...],
    shard: str | None,
    journal: JournalLocation | None,
    lock_timeout: float,
    out: Path | None,
    markdown: Path | None,
    notify: str | None,
    allow_guard: tuple[str, ...],
    interactive: bool | None,
    output: OutputFormat,
    world: WorldOptions,
) -> None:
    """Apply: observe again, plan again, and execute only what policy allows or an approval names.

    Every operation is journaled before and after its call, so a run that was killed can be
    run again: it converges and creates nothing twice.
    """
    webhook = parse_webhook(notify) if notify else None
    raise_guards = parse_guard_override(allow_guard)
    paths = StatePaths.of(desired)
    approvals_dir = approvals_dir or paths.approvals
    state = chosen_tenants(terminal, desired, tenants, shard=shard)
    location = journal_location(journal, state.msp, desired)
    if interactive is None:
        interactive = terminal.is_tty and not os.environ.get("CI")
    user = local_user()
    progress = RunProgress(terminal)

    def ask(plan: Plan, waiting: int) -> bool:
        progress.end_phase()  # a question is never drawn over by a bar
        terminal.out(render_terminal(plan, color=terminal.color))
        if click.confirm(
            f"Apply {waiting} operation(s) that need approval, as {user}?", default=False
        ):
            return True
        terminal.info("not approved: those operations stay held")
        return False

    at_terminal = InteractiveApproval(
        ask,
        by=user,
        directory=approvals_dir,
        on_recorded=lambda path: terminal.info(f"approval recorded in {path}"),
    )

    with progress:

        def outcome(op: Operation, result: Outcome) -> None:
            _report(terminal, op, result)
            progress.advance(op.id)

        progress.phase("observing", len(state.tenants), "tenants")
        run = apply_run(
            state,
            world.where,
            approvals_dir=approvals_dir,
            journal=location,
            user=user,
            concurrency=world.concurrency,
            raise_guards=raise_guards,
            interactive=at_terminal if interactive else None,
            on_observed=progress.advance,
            on_execute=lambda total: progress.phase("applying", total, "operations"),
            on_outcome=outcome,
            on_warning=lambda text: terminal.info(f"warning: {text}"),
            outputs=Outputs(json=out, markdown=markdown, webhook=webhook, shard=shard),
            lock_timeout=lock_timeout,
        )
    result = run.result
    for note in run.notes:
        terminal.info(f"note: {note}")
    for path in run.delivered.written:
        terminal.info(f"wrote {path}")
    if output != "table":
        terminal.document(apply_report(result), output)
    elif terminal.quiet:
        terminal.out(tally_line(result))
    else:
        terminal.out(render_apply_terminal(result, color=terminal.color))
    for check in result.plan.failed_checks:
        terminal.error(check.line())
    for failure in policy_failures(result.plan):
        terminal.error(f"policy: {failure}")
    for warning in run.delivered.warnings:
        terminal.info(f"warning: {warning}")
    raise click.exceptions.Exit(result.exit_status)


def _report(terminal: Terminal, op: Operation, outcome: Outcome) -> None:
    if outcome.status is OutcomeStatus.SUCCEEDED:
        terminal.detail(f"ok      {op.kind.value} {op.target}: {outcome.detail}")
    elif outcome.status is OutcomeStatus.FAILED:
        # To stderr as it happens (the table on stdout repeats it at the end); even with -q,
        # a failure is what a script's log needs.
        terminal.err(f"FAILED  {op.kind.value} {op.target}: {outcome.error}")
