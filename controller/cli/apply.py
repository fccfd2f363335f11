"""``tenantctl apply``: re-observe, re-plan, and execute exactly what policy allows or an
unexpired approval names."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import os
from pathlib import Path

import click

from controller.apply import (
    DEFAULT_JOURNAL,
    HoldReason,
    Journal,
    Outcome,
    OutcomeStatus,
    SecretSink,
    gate,
)
from controller.apply.engine import ApplyResult
from controller.apply.run import apply_estate
from controller.cli.options import desired_option
from controller.cli.progress import TenantProgress
from controller.cli.selection import chosen_tenants
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.connectors import Connections
from controller.gitops import parse_webhook
from controller.plan import Operation, Plan
from controller.policy import ApprovalSet, load_approvals, parse_guard_override, policy_failures
from controller.policy.approvals import StoredApproval, build_approval
from controller.render import render_terminal
from controller.render.apply import render_apply_json, render_apply_markdown, render_apply_terminal
from controller.runtime import World, open_world

EPILOG = """\b
Examples:
  tenantctl apply --sandbox                    apply what is approved, against the sandbox
  tenantctl apply --approvals approvals --journal .tenantctl/journal.sqlite
  tenantctl apply --tenant contoso --out result.json

\b
An operation runs only when policy allows it or an unexpired approval under --approvals names
its fingerprint. Everything else is held and reported with its reason: pending approval,
stale (the tenant changed since approval), denied, manual, propagating, blocked, guard.

\b
Exit status:
  0   every selected tenant was observed and everything planned was done
  2   work is left: operations held (approval, stale, manual, propagating, ...) or an
      area could not be observed
  1   an operation failed, a tenant could not be observed, a connection check failed
      (credential, GDAP, CIPP), or the plan failed its policy check
  64  usage error (a wrong flag or argument)
"""


@click.command(epilog=EPILOG)
@desired_option
@click.option(
    "--approvals",
    "approvals_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("approvals"),
    show_default=True,
    help="Directory of approval records (written by tenantctl approve).",
)
@click.option("--tenant", "tenants", multiple=True, help="Apply only this tenant (repeatable).")
@click.option("--shard", metavar="K/N", help="Apply only shard K of N.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_JOURNAL,
    show_default=True,
    help="SQLite journal of runs and operations (tenantctl history reads it).",
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
@world_options
@click.pass_obj
def apply(
    terminal: Terminal,
    desired: Path,
    approvals_dir: Path,
    tenants: tuple[str, ...],
    shard: str | None,
    journal_path: Path,
    out: Path | None,
    markdown: Path | None,
    notify: str | None,
    allow_guard: tuple[str, ...],
    interactive: bool | None,
    world: WorldOptions,
) -> None:
    """Apply: observe again, plan again, and execute only what policy allows or an approval names.

    Every operation is journaled before and after its call, so a run that was killed can be
    run again: it converges and creates nothing twice.
    """
    webhook = parse_webhook(notify) if notify else None
    raise_guards = parse_guard_override(allow_guard)
    state = chosen_tenants(terminal, desired, tenants, shard=shard)
    if interactive is None:
        interactive = terminal.is_tty and not os.environ.get("CI")

    with open_world(state.msp, sandbox=world.sandbox, state_dir=world.state) as opened:
        now = opened.now()
        approvals = load_approvals(approvals_dir, now)
        sink = SecretSink(Path(state.msp.spec.secret_sink.directory).expanduser())

        def confirm(plan: Plan, given: ApprovalSet) -> ApprovalSet:
            return _ask(terminal, plan, given, approvals_dir, now)

        async def run() -> ApplyResult:
            async with Connections(opened.settings) as connections:
                progress = TenantProgress(terminal, len(state.tenants), "observing")
                with progress, Journal.open(journal_path) as journal:
                    return await apply_estate(
                        state,
                        opened,
                        approvals=approvals,
                        journal=journal,
                        sink=sink,
                        connections=connections,
                        concurrency=world.concurrency,
                        raise_guards=raise_guards,
                        user=_user(),
                        confirm=confirm if interactive else None,
                        on_observed=lambda o: progress.advance(o.name),
                        on_outcome=lambda op, o: _report(terminal, op, o),
                    )

        result = asyncio.run(run())
    _finish(terminal, result, out, markdown, webhook, shard, opened)


def _ask(
    terminal: Terminal, plan: Plan, approvals: ApprovalSet, directory: Path, now: dt.datetime
) -> ApprovalSet:
    """Interactive approval: show the plan, ask once, record the local user as approver."""
    waiting = [
        op
        for op, held in gate(plan, approvals).items()
        if held is not None and held.hold is HoldReason.PENDING_APPROVAL
    ]
    if not waiting:
        return approvals
    terminal.out(render_terminal(plan, color=terminal.color))
    if not click.confirm(
        f"Apply {len(waiting)} operation(s) that need approval, as {_user()}?", default=False
    ):
        terminal.info("not approved: those operations stay held")
        return approvals
    from controller.policy.approvals import write_approval

    record = build_approval(
        plan,
        f"interactive:{plan.plan_id}",
        by=_user(),
        only=None,
        expires=dt.timedelta(hours=1),
        reason="approved interactively at the terminal",
        now=now,
    )
    path = write_approval(record, directory)
    terminal.info(f"approval recorded in {path}")
    return ApprovalSet(
        active=(*approvals.active, StoredApproval(path, record)), expired=approvals.expired
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _report(terminal: Terminal, op: Operation, outcome: Outcome) -> None:
    if outcome.status is OutcomeStatus.SUCCEEDED:
        terminal.detail(f"ok      {op.kind.value} {op.target}: {outcome.detail}")
    elif outcome.status is OutcomeStatus.FAILED:
        terminal.info(f"FAILED  {op.kind.value} {op.target}: {outcome.error}")


def _finish(
    terminal: Terminal,
    result: ApplyResult,
    out: Path | None,
    markdown: Path | None,
    webhook: object,
    shard: str | None,
    world: World,
) -> None:
    from controller.cli.plan import _write

    if out is not None:
        _write(out, render_apply_json(result))
        terminal.info(f"wrote {out}")
    if markdown is not None:
        _write(markdown, render_apply_markdown(result))
        terminal.info(f"wrote {markdown}")
    terminal.out(render_apply_terminal(result, color=terminal.color))
    for check in result.plan.failed_checks:
        terminal.error(check.line())
    for failure in policy_failures(result.plan):
        terminal.error(f"policy: {failure}")
    if webhook is not None:
        from controller.gitops import (
            TenantOutcome,
            notification_payload,
            send_notification,
            summarize,
        )

        outcomes = {
            t.name: TenantOutcome(
                applied=sum(
                    1
                    for op in t.operations
                    if result.outcomes.get(op.id, _NONE).status is OutcomeStatus.SUCCEEDED
                ),
                failed=sum(
                    1
                    for op in t.operations
                    if result.outcomes.get(op.id, _NONE).status is OutcomeStatus.FAILED
                ),
                held=sum(
                    1
                    for op in t.operations
                    if result.outcomes.get(op.id, _NONE).status is OutcomeStatus.HELD
                ),
            )
            for t in result.plan.tenants
        }
        url = webhook.url  # type: ignore[attr-defined]
        summary = summarize(result.plan, outcomes, mode="apply", shard=shard)
        warning = send_notification(url, notification_payload(url, summary))
        if warning:
            terminal.info(f"warning: {warning}")
    raise click.exceptions.Exit(result.exit_status)


_NONE = Outcome.skipped("not in this run")
