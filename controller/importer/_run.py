"""``tenantctl import`` as a straight line per tenant: find it, observe everything, build the
file, validate it, write it whole.

The only I/O of the importer is here: reads through the connectors (the observer with
``read_all``) and the one file write per tenant, through a temporary file renamed into place,
after the text has passed the same checks as ``tenantctl validate``. A tenant that cannot be
imported is an outcome, not an exception: the other tenants go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from controller import event_loop
from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Connections
from controller.errors import Diagnostic, ServiceError, UsageError
from controller.files import PRIVATE, write_atomically
from controller.importer._build import build_tenant_import, skeleton_metadata
from controller.importer._check import check_observed
from controller.importer._comments import carry_comments
from controller.importer._profiles import omit_profile_objects
from controller.importer._types import ImportOptions, ImportRefused
from controller.importer._yaml import render_tenant_yaml
from controller.loader import check_tenant_text, profile_declarations, tenant_file_spec
from controller.models import DesiredState, TenantConfig, TenantSpec
from controller.models.naming import tenant_slug, unknown_tenants_message
from controller.models.observed import ObservedTenant
from controller.models.tenant import TenantMetadata
from controller.observe import observe_estate, read_partner_facts
from controller.observe.partner import customer_identity, gdap_customers
from controller.reconcile import Delivered, Run, Where, World, open_world

TENANTS_DIR = "tenants"

OutcomeStatus = Literal["written", "skipped", "refused"]


@dataclass(frozen=True)
class ImportTarget:
    """A tenant to import: an existing tenant file, or a GDAP customer not yet in desired/."""

    name: str
    tenant_id: str
    path: Path
    existing: TenantConfig | None = None
    display_name: str | None = None  # the GDAP customer's, for a new file's metadata


@dataclass(frozen=True)
class ImportOutcome:
    name: str
    path: Path
    status: OutcomeStatus
    message: str
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != "refused"


@dataclass(frozen=True)
class ImportRequest:
    names: tuple[str, ...] = ()
    all_tenants: bool = False
    force: bool = False
    options: ImportOptions = field(default_factory=ImportOptions)


def import_run(
    state: DesiredState,
    desired: Path,
    request: ImportRequest,
    where: Where,
    *,
    concurrency: int = TENANTS_AT_ONCE,
    on_observed: Callable[[ObservedTenant], None] | None = None,
) -> Run[list[ImportOutcome]]:
    """Open the world ``where`` points at and import the requested tenants into ``desired``.
    CIPP's secret is needed only when a named tenant file sends Exchange through CIPP."""
    named = {n.strip().lower() for n in request.names}
    files = [t for t in state.tenants if request.all_tenants or t.metadata.name in named]
    with open_world(state.msp, where, files) as world:
        outcomes = event_loop.run(
            import_tenants(
                state,
                desired,
                request,
                world,
                concurrency=concurrency,
                on_observed=on_observed,
            )
        )
    return Run(outcomes, Delivered(), world.notes)


async def import_tenants(
    state: DesiredState,
    desired: Path,
    request: ImportRequest,
    world: World,
    *,
    connections: Connections | None = None,
    concurrency: int = TENANTS_AT_ONCE,
    on_observed: Callable[[ObservedTenant], None] | None = None,
) -> list[ImportOutcome]:
    """Import the requested tenants into ``desired``; one outcome per tenant, by name."""
    own = connections is None
    conns = connections or Connections(world.settings)
    try:
        targets = await find_targets(state, desired, request, conns)
        outcomes: list[ImportOutcome] = []
        chosen: list[ImportTarget] = []
        for target in targets:
            if target.path.exists() and not request.force:
                outcomes.append(_exists(target, skip=request.all_tenants))
            else:
                chosen.append(target)
        observed = await _observe(
            state,
            targets=chosen,
            connections=conns,
            world=world,
            concurrency=concurrency,
            on_observed=on_observed,
        )
    finally:
        if own:
            await conns.aclose()
    imported_at = world.now()
    for target in chosen:
        outcomes.append(
            _import_one(state, target, observed[target.name], request.options, imported_at)
        )
    return sorted(outcomes, key=lambda o: o.name)


# -- which tenants ------------------------------------------------------------------------


async def find_targets(
    state: DesiredState, desired: Path, request: ImportRequest, connections: Connections
) -> list[ImportTarget]:
    """Tenant files by name or tenant id; GDAP customers (listed only when needed) by
    :func:`~controller.models.naming.tenant_slug` of their name or by tenant id."""
    if not request.names and not request.all_tenants:
        raise UsageError("name the tenants to import with --tenant NAME, or use --all")
    files = {t.metadata.name: _file_target(state, desired, t) for t in state.tenants}
    by_id = {t.tenant_id: t for t in files.values()}
    wanted = [n.strip() for n in request.names]
    found: dict[str, ImportTarget] = {}
    missing: list[str] = []
    for name in wanted:
        target = files.get(name.lower()) or by_id.get(name.lower())
        if target is None:
            missing.append(name)
        else:
            found[target.name] = target
    if missing or request.all_tenants:
        customers = await _gdap_customers(connections)
        slugs: set[str] = set(files)
        for customer in customers:
            tenant_id, display = customer_identity(customer)
            if not tenant_id or tenant_id in by_id:
                continue
            slug = tenant_slug(display or tenant_id, tenant_id=tenant_id)
            slugs.add(slug)
            named = [n for n in missing if n.lower() in (slug, tenant_id)]
            if not named and not request.all_tenants:
                continue
            if slug in files:
                raise UsageError(
                    f"GDAP customer {display} ({tenant_id}) would be named {slug}, which "
                    f"{files[slug].path} already uses for tenant {files[slug].tenant_id}; "
                    "rename one of them"
                )
            found[slug] = ImportTarget(
                name=slug,
                tenant_id=tenant_id,
                path=desired / TENANTS_DIR / f"{slug}.yaml",
                display_name=display or None,
            )
            missing = [n for n in missing if n not in named]
        if missing:
            raise UsageError(
                unknown_tenants_message(missing, slugs, "the tenant files or GDAP customers")
                + " (name a tenant file's metadata.name, a customer's name as a slug, or a "
                "tenant id)"
            )
    if request.all_tenants:
        found = {**files, **found}
    return [found[name] for name in sorted(found)]


def _file_target(state: DesiredState, desired: Path, tenant: TenantConfig) -> ImportTarget:
    source = state.sources.get(tenant.metadata.name)
    path = Path(source) if source else desired / TENANTS_DIR / f"{tenant.metadata.name}.yaml"
    return ImportTarget(tenant.metadata.name, tenant.metadata.tenant_id, path, existing=tenant)


async def _gdap_customers(connections: Connections) -> list[dict[str, Any]]:
    try:
        return await gdap_customers(connections)
    except ServiceError as error:
        raise UsageError(f"cannot list the GDAP customers: {error}") from error


# -- observe ------------------------------------------------------------------------------


async def _observe(
    state: DesiredState,
    *,
    targets: Sequence[ImportTarget],
    connections: Connections,
    world: World,
    concurrency: int,
    on_observed: Callable[[ObservedTenant], None] | None,
) -> dict[str, ObservedTenant]:
    if not targets:
        return {}
    msp = state.msp
    cipp = world.uses_cipp
    partner = await read_partner_facts(connections, cipp=cipp)
    return await observe_estate(
        [_observation_config(t) for t in targets],
        connections,
        app_id=msp.spec.partner.client_id,
        cipp=cipp,
        now=world.now(),
        concurrency=concurrency,
        on_done=on_observed,
        partner=partner,
        read_all=True,
    )


def _observation_config(target: ImportTarget) -> TenantConfig:
    """What the observer needs: the tenant, and the Exchange route to read through. A file
    that chose direct or cipp keeps its route; otherwise whichever works (auto)."""
    exchange = "auto"
    if target.existing is not None and target.existing.spec.exchange in ("direct", "cipp"):
        exchange = target.existing.spec.exchange
    # The observer reads the verified domains; it never uses metadata.domains, which a
    # customer not yet in desired/ does not have.
    domains = target.existing.metadata.domains if target.existing else ["unknown.invalid"]
    return TenantConfig(
        api_version="tenantctl/v1",
        kind="Tenant",
        metadata=TenantMetadata(name=target.name, tenant_id=target.tenant_id, domains=domains),
        spec=TenantSpec(exchange=exchange),
    )


# -- build, check, write -------------------------------------------------------------------


def _import_one(
    state: DesiredState,
    target: ImportTarget,
    observed: ObservedTenant,
    options: ImportOptions,
    imported_at: dt.datetime,
) -> ImportOutcome:
    try:
        if target.existing is not None:
            metadata = target.existing.metadata
            carried = _carried(state, target)
        else:
            check_observed(observed, options, tenant=target.name, new_tenant=True)
            metadata = skeleton_metadata(
                target.name, target.tenant_id, target.display_name, observed
            )
            carried = None
        imported = build_tenant_import(
            observed, metadata, options, imported_at=imported_at, carried=carried
        )
        if options.omit_profile_objects and target.existing is not None:
            imported = omit_profile_objects(imported, profile_declarations(state, target.name))
        text = render_tenant_yaml(imported)
        if target.existing is not None:
            text = carry_comments(_read(target.path), text)
        check_tenant_file(state, target, text)
    except ImportRefused as refused:
        return ImportOutcome(target.name, target.path, "refused", str(refused))
    write_whole(target.path, text)
    notes = imported.notes
    if target.existing is not None and target.existing.spec.actions:
        ids = ", ".join(a.id for a in target.existing.spec.actions)
        notes += (f"one-shot actions not kept (they are not observed state): {ids}",)
    return ImportOutcome(
        target.name, target.path, "written", f"wrote {target.path} ({imported.counts()})", notes
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # no comments to carry


def _carried(state: DesiredState, target: ImportTarget) -> TenantSpec:
    """What a replaced file keeps (profiles, checks, policy, existingPrincipals, the additive
    switches of its objects): as the file itself declares them, not with its profiles applied,
    so the profiles go on applying."""
    assert target.existing is not None
    if target.name in state.applied:
        own = tenant_file_spec(
            target.path,
            (
                "profiles",
                "checks",
                "policy",
                "existingPrincipals",
                "groups",
                "distributionGroups",
                "sharedMailboxes",
            ),
        )
        if own is not None:
            return own
    return target.existing.spec


def check_tenant_file(state: DesiredState, target: ImportTarget, text: str) -> None:
    """The checks ``tenantctl validate`` makes on one tenant file (with the estate's profiles
    applied), on the text before it is written, plus uniqueness against the other tenant
    files. Raises ImportRefused."""
    tenant, problems = check_tenant_text(text, str(target.path), state)
    if tenant is not None:
        problems += _clashes(state, target, tenant)
    errors = [str(p) for p in problems if p.severity == "error"]
    if errors:
        raise ImportRefused(target.name, ["the file would not validate", *errors])


def _clashes(state: DesiredState, target: ImportTarget, tenant: TenantConfig) -> list[Diagnostic]:
    problems = []
    mine = {d.lower() for d in tenant.metadata.domains}
    for other in state.tenants:
        if other.metadata.name == target.name:
            continue
        where = state.sources.get(other.metadata.name, other.metadata.name)
        if other.metadata.tenant_id == tenant.metadata.tenant_id:
            problems.append(
                Diagnostic(str(target.path), 1, 1, "metadata.tenantId", f"also in {where}")
            )
        for domain in sorted(mine & {d.lower() for d in other.metadata.domains}):
            problems.append(
                Diagnostic(
                    str(target.path), 1, 1, "metadata.domains", f"{domain} is also in {where}"
                )
            )
    return problems


def write_whole(path: Path, text: str) -> None:
    """A tenant file, whole or not at all, readable only by its owner (it lists the tenant's
    users and who may read which mailbox)."""
    write_atomically(path, text, mode=PRIVATE)


def _exists(target: ImportTarget, *, skip: bool) -> ImportOutcome:
    if skip:
        return ImportOutcome(
            target.name, target.path, "skipped", f"{target.path} exists (--force replaces it)"
        )
    return ImportOutcome(
        target.name,
        target.path,
        "refused",
        f"{target.name}: {target.path} exists; not overwritten (--force replaces its spec, "
        "keeping metadata, checks, policy, existingPrincipals and additive lists)",
    )
