"""``tenantctl discover``: GDAP customers not yet in ``desired/``, and skeleton files for them."""

from __future__ import annotations

from pathlib import Path

import click

from controller.cli.options import OutputFormat, desired_option, output_options
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.importer import discover_run, write_skeletons
from controller.loader import TENANTS_DIR, load_desired
from controller.observe.partner import DiscoveredCustomer
from controller.render.documents import DiscoverReport

EPILOG = """\b
Examples:
  tenantctl discover --sandbox                 the sandbox has one undeclared customer
  tenantctl discover --write                   create desired/tenants/<name>.yaml for each
  tenantctl discover -o json
  tenantctl discover -q | xargs -n1 tenantctl import --tenant     each one's name, then import

\b
Customers are matched with desired/ by tenant id. --write never overwrites a file; each
written file validates as is (tenantctl validate) and manages nothing until you fill it in.
Exit status: 0 when read (and written), 1 on error or when a file could not be written.
"""


@click.command(epilog=EPILOG)
@desired_option
@click.option(
    "--write",
    is_flag=True,
    help="Write a skeleton tenant file per customer under DESIRED/tenants/ (never overwrites).",
)
@output_options
@world_options
@click.pass_obj
def discover(
    terminal: Terminal,
    desired: Path,
    write: bool,
    output: OutputFormat,
    world: WorldOptions,
) -> None:
    """Discover: GDAP customers of the partner tenant that no tenant file declares yet.

    Lists each with its name, tenant id, default domain, GDAP status and end, and the roles
    the relationship grants (Partner Center calls this "Sync tenants"; CIPP's tenant list
    is the same list). With -q: each customer's name, for `tenantctl import --tenant`.
    Reads the partner tenant's delegatedAdminCustomers and
    delegatedAdminRelationships; domains come from the customer's organization when the app
    can read it there, else from the Partner Center customer record.
    """
    state = load_desired(desired)
    found = discover_run(state, world.where, concurrency=world.concurrency)

    if output != "table":
        terminal.document(DiscoverReport.model_validate([c.as_json() for c in found]), output)
    elif terminal.quiet:
        for customer in found:
            terminal.out(customer.name or customer.tenant_id)
    else:
        _print(terminal, found, desired, write)
    if write:
        outcomes = write_skeletons(found, desired / TENANTS_DIR)
        for outcome in outcomes:
            if outcome.ok:
                terminal.info(outcome.message)
            else:
                terminal.error(outcome.message)
        if not all(o.ok for o in outcomes):
            raise click.exceptions.Exit(1)


def _print(terminal: Terminal, found: list[DiscoveredCustomer], desired: Path, write: bool) -> None:
    if not found:
        terminal.info(f"every GDAP customer is declared in {desired}")
        return
    for customer in found:
        terminal.out(f"{customer.display_name}  {customer.tenant_id}")
        source = {
            "organization": "",
            "partnerCenter": "  (from Partner Center; the app cannot read the tenant yet)",
            "unknown": "",
        }[customer.domains_from]
        terminal.out(f"  default domain: {customer.default_domain or 'unknown'}{source}")
        gdap = customer.gdap_status
        if customer.gdap_ends is not None:
            gdap += f", ends {customer.gdap_ends.date().isoformat()}"
        terminal.out(f"  GDAP:           {gdap}")
        terminal.out(f"  roles:          {', '.join(customer.roles) or '(none)'}")
        terminal.out(f"  file:           {desired / TENANTS_DIR / f'{customer.name}.yaml'}")
    terminal.out()
    hint = "" if write else "; `tenantctl discover --write` creates a skeleton file for each"
    terminal.out(f"{len(found)} GDAP customer(s) not declared in {desired}{hint}.")
