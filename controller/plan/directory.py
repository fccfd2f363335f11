"""Users, licences and Entra groups: the objects that go through Microsoft Graph.

Pure: reads the draft's desired and observed values, adds operations to it.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from controller.models import Group, OperationKind, User, address_domain
from controller.models.observed import ObservedGroup, ObservedUser, Sku, Unknown
from controller.plan import normalise as norm
from controller.plan._draft import (
    SECTION_GROUPS,
    SECTION_USERS,
    TenantDraft,
)
from controller.plan.inventory import (
    Ambiguous,
    Compare,
    Create,
    Delete,
    ManagedField,
    Unobserved,
    compare_fields,
    inventory,
    match_declared,
)
from controller.plan.members import plan_group_members
from controller.plan.params import (
    GroupCreateParams,
    GroupDeleteParams,
    GroupPatch,
    GroupUpdateParams,
    LicenceRef,
    NewGroup,
    NewUser,
    PasswordProfile,
    UserAssignLicensesParams,
    UserCreateParams,
    UserDeleteParams,
    UserDisableParams,
    UserEnableParams,
    UserPatch,
    UserRemoveLicensesParams,
    UserUpdateParams,
)
from controller.plan.types import Backend, FieldChange

# Managed user attributes: (Graph name, model attribute, comparison).
_USER_FIELDS: tuple[tuple[str, str, Callable[[str | None], str | None]], ...] = (
    ("displayName", "display_name", norm.text),
    ("givenName", "given_name", norm.text),
    ("surname", "surname", norm.text),
    ("jobTitle", "job_title", norm.text),
    ("department", "department", norm.text),
    ("usageLocation", "usage_location", norm.country),
    ("mailNickname", "mail_nickname", norm.caseless),
)
# The same table by column, for _update_user, which runs for every user found: one
# attrgetter call reads all of a user's values, and zip pairs them with their names and
# comparisons. A generator of getattr per field took 0.18-0.21 ms for an in-sync tenant of
# 50 users; this takes 0.10 ms (bench/client_bench.py's estate).
_USER_APIS = tuple(api for api, _, _ in _USER_FIELDS)
_USER_COMPARISONS = tuple(compare for _, _, compare in _USER_FIELDS)
_user_values = operator.attrgetter(*(attr for _, attr, _ in _USER_FIELDS))
_NICKNAME_DROP = set(' @()[]";:<>,\\')


def verified_domain_problem(d: TenantDraft, address: str, subject: str) -> str | None:
    """Why an object with ``address`` cannot be created, or None when the domain is fine.

    A create whose domain is not verified would fail at apply (Graph answers 400): better a
    problem now. Unknown domains hold the create.
    """
    domains = d.observed.verified_domains
    if isinstance(domains, Unknown):
        d.mark_unknown("domains", domains)
        return f"not created while the tenant's verified domains are unknown ({domains.reason})"
    domain = address_domain(address)
    if domain not in {x.lower() for x in domains}:
        shown = ", ".join(sorted(domains)) or "none"
        message = f"domain {domain} is not verified in the tenant (verified: {shown})"
        d.problem(subject, message + "; verify it in the tenant first")
        return message
    return None


# --- users ----------------------------------------------------------------------------------


def _needs_users(d: TenantDraft) -> bool:
    spec = d.desired.spec
    return bool(
        spec.users
        or spec.actions
        or any(g.members for g in spec.groups)
        or any(g.members for g in spec.distribution_groups)
        or any(m.full_access or m.send_as or m.send_on_behalf for m in spec.shared_mailboxes)
    )


def plan_users(d: TenantDraft) -> None:
    observed = d.observed.users
    if isinstance(observed, Unknown):
        if _needs_users(d):
            d.mark_unknown("users", observed)
        return
    d.users = users = inventory(observed, _upn)
    for u in observed:
        owner = f"user {u.user_principal_name}"
        d.address_owners.setdefault(u.key, owner)
        if u.mail:
            d.address_owners.setdefault(norm.key(u.mail), owner)
    skus = d.observed.skus
    licences = skus if isinstance(skus, Unknown) else _TenantLicences.of(skus)

    for item in match_declared(d.desired.spec.users, _upn, users):
        user, upn = item.declared, item.key
        subject = f"user:{upn}"
        match item.step:
            case Ambiguous(candidates):
                ids = ", ".join(sorted(u.id for u in candidates))
                d.problem(
                    subject, f"matches {len(candidates)} users in the tenant ({ids}); fix by hand"
                )
                d.held[upn] = f"{upn} matches more than one user"
            case Delete(existing):
                d.add_delete(
                    UserDeleteParams(
                        user_id=existing.id, user_principal_name=existing.user_principal_name
                    ),
                    subject,
                    upn,
                    Backend.GRAPH,
                    section=SECTION_USERS,
                    existing_id=existing.id,
                    note="soft delete, restorable for 30 days",
                )
            case Create():
                create = _create_user(d, user, upn, subject)
                if create is not None:
                    # The user as the create makes it (see _plan_licences).
                    location = user.usage_location or d.ctx.default_usage_location
                    _plan_licences(d, licences, user, None, location, depends=create)
            case Compare(existing):
                depends = _update_user(d, user, existing, upn, subject)
                location = existing.usage_location
                if depends is not None:  # the update sets it before the licences
                    location = user.usage_location or d.ctx.default_usage_location
                _plan_licences(d, licences, user, existing, location, depends=depends)

    if not isinstance(licences, Unknown):
        _licence_shortage(d, licences)


@dataclass(frozen=True, slots=True)
class _TenantLicences:
    """One tenant's subscribed SKUs, each declared licence list against them, and the
    assignments planned so far (``demand``: skuPartNumber -> the users it is added to).

    Made once per tenant and passed to each user's licences, because most users of a tenant
    declare one of a few lists: each distinct list is normalised and looked up once
    (:meth:`wanted`). Built per user, the lookups by normalised skuPartNumber and by
    lowercase skuId and each user's list took 0.19 ms for an in-sync tenant of 50 users; once
    per tenant, 0.05 ms (bench/client_bench.py's estate).
    """

    skus: Sequence[Sku]
    by_part: dict[str, Sku]
    by_id: dict[str, Sku]
    demand: defaultdict[str, list[str]]
    _wanted: dict[tuple[str, ...], _Wanted]

    @classmethod
    def of(cls, skus: Sequence[Sku]) -> _TenantLicences:
        return cls(
            skus,
            by_part={norm.key(s.sku_part_number): s for s in skus},
            by_id={s.sku_id.lower(): s for s in skus},
            demand=defaultdict(list),
            _wanted={},
        )

    def wanted(self, licences: Sequence[str]) -> _Wanted:
        """A declared licence list against the tenant's SKUs."""
        declared = tuple(licences)
        found = self._wanted.get(declared)
        if found is None:
            parts = tuple(norm.keys(declared))
            missing = tuple(p for p in parts if p not in self.by_part)
            by_id = (
                {} if missing else {self.by_part[p].sku_id.lower(): self.by_part[p] for p in parts}
            )
            found = self._wanted[declared] = _Wanted(parts, missing, MappingProxyType(by_id))
        return found


@dataclass(frozen=True, slots=True)
class _Wanted:
    """A declared licence list: its skuPartNumbers (normalised, sorted, once each), those the
    tenant does not subscribe to, and, when none is missing, the SKUs by lowercase skuId."""

    parts: tuple[str, ...]
    missing: tuple[str, ...]
    by_id: Mapping[str, Sku]


def _upn(user: User | ObservedUser) -> str:
    return user.user_principal_name


def _create_user(d: TenantDraft, user: User, upn: str, subject: str) -> str | None:
    if d.earlier_create_may_exist(OperationKind.USER_CREATE, upn, f"users/{upn}"):
        return None
    why = verified_domain_problem(d, upn, subject)
    if why is None:
        owner = d.address_owners.get(upn)
        if owner:
            why = f"{upn} is already the address of {owner}"
            d.problem(subject, why + "; a user cannot be created with it")
    if why is not None:
        d.held[upn] = f"{upn} is not created: {why}"
        return None
    local = user.user_principal_name.rpartition("@")[0]
    body: dict[str, Any] = {
        "accountEnabled": True if user.account_enabled is None else user.account_enabled,
        "displayName": user.display_name,
        "mailNickname": user.mail_nickname or "".join(c for c in local if c not in _NICKNAME_DROP),
        "userPrincipalName": user.user_principal_name,
    }
    for api, attr, _ in _USER_FIELDS:
        value = getattr(user, attr)
        if value is not None and api not in body:
            body[api] = value
    if "usageLocation" not in body and d.ctx.default_usage_location:
        body["usageLocation"] = d.ctx.default_usage_location
    changes = [FieldChange(field=k, before=None, after=v) for k, v in sorted(body.items())]
    if d.ctx.key_vault is not None:  # say where the initial password will be
        where = d.ctx.generated_password(d.name, upn, "initial-password")
        changes.append(FieldChange(field="password", before=None, after=where))
    new_user = NewUser.model_validate(
        {
            **body,
            "passwordProfile": PasswordProfile(
                force_change_password_next_sign_in=d.ctx.force_change_password
            ),
        }
    )
    op_id = d.add(
        UserCreateParams(body=new_user),
        subject,
        upn,
        Backend.GRAPH,
        section=SECTION_USERS,
        reason="declared in the tenant file, not in the tenant",
        desired=new_user.model_dump(mode="json"),
        observed={"exists": False},
        changes=changes,
    )
    d.created[upn] = op_id
    return op_id


def _update_user(
    d: TenantDraft, user: User, existing: ObservedUser, upn: str, subject: str
) -> str | None:
    """Plan update and enable/disable; returns the id of an update that sets usageLocation."""
    fields: Iterable[ManagedField] = zip(
        _USER_APIS, _user_values(user), _user_values(existing), _USER_COMPARISONS, strict=True
    )
    if existing.mail_nickname is None:  # a nickname not read is not compared
        fields = (field for field in fields if field[0] != "mailNickname")
    desired, observed, changes = compare_fields(existing.id, fields)
    reason = "the tenant differs from the tenant file"
    if (
        user.usage_location is None
        and existing.usage_location is None
        and user.licenses
        and d.ctx.default_usage_location
    ):
        # Graph refuses licences without a usage location (API-NOTES: assignLicense).
        want = d.ctx.default_usage_location
        desired["usageLocation"], observed["usageLocation"] = want, None
        changes.append(FieldChange(field="usageLocation", before=None, after=want))
        reason += "; usageLocation from msp.yaml defaults, needed before licences"
    update_id = None
    if changes:
        update_id = d.add(
            UserUpdateParams(
                user_id=existing.id,
                body=UserPatch.model_validate({c.field: c.after for c in changes}),
            ),
            subject,
            upn,
            Backend.GRAPH,
            section=SECTION_USERS,
            reason=reason,
            desired=desired,
            observed=observed,
            changes=changes,
        )
    if user.account_enabled is not None and existing.account_enabled != user.account_enabled:
        sign_in = UserEnableParams if user.account_enabled else UserDisableParams
        d.add(
            sign_in(user_id=existing.id, body=UserPatch(account_enabled=user.account_enabled)),
            subject,
            upn,
            Backend.GRAPH,
            section=SECTION_USERS,
            reason=f"declared accountEnabled: {str(user.account_enabled).lower()}",
            desired={"accountEnabled": user.account_enabled},
            observed={"id": existing.id, "accountEnabled": existing.account_enabled},
            changes=[
                FieldChange(
                    field="accountEnabled",
                    before=existing.account_enabled,
                    after=user.account_enabled,
                )
            ],
        )
    if update_id and any(c.field == "usageLocation" for c in changes):
        return update_id
    return None


def _plan_licences(
    d: TenantDraft,
    licences: _TenantLicences | Unknown,
    user: User,
    existing: ObservedUser | None,
    usage_location: str | None,
    *,
    depends: str | None,
) -> None:
    """Licences to add and remove. An assignment may depend on the user's create or on the
    update that sets its usage location: its fingerprint covers the user as those will leave it
    (``usage_location``, the licences held, by UPN, never the id a create cannot know), so
    the re-plan after they ran computes the same fingerprint and the approval still holds;
    a usage location changed by anyone else changes it (stale)."""
    if user.licenses is None:
        return
    if isinstance(licences, Unknown):
        d.mark_unknown("licences", licences)
        return
    wanted = licences.wanted(user.licenses)
    want = wanted.by_id
    have = {i.lower() for i in existing.license_sku_ids} if existing else set()
    if not wanted.missing and have == want.keys():
        return  # the licences held are those declared (most users of most runs)
    upn = norm.key(user.user_principal_name)
    subject = f"user:{upn}"
    if wanted.missing:
        subscribed = ", ".join(sorted(s.sku_part_number for s in licences.skus)) or "none"
        shown = ", ".join(p.upper() for p in wanted.missing)
        d.problem(
            subject,
            f"licence {shown} is not subscribed in the tenant (subscribed: {subscribed}); "
            "this user's licences are not planned",
        )
        return
    adds = sorted(i for i in want if i not in have)
    removes = sorted(i for i in have if i not in want)
    user_id = existing.id if existing else None
    observed = {"id": user_id, "assigned": sorted(have)}
    declared = {"licenses": [licences.by_part[p].sku_part_number for p in wanted.parts]}

    def part(sku_id: str) -> str:
        sku = licences.by_id.get(sku_id)
        return sku.sku_part_number if sku else sku_id

    if adds:
        added: Sequence[Sku] = [want[i] for i in adds]
        for sku in added:
            licences.demand[sku.sku_part_number].append(upn)
        d.add(
            UserAssignLicensesParams(
                user_id=user_id,
                user_principal_name=user.user_principal_name,
                add_licenses=tuple(
                    LicenceRef(sku_id=s.sku_id, sku_part_number=s.sku_part_number) for s in added
                ),
            ),
            subject,
            upn,
            Backend.GRAPH,
            section=SECTION_USERS,
            reason="licences declared in the tenant file",
            desired=declared,
            observed={
                "user": upn,
                "usageLocation": norm.country(usage_location),
                "assigned": sorted(have),
            },
            changes=[
                FieldChange(field="licenses", before=None, after=[s.sku_part_number for s in added])
            ],
            depends_on=[depends],
        )
    if removes:
        d.add(
            UserRemoveLicensesParams(
                user_id=user_id,
                user_principal_name=user.user_principal_name,
                remove_licenses=tuple(
                    LicenceRef(sku_id=i, sku_part_number=part(i)) for i in removes
                ),
            ),
            subject,
            upn,
            Backend.GRAPH,
            section=SECTION_USERS,
            reason="licences not in the tenant file's exact list",
            desired=declared,
            observed=observed,
            changes=[FieldChange(field="licenses", before=[part(i) for i in removes], after=None)],
        )


def _licence_shortage(d: TenantDraft, licences: _TenantLicences) -> None:
    """A finding per SKU whose free units do not cover the assignments planned.

    The assignments stay planned: buying units is the fix, and it changes nothing in git. Apply
    re-plans, and Graph refuses an assignment without a free unit for that user only.
    """
    by_part = {s.sku_part_number: s for s in licences.skus}
    for part, users in sorted(licences.demand.items()):
        free = max(by_part[part].free_units, 0)
        if len(users) > free:
            d.finding(
                "licences",
                "warning",
                f"licence:{part}",
                f"{len(users)} assignment(s) planned ({', '.join(sorted(users))}) but {free} "
                f"unit(s) free: buy {len(users) - free} more before apply, or the assignment fails",
            )


# --- Entra groups -----------------------------------------------------------------------------

_GRAPH_KINDS = ("security", "microsoft365")


def plan_groups(d: TenantDraft) -> None:
    observed = d.observed.groups
    groups = (
        observed
        if isinstance(observed, Unknown)
        else inventory(observed, lambda g: g.mail_nickname)
    )
    for item in match_declared(d.desired.spec.groups, lambda g: g.mail_nickname, groups):
        group, nick = item.declared, item.key
        subject = f"group:{nick}"
        match item.step:
            case Unobserved(unknown):
                d.mark_unknown("groups", unknown)
            case Ambiguous(candidates):
                ids = ", ".join(sorted(g.id for g in candidates))
                d.problem(
                    subject, f"mailNickname matches {len(candidates)} groups ({ids}); fix by hand"
                )
            case Compare(existing) | Delete(existing) if existing.kind not in _GRAPH_KINDS:
                d.problem(
                    subject,
                    f"mailNickname {nick} belongs to a {existing.kind} group, which Graph cannot "
                    "manage; declare it under distributionGroups instead",
                )
            case Delete(existing):
                d.add_delete(
                    GroupDeleteParams(group_id=existing.id, mail_nickname=existing.mail_nickname),
                    subject,
                    nick,
                    Backend.GRAPH,
                    section=SECTION_GROUPS,
                    existing_id=existing.id,
                    note="Microsoft 365 groups are restorable for 30 days",
                )
            case Create():
                _create_group(d, group, nick, subject)
            case Compare(existing) if existing.kind != group.type:
                d.problem(
                    subject,
                    f"the tenant's group is {existing.kind}, the file says {group.type}: Graph "
                    "cannot change a group's type; recreate it by hand or fix the file",
                )
            case Compare(existing):
                _update_group(d, group, existing, nick, subject)
                plan_group_members(d, group, existing, created_by=None)


def _create_group(d: TenantDraft, group: Group, nick: str, subject: str) -> None:
    if d.earlier_create_may_exist(OperationKind.GROUP_CREATE, nick, f"groups/{nick}"):
        return
    unified = group.type == "microsoft365"
    assert group.display_name is not None  # the model requires it of a present group
    new_group = NewGroup(
        display_name=group.display_name,
        mail_nickname=group.mail_nickname,
        mail_enabled=unified,
        security_enabled=not unified,
        group_types=("Unified",) if unified else (),
        description=group.description,
    )
    body = new_group.model_dump(mode="json")
    shown = ("displayName", "mailNickname", "description")
    op_id = d.add(
        GroupCreateParams(body=new_group),
        subject,
        nick,
        Backend.GRAPH,
        section=SECTION_GROUPS,
        reason=f"declared {group.type} group, not in the tenant",
        desired=body,
        observed={"exists": False},
        changes=[
            FieldChange(field="type", after=group.type),
            *(FieldChange(field=k, after=body[k]) for k in shown if k in body),
        ],
    )
    plan_group_members(d, group, None, created_by=op_id)


def _update_group(
    d: TenantDraft, group: Group, existing: ObservedGroup, nick: str, subject: str
) -> None:
    desired, observed, changes = compare_fields(
        existing.id,
        (
            ("displayName", group.display_name, existing.display_name, norm.text),
            ("description", group.description, existing.description, norm.text),
        ),
    )
    if changes:
        d.add(
            GroupUpdateParams(
                group_id=existing.id,
                body=GroupPatch.model_validate({c.field: c.after for c in changes}),
            ),
            subject,
            nick,
            Backend.GRAPH,
            section=SECTION_GROUPS,
            reason="the tenant differs from the tenant file",
            desired=desired,
            observed=observed,
            changes=changes,
        )
