"""Distribution groups, shared mailboxes and mailbox permissions: the Exchange objects.

Graph cannot write these. They go through Exchange admin REST (``exchange``) when observe
reached Exchange directly, or through CIPP (``cipp``); the planner takes the route observe
used. What a route has no endpoint for (:data:`CIPP_CANNOT`) is planned as a manual step with
instructions, not as an approvable write that would fail at every apply. When Exchange could
not be read the objects are unknown and nothing is planned for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from controller.models import DistributionGroup, OperationKind, SharedMailbox
from controller.models.observed import (
    ObservedDistributionGroup,
    ObservedSharedMailbox,
    Unknown,
)
from controller.plan import normalise as norm
from controller.plan._draft import (
    SECTION_DISTRIBUTION_GROUPS,
    SECTION_SHARED_MAILBOXES,
    ObservedExchangeObject,
    TenantDraft,
)
from controller.plan.directory import verified_domain_problem
from controller.plan.inventory import (
    Compare,
    Create,
    Delete,
    Matched,
    Unobserved,
    compare_fields,
    inventory,
    match_declared,
)
from controller.plan.members import plan_dg_members, plan_permissions
from controller.plan.params import (
    DistributionGroupCreateParams,
    DistributionGroupDeleteParams,
    DistributionGroupUpdateParams,
    ExchangeObjectPatch,
    SharedMailboxCreateParams,
    SharedMailboxDeleteParams,
    SharedMailboxUpdateParams,
)
from controller.plan.types import Backend, FieldChange, ManualStep

ExchangeObject = DistributionGroup | SharedMailbox


def exchange_admin_center(domain: str, page: str) -> str:
    """A page of the Exchange admin center in the customer tenant: ``delegatedOrg`` names the
    customer's default domain, as partner tools open a customer's Exchange (CIPP's tenant
    links, CIPP-API Modules/CIPPCore/Public/Entrypoints/HTTP Functions/Invoke-ListTenants)."""
    return (
        "https://admin.exchange.microsoft.com/?landingpage=homepage&form=mac_sidebar"
        f"&delegatedOrg={domain}{page}"
    )


#: What CIPP has no endpoint tenantctl can use for (CippExchange refuses them too), with where
#: a person does it in the Exchange admin center instead: a manual step at plan time.
CIPP_CANNOT: dict[OperationKind, tuple[str, str]] = {
    OperationKind.DISTRIBUTION_GROUP_UPDATE: ("Change distribution group", "#/groups"),
    OperationKind.SHARED_MAILBOX_UPDATE: ("Change shared mailbox", "#/mailboxes"),
    OperationKind.SHARED_MAILBOX_DELETE: ("Delete shared mailbox", "#/mailboxes"),
}


def _route(
    d: TenantDraft, backend: Backend, kind: OperationKind, address: str, change: str
) -> tuple[Backend, ManualStep | None]:
    """The operation's backend, or a manual step when the route cannot do ``kind``."""
    if backend is not Backend.CIPP or kind not in CIPP_CANNOT:
        return backend, None
    title, page = CIPP_CANNOT[kind]
    where = d.desired.metadata.display_name or d.name
    step = ManualStep(
        title=f"{title} {address} in {where}",
        instructions=(
            f"CIPP has no endpoint tenantctl can use for this. In the Exchange admin center of "
            f"tenant {d.tenant_id}, {change}. Or give the app the Exchange Administrator role "
            "there (exchange: direct) and tenantctl does it."
        ),
        link=exchange_admin_center(d.desired.metadata.domains[0], page),
    )
    return Backend.MANUAL, step


def index_exchange(d: TenantDraft) -> None:
    """Observed Exchange objects by primary SMTP address (before any step resolves members).

    Distribution groups and shared mailboxes share one address space: an address held by two
    of them, of either kind, is ambiguous and nothing is planned for it.
    """
    known = [
        objects
        for objects in (d.observed.distribution_groups, d.observed.shared_mailboxes)
        if not isinstance(objects, Unknown)
    ]
    d.exchange_objects = inventory(chain(*known), _address)
    for address, objects in d.exchange_objects.by_key.items():
        d.address_owners.setdefault(address, f"{_what(objects[0])} {objects[0].name}")


def _address(obj: ExchangeObject | ObservedExchangeObject) -> str:
    return obj.primary_smtp_address


def _what(obj: ExchangeObject | ObservedExchangeObject) -> str:
    if isinstance(obj, DistributionGroup | ObservedDistributionGroup):
        return "distribution group"
    return "shared mailbox"


def exchange_backend(d: TenantDraft) -> Backend | Unknown:
    access = d.observed.exchange
    if isinstance(access, Unknown):
        return access
    if access.route == "direct":
        return Backend.EXCHANGE
    if access.route == "cipp":
        return Backend.CIPP
    return Unknown(
        "notManaged",
        f"no working Exchange route (Exchange: {access.state}); see the exchange badge",
    )


def plan_exchange(d: TenantDraft) -> None:
    spec = d.desired.spec
    if not spec.distribution_groups and not spec.shared_mailboxes:
        return
    backend = exchange_backend(d)
    sections: list[tuple[str, Sequence[ExchangeObject], Any]] = [
        ("distributionGroups", spec.distribution_groups, d.observed.distribution_groups),
        ("sharedMailboxes", spec.shared_mailboxes, d.observed.shared_mailboxes),
    ]
    # Objects first (creates register their address), then members and permissions, so a
    # mailbox created in this plan can be a distribution group's member.
    pending: list[tuple[ExchangeObject, ObservedExchangeObject | None, str | None]] = []
    for area, declared, observed in sections:
        # Matched against both kinds, which share one address space; unless this kind is unknown.
        objects = observed if isinstance(observed, Unknown) else d.exchange_objects
        for item in match_declared(declared, _address, objects):
            if isinstance(item.match, Unobserved):
                d.mark_unknown(area, item.match.unknown)
            elif isinstance(backend, Unknown):
                d.mark_unknown(area, backend)
            else:
                pending.extend(_plan_object(d, item, backend))
    if isinstance(backend, Backend):
        for obj, existing, created_by in pending:
            if isinstance(obj, DistributionGroup):
                assert existing is None or isinstance(existing, ObservedDistributionGroup)
                plan_dg_members(d, obj, existing, created_by, backend)
            else:
                assert existing is None or isinstance(existing, ObservedSharedMailbox)
                plan_permissions(d, obj, existing, created_by, backend)


@dataclass(frozen=True, slots=True)
class _Names:
    """What one kind of Exchange object is called in targets, and its operations' params."""

    prefix: str
    create: type[DistributionGroupCreateParams | SharedMailboxCreateParams]
    update: type[DistributionGroupUpdateParams | SharedMailboxUpdateParams]
    delete: type[DistributionGroupDeleteParams | SharedMailboxDeleteParams]
    section: int
    create_kind: OperationKind


_DISTRIBUTION_GROUP = _Names(
    "distributionGroup",
    DistributionGroupCreateParams,
    DistributionGroupUpdateParams,
    DistributionGroupDeleteParams,
    SECTION_DISTRIBUTION_GROUPS,
    OperationKind.DISTRIBUTION_GROUP_CREATE,
)
_SHARED_MAILBOX = _Names(
    "sharedMailbox",
    SharedMailboxCreateParams,
    SharedMailboxUpdateParams,
    SharedMailboxDeleteParams,
    SECTION_SHARED_MAILBOXES,
    OperationKind.SHARED_MAILBOX_CREATE,
)


def _names(obj: ExchangeObject) -> _Names:
    return _DISTRIBUTION_GROUP if isinstance(obj, DistributionGroup) else _SHARED_MAILBOX


def _plan_object(
    d: TenantDraft, item: Matched[ExchangeObject, ObservedExchangeObject], backend: Backend
) -> list[tuple[ExchangeObject, ObservedExchangeObject | None, str | None]]:
    """Create, update or delete one object; returns it for the member pass when present."""
    obj, address = item.declared, item.key
    names = _names(obj)
    subject = f"{names.prefix}:{address}"
    what = _what(obj)
    # Two Exchange objects hold the address (the match is Ambiguous), or two users do: an
    # address names one recipient.
    if d.is_ambiguous(address):
        d.problem(subject, f"{address} is used by more than one object in the tenant; fix by hand")
        d.held[address] = f"{address} matches more than one object"
        return []
    match item.step:
        case Delete(existing) if _what(existing) == what:
            params = names.delete(identity=existing.primary_smtp_address, id=existing.id)
            route, manual = _route(d, backend, params.kind, address, f"delete {address}")
            d.add_delete(
                params,
                subject,
                address,
                route,
                section=names.section,
                existing_id=existing.id,
                manual=manual,
            )
        case Compare(existing) if _what(existing) != what:
            d.problem(subject, f"{address} belongs to a {d.address_owners[address]}, not a {what}")
            d.held[address] = f"{address} is not a {what}"
        case Create():
            return _create_object(d, obj, address, backend)
        case Compare(existing):
            _update_object(d, obj, existing, names, backend)
            return [(obj, existing, None)]
    # Declared absent, and no object of its kind has the address: nothing to delete.
    return []


def _create_object(
    d: TenantDraft, obj: ExchangeObject, address: str, backend: Backend
) -> list[tuple[ExchangeObject, ObservedExchangeObject | None, str | None]]:
    names = _names(obj)
    subject = f"{names.prefix}:{address}"
    what = _what(obj)
    area = (
        f"{'distributionGroups' if names is _DISTRIBUTION_GROUP else 'sharedMailboxes'}/{address}"
    )
    if d.earlier_create_may_exist(names.create_kind, address, area):
        return []
    why = verified_domain_problem(d, address, subject)
    if why is None and address in d.address_owners:
        why = f"{address} is already the address of {d.address_owners[address]}"
        d.problem(subject, why + f"; a {what} cannot be created with it")
    if why is not None:
        d.held[address] = f"{address} is not created: {why}"
        return []
    assert obj.name is not None  # the model requires it of a present object
    params = names.create(
        name=obj.name,
        display_name=obj.display_name or obj.name,
        primary_smtp_address=obj.primary_smtp_address,
        alias=obj.alias,
    )
    body = params.model_dump(mode="json")
    op_id = d.add(
        params,
        subject,
        address,
        backend,
        section=names.section,
        reason=f"declared {what}, not in the tenant",
        desired=body,
        observed={"exists": False},
        changes=[FieldChange(field=k, after=v) for k, v in body.items()],
    )
    d.created[address] = op_id
    return [(obj, None, op_id)]


def _update_object(
    d: TenantDraft,
    obj: ExchangeObject,
    existing: ObservedExchangeObject,
    names: _Names,
    backend: Backend,
) -> None:
    address = norm.key(obj.primary_smtp_address)
    subject = f"{names.prefix}:{address}"
    # Exchange fills DisplayName from Name when none is given: compare against that default,
    # so an object created without a display name shows no drift.
    observed_display = existing.display_name or existing.name
    desired, observed, changes = compare_fields(
        existing.id,
        (
            ("name", obj.name, existing.name, norm.caseless),
            ("displayName", obj.display_name, observed_display, norm.text),
            ("alias", obj.alias, existing.alias, norm.caseless),
        ),
    )
    if changes:
        params = names.update(
            identity=existing.primary_smtp_address,
            id=existing.id,
            set=ExchangeObjectPatch.model_validate({c.field: c.after for c in changes}),
        )
        wanted = ", ".join(f'{c.field} "{c.after}"' for c in changes)
        route, manual = _route(d, backend, params.kind, address, f"set {address}'s {wanted}")
        d.add(
            params,
            subject,
            address,
            route,
            section=names.section,
            reason="the tenant differs from the tenant file",
            desired=desired,
            observed=observed,
            changes=changes,
            manual=manual,
        )
