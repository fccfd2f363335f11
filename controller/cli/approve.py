"""``tenantctl approve``: record that a named person approved a plan's operations.

Needs only the plan file: no credentials, no network. The record goes under ``approvals/``
and is reviewed and merged like any other change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from controller.cli.options import OutputFormat, desired_option, output_options
from controller.cli.terminal import Terminal
from controller.plan.planner import plan_id_of
from controller.policy import create_approval, parse_duration, signatures
from controller.policy.approvals import operator_now
from controller.policy.signatures import load_signing_key
from controller.render.documents import ApproveReport
from controller.state_paths import StatePaths

EPILOG = """\b
Examples:
  tenantctl approve plan.json --by alice
  tenantctl approve plan.json --by alice --only 3b42808021ca --expires 12h --reason 'ticket 4711'
  tenantctl approve plan.json --by alice --sign-with ~/.ssh/id_ed25519
  git add "$(tenantctl approve plan.json --by alice -q)"     -q prints only the record's path

\b
A plan file of an older format (format version 1, snake_case keys) is refused: plan again.
"""


def _now() -> dt.datetime:
    return operator_now()


@click.command(epilog=EPILOG)
@click.argument("plan_file", metavar="PLAN.json", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--by", "by", required=True, help="Who approves (a name the team recognises).")
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="FINGERPRINT",
    help="Approve only this fingerprint (or a unique prefix of 8+ characters); repeatable.",
)
@click.option(
    "--expires",
    "expires",
    default="7d",
    show_default=True,
    help="How long the approval holds: 7d, 12h or 30m (at most 90d).",
)
@click.option("--reason", "reason", default=None, help="Why (a ticket, a change request).")
@click.option(
    "--sign-with",
    "sign_with",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="KEY",
    help="Sign the record with this OpenSSH Ed25519 private key (its public key listed under "
    "spec.policy.approvers in msp.yaml); passphrase from TENANTCTL_SIGNING_KEY_PASSPHRASE.",
)
@click.option(
    "--approvals",
    "approvals",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory the record is written to  "
    "[default: approvals/ in the desired-state repository].",
)
@desired_option
@output_options
@click.pass_obj
def approve(
    terminal: Terminal,
    *,
    plan_file: Path,
    by: str,
    only: tuple[str, ...],
    expires: str,
    reason: str | None,
    sign_with: Path | None,
    approvals: Path | None,
    desired: Path,
    output: OutputFormat,
) -> None:
    """Approve the operations of a saved plan by their fingerprints.

    Without --only, every operation that needs approval is approved; operations that policy
    allows or denies, and manual steps, are not. Apply executes an approved operation only while
    its fingerprint is unchanged, i.e. the tenant still looks as it did when the plan was made.
    """
    sign = None
    if sign_with is not None:
        key = load_signing_key(sign_with)

        def sign(content: bytes) -> str:
            return signatures.sign(content, key)

    stored = create_approval(
        plan_file,
        by=by,
        only=list(only) or None,
        expires=parse_duration(expires),
        reason=reason,
        now=_now(),
        directory=approvals or StatePaths.of(desired).approvals,
        verify_plan_id=plan_id_of,
        sign=sign,
    )
    record = stored.record
    if output != "table":
        terminal.document(ApproveReport(path=str(stored.path), approval=record), output)
        return
    if terminal.quiet:
        terminal.out(str(stored.path))
        return
    count = len(record.operations)
    already = "already " if stored.existing else ""
    terminal.out(
        f"{already}approved {count} operation{'s' if count != 1 else ''} of plan "
        f"{record.plan_id[:8]} by {record.approved_by}, until "
        f"{record.expires_at:%Y-%m-%dT%H:%M:%SZ}"
    )
    rows = [(a.tenant, a.kind, a.target, a.fingerprint) for a in record.operations]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        terminal.out("  " + "  ".join([*cells, row[3]]))
    terminal.out(f"record: {stored.path}")
    if sign_with is not None:
        terminal.out(f"signed by {signatures.public_key_line(key)}")
    if stored.existing:
        terminal.info("nothing written: that record, made earlier today, approves all of it")
    else:
        terminal.info("commit the record and open a pull request; apply uses it once merged")
