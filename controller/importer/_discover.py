"""``tenantctl discover``: the GDAP customers that ``desired/`` does not declare yet
(:func:`discover_run`, which reads through :func:`controller.observe.partner.read_undeclared`)
and, with ``--write``, a skeleton tenant file for each.

:func:`assign_names` and :func:`skeleton_tenant_yaml` are pure; :func:`write_skeletons` writes
each file whole and never over an existing one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from controller import event_loop
from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Connections
from controller.files import PRIVATE, write_atomically
from controller.importer._run import ImportOutcome
from controller.importer._yaml import SCHEMA_MODELINE
from controller.models import DesiredState
from controller.models.naming import tenant_slug
from controller.observe.partner import DiscoveredCustomer, read_undeclared
from controller.reconcile import Where, open_world
from controller.render.yaml_text import comment_text, scalar


def discover_run(
    state: DesiredState, where: Where, *, concurrency: int = TENANTS_AT_ONCE
) -> list[DiscoveredCustomer]:
    """The GDAP customers no tenant file of ``state`` declares, each named for its file."""
    # Discover reads the partner tenant and the customers' organization: never CIPP.
    with open_world(state.msp, where, tenants=()) as world:
        now = world.now()

        async def read() -> list[DiscoveredCustomer]:
            async with Connections(world.settings) as connections:
                return await read_undeclared(connections, state, now, concurrency)

        found = event_loop.run(read())
    return assign_names(found, {t.metadata.name for t in state.tenants})


def assign_names(
    customers: Iterable[DiscoveredCustomer], taken: Collection[str]
) -> list[DiscoveredCustomer]:
    """Give each customer a slug, unique against ``taken`` (the declared names) and each
    other, in the order given."""
    used = set(taken)
    named = []
    for customer in customers:
        name = tenant_slug(customer.display_name, used, customer.tenant_id)
        used.add(name)
        named.append(replace(customer, name=name))
    return named


# -- the skeleton file ------------------------------------------------------------------------


def skeleton_tenant_yaml(customer: DiscoveredCustomer) -> str:
    """A tenant file that validates as written and manages nothing yet but consent."""
    if customer.name is None or not customer.domains:
        raise ValueError("a skeleton needs a name and at least one domain")
    where = {
        "organization": ["# Domains: the tenant's verified domains, the default one first."],
        "partnerCenter": [
            "# Domains: from the Partner Center customer record, because the app cannot read",
            "# the tenant yet; add its other verified domains.",
        ],
        "unknown": [],
    }[customer.domains_from]
    # Written with the importer's scalar(): the display name is the customer's to choose,
    # and PyYAML leaves NEL and U+2028 raw inside quotes, where libyaml reads line breaks.
    body = "\n".join(
        [
            "apiVersion: tenantctl/v1",
            "kind: Tenant",
            "metadata:",
            f"  name: {scalar(customer.name)}",
            f"  displayName: {scalar(customer.display_name)}",
            f"  tenantId: {scalar(customer.tenant_id)}",
            "  domains:",
            *(f"  - {scalar(domain)}" for domain in customer.domains),
            "spec:",
            "  consent: granted",
            "  exchange: unmanaged",
        ]
    )
    header = [
        SCHEMA_MODELINE,
        f"# {comment_text(customer.display_name)}: a GDAP customer found by "
        "`tenantctl discover --write`.",
        *where,
        "# To fill in:",
        "#   spec.exchange: direct | cipp | auto | none, once Exchange access is set up",
        "#   spec.users, groups, distributionGroups, sharedMailboxes: what tenantctl manages",
        "#     (anything left out is left alone); spec.checks: mfa and riskyUsers findings.",
        "# consent: granted makes the next plan show the admin-consent step for this tenant.",
    ]
    return "\n".join(header) + "\n" + body + "\n"


def write_skeletons(found: Sequence[DiscoveredCustomer], directory: Path) -> list[ImportOutcome]:
    """Write one file per named customer under ``directory``, never over an existing one (not
    even one that appeared since it was looked for): one outcome per customer."""
    outcomes = []
    for customer in found:
        name = customer.name or customer.tenant_id
        path = directory / f"{name}.yaml"
        if not customer.domains:
            message = (
                f"{customer.display_name}: no domain known (the app cannot read the tenant and "
                f"Partner Center has no record of it); {path} not written"
            )
            outcomes.append(ImportOutcome(name, path, "refused", message))
            continue
        try:
            write_atomically(path, skeleton_tenant_yaml(customer), mode=PRIVATE, overwrite=False)
        except FileExistsError:
            message = f"{path} exists; not overwritten (rename it or the customer's file)"
            outcomes.append(ImportOutcome(name, path, "refused", message))
            continue
        outcomes.append(ImportOutcome(name, path, "written", f"wrote {path}"))
    return outcomes
