"""Rules that span fields, objects and files, checked before any network call.

Within a tenant: addresses use the tenant's domains, nothing is declared twice, licences have
a usage location, every member / permission holder / action target is something the tenant
declares (or names as an existing principal), Exchange objects have an Exchange mode.
Across files: tenant names, tenant ids, domains and action ids are unique.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from controller.errors import Diagnostic
from controller.loader.source import Loc, SourceFile, parse_yaml
from controller.models import (
    EXCHANGE_MANAGING_MODES,
    DistributionGroup,
    MSPConfig,
    SharedMailbox,
    TenantConfig,
    address_domain,
)


@dataclass(frozen=True)
class GlobalKey:
    """A value that must be unique across the estate, and where it was declared.

    Located lazily: composing a file's node tree costs as much as parsing it, and only a
    duplicate needs it. The file's text is kept for that (not its data, which is larger).
    """

    what: str  # "tenant name", "tenant id", "domain", "action id"
    value: str
    loc: tuple[str | int, ...]
    file: str
    text: str | None = field(repr=False, compare=False)


def check_tenant(
    tenant: TenantConfig, source: SourceFile, msp: MSPConfig | None
) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    spec = tenant.spec
    domains = {d.lower() for d in tenant.metadata.domains}
    shown_domains = ", ".join(tenant.metadata.domains)

    def report(loc: Loc, message: str) -> None:
        problems.append(source.diagnostic(loc, message))

    def check_domain(loc: Loc, address: str, what: str) -> None:
        if address_domain(address) not in domains:
            report(
                loc,
                f"{what} {address!r} is not in one of the tenant's domains ({shown_domains}); "
                "add the domain to metadata.domains or fix the address",
            )

    # --- addresses and duplicates -----------------------------------------------------
    def duplicate(loc: Loc, first: Loc, what: str, value: str) -> None:
        report(
            loc,
            f"duplicate {what} {value!r}: also declared at {source.where(first)} "
            f"({source.path_text(first)})",
        )

    # Users, distribution groups and shared mailboxes share one address space.
    seen_address: dict[str, Loc] = {}

    def claim_address(loc: Loc, address: str) -> None:
        first = seen_address.setdefault(address.lower(), loc)
        if first is not loc:
            duplicate(loc, first, "user" if first[1] == loc[1] == "users" else "address", address)

    # A licence needs a usage location; msp.yaml may supply it. When msp.yaml did not load,
    # its own errors are reported and this rule cannot be decided.
    default_location = msp.spec.defaults.usage_location if msp is not None else "unknown"
    users = {}
    for i, user in enumerate(spec.users):
        loc: Loc = ["spec", "users", i, "userPrincipalName"]
        check_domain(loc, user.user_principal_name, "userPrincipalName")
        claim_address(loc, user.user_principal_name)
        users[user.user_principal_name.lower()] = user
        needs_location = user.licenses and user.ensure == "present"
        if needs_location and user.usage_location is None and default_location is None:
            report(
                ["spec", "users", i, "licenses"],
                "licences need a usage location: set usageLocation on the user or "
                "spec.defaults.usageLocation in msp.yaml",
            )

    seen_nickname: dict[str, Loc] = {}
    for i, group in enumerate(spec.groups):
        loc = ["spec", "groups", i, "mailNickname"]
        first = seen_nickname.setdefault(group.mail_nickname.lower(), loc)
        if first is not loc:
            duplicate(loc, first, "group mailNickname", group.mail_nickname)

    exchange_ok = spec.exchange in EXCHANGE_MANAGING_MODES
    exchange_objects: list[tuple[str, Sequence[DistributionGroup | SharedMailbox]]] = [
        ("distributionGroups", spec.distribution_groups),
        ("sharedMailboxes", spec.shared_mailboxes),
    ]
    for section, objects in exchange_objects:
        for i, obj in enumerate(objects):
            loc = ["spec", section, i, "primarySmtpAddress"]
            check_domain(loc, obj.primary_smtp_address, "primarySmtpAddress")
            claim_address(loc, obj.primary_smtp_address)
            if not exchange_ok:
                report(
                    ["spec", section, i],
                    f"Exchange objects need spec.exchange to be direct, cipp or auto "
                    f"(it is {spec.exchange!r})",
                )

    # ``auto`` falls back to CIPP only when there is one; ``cipp`` cannot work without it.
    if spec.exchange == "cipp" and msp is not None and msp.spec.cipp is None:
        report(
            ["spec", "exchange"],
            "spec.exchange is 'cipp' but msp.yaml has no cipp connection; "
            "add spec.cipp to msp.yaml or use direct",
        )

    # --- references ---------------------------------------------------------------------
    existing = {p.lower() for p in spec.existing_principals}
    absent_users = {k for k, u in users.items() if u.ensure == "absent"}
    present_users = set(users) - absent_users
    dgs = {
        d.primary_smtp_address.lower() for d in spec.distribution_groups if d.ensure == "present"
    }
    mailboxes = {
        m.primary_smtp_address.lower() for m in spec.shared_mailboxes if m.ensure == "present"
    }
    absent = absent_users | {
        o.primary_smtp_address.lower()
        for objects in (spec.distribution_groups, spec.shared_mailboxes)
        for o in objects
        if o.ensure == "absent"
    }

    def check_refs(
        refs: Iterable[tuple[Loc, str]], allowed: set[str], role: str, accepts: str
    ) -> None:
        for loc, name in refs:
            key = name.lower()
            if key in allowed:
                continue
            if key in absent:
                report(loc, f"{name!r} is declared with ensure: absent and cannot be {role}")
            else:
                report(
                    loc,
                    f"{name!r} is not {accepts} in this tenant; declare it, or list it in "
                    "spec.existingPrincipals if it exists and is managed elsewhere",
                )

    def listed(base: Loc, names: list[str] | None) -> Iterator[tuple[Loc, str]]:
        return (([*base, j], name) for j, name in enumerate(names or ()))

    user_refs = present_users | existing
    for i, group in enumerate(spec.groups):
        check_refs(
            listed(["spec", "groups", i, "members"], group.members),
            user_refs,
            "a member",
            "a declared user",
        )
    for i, dg in enumerate(spec.distribution_groups):
        check_refs(
            listed(["spec", "distributionGroups", i, "members"], dg.members),
            user_refs | dgs | mailboxes,
            "a member",
            "a declared user, distribution group or shared mailbox",
        )
    for i, mailbox in enumerate(spec.shared_mailboxes):
        for field_name, values in (
            ("fullAccess", mailbox.full_access),
            ("sendAs", mailbox.send_as),
            ("sendOnBehalf", mailbox.send_on_behalf),
        ):
            check_refs(
                listed(["spec", "sharedMailboxes", i, field_name], values),
                user_refs | dgs,
                "a permission holder",
                "a declared user or distribution group",
            )
    check_refs(
        (
            (["spec", "actions", i, "resetPassword", "user"], a.target)
            for i, a in enumerate(spec.actions)
        ),
        user_refs,
        "an action target",
        "a declared user",
    )
    return problems


def tenant_keys(source: SourceFile) -> Iterator[GlobalKey]:
    """Values that must be unique across all tenant files.

    Read from the file's raw data, not its model, so that a file that fails validation for
    an unrelated reason still takes part (and its duplicate name is still reported).
    Normalised as the models normalise them: stripped; ids and domains lowercased.
    """
    data = source.data
    if not isinstance(data, dict):
        return

    def key(what: str, value: Any, *loc: str | int, lower: bool = False) -> Iterator[GlobalKey]:
        if isinstance(value, str) and value.strip():
            text = value.strip().lower() if lower else value.strip()
            yield GlobalKey(what, text, loc, source.path, source.text)

    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        yield from key("tenant name", metadata.get("name"), "metadata", "name")
        yield from key("tenant id", metadata.get("tenantId"), "metadata", "tenantId", lower=True)
        domains = metadata.get("domains")
        for i, domain in enumerate(domains if isinstance(domains, list) else ()):
            yield from key("domain", domain, "metadata", "domains", i, lower=True)
    spec = data.get("spec")
    actions = spec.get("actions") if isinstance(spec, dict) else None
    for i, action in enumerate(actions if isinstance(actions, list) else ()):
        if isinstance(action, dict):
            yield from key("action id", action.get("id"), "spec", "actions", i, "id")


def check_unique(keys: Iterable[GlobalKey]) -> list[Diagnostic]:
    """Every value declared twice, reported at the second place and naming the first."""
    first: dict[tuple[str, str], GlobalKey] = {}
    reparsed: dict[str, SourceFile] = {}

    def source_of(k: GlobalKey) -> SourceFile:
        if k.file not in reparsed:
            reparsed[k.file] = parse_yaml(k.text or "", k.file)
        return reparsed[k.file]

    problems = []
    for k in keys:
        seen = first.setdefault((k.what, k.value), k)
        if seen is k:
            continue
        earlier = source_of(seen)
        line, column = earlier.locate(seen.loc)
        problems.append(
            source_of(k).diagnostic(
                k.loc,
                f"duplicate {k.what} {k.value!r}: also declared at "
                f"{seen.file}:{line}:{column} ({earlier.path_text(seen.loc)})",
            )
        )
    return problems
