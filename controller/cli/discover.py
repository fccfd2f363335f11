"""``tenantctl discover``: GDAP customers not yet in ``desired/``, and skeleton files for them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import click

from controller.cli.options import desired_option, format_option
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.connectors import Connections
from controller.discover import (
    DiscoveredCustomer,
    assign_names,
    default_domain_of_customer_record,
    domains_of_organization,
    skeleton_tenant_yaml,
    undeclared_customers,
)
from controller.errors import TenantctlError
from controller.files import PRIVATE, write_atomically
from controller.loader import TENANTS_DIR, load_desired
from controller.models import DesiredState
from controller.runtime import open_world

EPILOG = """\b
Examples:
  tenantctl discover --sandbox                 the sandbox has one undeclared customer
  tenantctl discover --write                   create desired/tenants/<name>.yaml for each
  tenantctl discover --format json

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
@format_option
@world_options
@click.pass_obj
def discover(
    terminal: Terminal,
    desired: Path,
    write: bool,
    output_format: str,
    world: WorldOptions,
) -> None:
    """Discover: GDAP customers of the partner tenant that no tenant file declares yet.

    Lists each with its name, tenant id, default domain, GDAP status and end, and the roles
    the relationship grants. Reads the partner tenant's delegatedAdminCustomers and
    delegatedAdminRelationships; domains come from the customer's organization when the app
    can read it there, else from the Partner Center customer record.
    """
    state = load_desired(desired)
    with open_world(state.msp, sandbox=world.sandbox, state_dir=world.state) as opened:
        now = opened.now()

        async def run() -> list[DiscoveredCustomer]:
            async with Connections(opened.settings) as connections:
                return await read_undeclared(connections, state, now, world.concurrency)

        found = asyncio.run(run())
    found = assign_names(found, {t.metadata.name for t in state.tenants})

    if output_format == "json":
        terminal.out(json.dumps([c.as_json() for c in found], indent=2))
    else:
        _print(terminal, found, desired, write)
    if write:
        failures = write_skeletons(terminal, found, desired / TENANTS_DIR)
        if failures:
            raise click.exceptions.Exit(1)


async def read_undeclared(
    connections: Connections, state: DesiredState, now: dt.datetime, concurrency: int = 16
) -> list[DiscoveredCustomer]:
    """The reads: GDAP customers and relationships in the partner tenant, then the domains of
    each undeclared customer (its organization, else Partner Center's customer record)."""
    partner = connections.partner_graph()
    customers, relationships = await asyncio.gather(
        partner.gdap_customers(), partner.gdap_relationships()
    )
    declared = {t.metadata.tenant_id for t in state.tenants}
    found = undeclared_customers(customers, relationships, declared, now)
    bound = asyncio.Semaphore(concurrency)

    async def organization_domains(customer: DiscoveredCustomer) -> DiscoveredCustomer:
        async with bound:
            try:
                org = await connections.graph(customer.tenant_id).organization()
            except TenantctlError:  # no consent yet, or no right to read it: ask Partner Center
                return customer
        domains = domains_of_organization(org)
        return (
            replace(customer, domains=domains, domains_from="organization") if domains else customer
        )

    found = list(await asyncio.gather(*(organization_domains(c) for c in found)))
    if any(not c.domains for c in found):
        try:
            records = await connections.partner_center().customers()
        except TenantctlError:
            records = []  # the domain stays unknown; the listing says so
        by_tenant = {
            str((r.get("companyProfile") or {}).get("tenantId") or r.get("id") or "").lower(): r
            for r in records
        }
        for i, customer in enumerate(found):
            record = by_tenant.get(customer.tenant_id)
            domain = default_domain_of_customer_record(record) if record else None
            if not customer.domains and domain:
                found[i] = replace(customer, domains=(domain,), domains_from="partnerCenter")
    return found


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


def write_skeletons(terminal: Terminal, found: list[DiscoveredCustomer], directory: Path) -> int:
    """Write one file per customer, never over an existing one. Returns how many failed."""
    failures = 0
    for customer in found:
        path = directory / f"{customer.name}.yaml"
        if not customer.domains:
            terminal.error(
                f"{customer.display_name}: no domain known (the app cannot read the tenant and "
                f"Partner Center has no record of it); {path} not written"
            )
            failures += 1
            continue
        try:
            write_atomically(path, skeleton_tenant_yaml(customer), mode=PRIVATE, overwrite=False)
        except FileExistsError:
            terminal.error(f"{path} exists; not overwritten (rename it or the customer's file)")
            failures += 1
            continue
        terminal.info(f"wrote {path}")
    return failures
