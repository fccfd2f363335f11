"""The plan of a generated, drifted estate is pinned byte for byte.

Users, licences and Entra groups of 24 generated tenants, with every kind of difference the
planner tells apart (creates, deletes, ambiguous keys, field updates and the differences
that normalisation forgives, enable/disable, licences added, removed, unsubscribed or short,
unknown areas, unverified domains, addresses already owned) and sources named from a
provenance table, are planned under three contexts. Each tenant's plan JSON (operations,
fingerprints, params, reasons, order, sources, problems, findings) is hashed, and so is the
whole estate's JSON after policy (its ``planId``). The pins were taken from the planner as it
was before its per-tenant work was reorganised for speed (issue 15): a pin that moves is a
change of output, which needs a reason of its own, never a side effect of making it faster.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from typing import Any

from controller.models import DesiredState, MSPConfig, Provenance, TenantConfig
from controller.models.observed import ObservedTenant, ObservedUser, Principal, Unknown
from controller.plan import PlanContext, plan_estate
from controller.plan.planner import plan_tenant
from controller.policy import decide
from controller.render import render_json
from tests.plan.factories import CTX, group, observed, oid, sku, user

TENANTS = 24
DOMAIN = "contoso.com"
SUBSCRIBED = ("SPE_E3", "POWER_BI_PRO", "EMS")
# Declared licence lists: case, spaces and repeats carry no meaning; VISIO is not subscribed.
LICENCE_LISTS: tuple[tuple[str, ...], ...] = (
    (),
    ("SPE_E3",),
    ("spe_e3 ", "POWER_BI_PRO"),
    ("EMS", "ems", "SPE_E3"),
    ("POWER_BI_PRO",),
    ("VISIO",),
)
TEXTS = ("Sales", "IT Lead", "Field  Engineer", "Ünïcode Näme")
COUNTRIES = ("US", "us", "GB", "De")
# The MSP is written here, not read from desired/msp.yaml: the demo may change, the pins not.
MSP = MSPConfig.model_validate(
    {
        "apiVersion": "tenantctl/v1",
        "kind": "MSP",
        "metadata": {"name": "northwind-it"},
        "spec": {
            "partner": {
                "tenantId": "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21",
                "clientId": "3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f",
                "credential": {"secret": {"env": "TENANTCTL_CLIENT_SECRET"}},
            },
            "policy": {
                "default": "approve",
                "kinds": {"group.addMember": "allow", "user.delete": "approve"},
                "guards": {"maxDeletions": 5, "maxDisables": 10, "maxMemberRemovals": 25},
            },
            "defaults": {"usageLocation": "US", "forceChangePasswordNextSignIn": True},
        },
    }
)
CONTEXTS = (
    CTX,
    dataclasses.replace(CTX, default_usage_location=None, force_change_password=False),
    dataclasses.replace(CTX, key_vault="https://vault.example.net"),
)


def _variant(rng: random.Random, value: str | None) -> str | None:
    """The tenant's copy of a declared value: the same, equal in substance, or different."""
    choice = rng.randrange(7)
    if value is None or choice == 0:
        return rng.choice((None, "", "Other"))
    if choice == 1:
        return f"  {value.replace(' ', '  ')} "  # whitespace: forgiven
    if choice == 2:
        return value.swapcase()  # case: forgiven for keys and countries only
    if choice == 3:
        return value + " (old)"
    return value


def _generate(index: int) -> tuple[TenantConfig, ObservedTenant, Provenance]:
    rng = random.Random(1500 + index)
    name = f"t{index:02d}"
    file = f"desired/tenants/{name}.yaml"
    users: list[dict[str, Any]] = []
    seen: list[ObservedUser] = []
    entries: dict[tuple[str, ...], Any] = {(): (file, 1, None)}
    for number in range(rng.randint(8, 18)):
        local = f"user{number}"
        domain = "unverified.example" if rng.random() < 0.06 else DOMAIN
        upn = f"{local.title() if rng.random() < 0.2 else local}@{domain}"
        declared: dict[str, Any] = {"userPrincipalName": upn, "displayName": f"User {number}"}
        for field in ("givenName", "surname", "jobTitle", "department"):
            if rng.random() < 0.4:
                declared[field] = rng.choice(TEXTS)
        if rng.random() < 0.6:
            declared["usageLocation"] = rng.choice(COUNTRIES)
        if rng.random() < 0.3:
            declared["mailNickname"] = rng.choice((local, local.upper(), f"{local}x"))
        if rng.random() < 0.4:
            declared["accountEnabled"] = rng.random() < 0.7
        if rng.random() < 0.8:
            declared["licenses"] = list(rng.choice(LICENCE_LISTS))
        if rng.random() < 0.06:
            declared["ensure"] = "absent"
        users.append(declared)
        key = upn.lower()
        if rng.random() < 0.5:
            profile = rng.choice((None, "standard"))
            entries[("users", key)] = (file, 10 + number * 8, profile)
            entries[("users", key, "displayName")] = (file, 11 + number * 8, profile)
            if rng.random() < 0.5:
                entries[("users", key, "licenses")] = (file, 12 + number * 8, "licensing")

        presence = rng.random()
        if presence < 0.15:
            continue  # not in the tenant: a create
        held = rng.sample(SUBSCRIBED, rng.randint(0, 2))
        tenant_user = user(
            upn.lower() if rng.random() < 0.5 else upn.upper(),
            display_name=_variant(rng, declared["displayName"]),
            given_name=_variant(rng, declared.get("givenName")),
            surname=_variant(rng, declared.get("surname")),
            job_title=_variant(rng, declared.get("jobTitle")),
            department=_variant(rng, declared.get("department")),
            usage_location=_variant(rng, declared.get("usageLocation")),
            mail_nickname=None if rng.random() < 0.3 else _variant(rng, local),
            account_enabled=rng.random() < 0.8,
            licences=held,
        )
        if rng.random() < 0.15:  # a licence the tenant no longer subscribes to
            extra = {*tenant_user.license_sku_ids, "0F0E0D0C-0000-4000-8000-00000000dead"}
            tenant_user = dataclasses.replace(tenant_user, license_sku_ids=frozenset(extra))
        seen.append(tenant_user)
        if presence > 0.95:  # a second user with the same key: ambiguous
            seen.append(dataclasses.replace(tenant_user, id=oid("twin", upn)))
    # Users nobody declared; one uses a declared, missing user's UPN as its mail.
    for number in range(rng.randint(0, 3)):
        seen.append(user(f"stranger{number}@{DOMAIN}", mail=f"user{number}@{DOMAIN}"))

    addresses = sorted({u["userPrincipalName"].lower() for u in users})
    groups: list[dict[str, Any]] = []
    seen_groups = []
    for number in range(rng.randint(0, 4)):
        nick = f"team{number}"
        members = rng.sample(addresses, rng.randint(0, min(4, len(addresses))))
        groups.append(
            {
                "displayName": f"Team {number}",
                "mailNickname": nick,
                "type": rng.choice(("security", "microsoft365")),
                "description": rng.choice((None, "Team", "The team")),
                "members": members,
                "membership": rng.choice(("exact", "additive")),
            }
        )
        if rng.random() < 0.8:
            kept = rng.sample(addresses, rng.randint(0, min(4, len(addresses))))
            seen_groups.append(
                group(
                    nick.upper() if rng.random() < 0.2 else nick,
                    kind=rng.choice(("security", "security", "microsoft365", "distribution")),
                    display_name=_variant(rng, f"Team {number}") or "Team",
                    description=_variant(rng, "Team"),
                    member_list=(
                        *(Principal(id=oid("user", a), address=a) for a in kept),
                        Principal(id=oid("device", nick), address=None, kind="device"),
                    ),
                )
            )
            if rng.random() < 0.3:
                entries[("groups", nick, "members")] = (file, 300 + number, None)

    desired = TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": name,
                "tenantId": oid("tenant", name),
                "domains": [DOMAIN, "unverified.example"],
            },
            "spec": {"users": users, "groups": [_present(g) for g in groups]},
        }
    )
    areas: dict[str, Any] = {
        "skus": tuple(sku(p, enabled=rng.randint(0, 30), consumed=10) for p in SUBSCRIBED),
        "users": tuple(seen),
        "groups": tuple(seen_groups),
        "verified_domains": frozenset({DOMAIN}),
    }
    if index % 7 == 3:
        areas["skus"] = Unknown("permissionDenied", "subscribedSkus: the app lacks it")
    if index % 7 == 5:
        areas["users"] = Unknown("throttled", "users: still throttled after retries")
    if index % 11 == 4:
        areas["verified_domains"] = Unknown("error", "organization: the read failed")
    tenant_seen = dataclasses.replace(observed(name, **areas), tenant_id=oid("tenant", name))
    return desired, tenant_seen, Provenance.of(entries)


def _present(declared: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in declared.items() if v is not None}


def _estate() -> tuple[list[TenantConfig], dict[str, ObservedTenant], dict[str, Provenance]]:
    desired, seen, sources = [], {}, {}
    for index in range(TENANTS):
        config, tenant_seen, provenance = _generate(index)
        desired.append(config)
        seen[config.metadata.name] = tenant_seen
        sources[config.metadata.name] = provenance
    return desired, seen, sources


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# Taken from the planner before issue 15's changes; see the module docstring.
TENANT_PLANS: dict[str, str] = {
    "t00/0": "b233495113d49292",
    "t00/1": "5c65040fc00953b1",
    "t00/2": "d54e08fdcf62cb43",
    "t01/0": "85aec662c273434c",
    "t01/1": "53dc89e2858c262f",
    "t01/2": "65f3eeb1d4e90d86",
    "t02/0": "a2db3c81144d6f0a",
    "t02/1": "93f38d88f6db2162",
    "t02/2": "f0260a5325e1ae1b",
    "t03/0": "e2f3cf89a17b9804",
    "t03/1": "b60be40ef61caaf0",
    "t03/2": "bd5d73dca008cb3a",
    "t04/0": "6f779c7b167ce36a",
    "t04/1": "c49eeb8fbb3478d9",
    "t04/2": "6f779c7b167ce36a",
    "t05/0": "6726a70502c0185f",
    "t05/1": "6726a70502c0185f",
    "t05/2": "6726a70502c0185f",
    "t06/0": "070b37d8f8ad8e20",
    "t06/1": "adb2f5ace015cff3",
    "t06/2": "7d0495f6471bcf40",
    "t07/0": "fe327b94f65eb18a",
    "t07/1": "97464ccb41642705",
    "t07/2": "220f9273d46475a2",
    "t08/0": "fba956457788be80",
    "t08/1": "523ac233e5d2f06e",
    "t08/2": "fba956457788be80",
    "t09/0": "568d0d16b23e3b1a",
    "t09/1": "b755f21d1682d20b",
    "t09/2": "568d0d16b23e3b1a",
    "t10/0": "14439222c9900c08",
    "t10/1": "b56713cc010f79ba",
    "t10/2": "14439222c9900c08",
    "t11/0": "4f7d0d2e8a767769",
    "t11/1": "f97381e1173ba201",
    "t11/2": "f272d092f80e9c35",
    "t12/0": "f03bfc1cb45a6b95",
    "t12/1": "0ca5964e8155347d",
    "t12/2": "f03bfc1cb45a6b95",
    "t13/0": "03bc446980d99122",
    "t13/1": "36a8b1088422f184",
    "t13/2": "466cd7c1b0cc3f18",
    "t14/0": "d29f0115f8171f85",
    "t14/1": "5d066b9c96611e74",
    "t14/2": "d29f0115f8171f85",
    "t15/0": "7dd0f20cb97f89bd",
    "t15/1": "6fe5c125f6525941",
    "t15/2": "7dd0f20cb97f89bd",
    "t16/0": "7f51af13a772278a",
    "t16/1": "94e01152f4d20728",
    "t16/2": "8d20931843328e2e",
    "t17/0": "b25b58dce3a717a6",
    "t17/1": "6071f9bda05cf7e8",
    "t17/2": "e54cdcd41bf2b9bc",
    "t18/0": "d714c8ced65cac3f",
    "t18/1": "adfb121b7b29a0a5",
    "t18/2": "1ef287274ab5b80b",
    "t19/0": "c7be0324d91dfea3",
    "t19/1": "39924d3ce424fc02",
    "t19/2": "c7be0324d91dfea3",
    "t20/0": "e9e252b38ecd6bcd",
    "t20/1": "f04cfb10483ff289",
    "t20/2": "d5b0922f8729f3f6",
    "t21/0": "a62cc128258a9592",
    "t21/1": "7da6ccbc08f0d742",
    "t21/2": "a62cc128258a9592",
    "t22/0": "2cf8080361c2afad",
    "t22/1": "0bd41ccd4c6b5202",
    "t22/2": "2cf8080361c2afad",
    "t23/0": "65c327a8aa068c7f",
    "t23/1": "35fe25560daf4eab",
    "t23/2": "4782c6b44f03d5e5",
}
ESTATE_JSON = "d80407aab67b0daa"


def test_every_tenant_plans_to_the_pinned_bytes_under_every_context() -> None:
    desired, seen, sources = _estate()
    got = {
        f"{config.metadata.name}/{number}": _sha(
            plan_tenant(
                config,
                seen[config.metadata.name],
                ctx,
                f"desired/tenants/{config.metadata.name}.yaml",
                sources[config.metadata.name] if number != 1 else None,
            ).model_dump_json(by_alias=True)
        )
        for config in desired
        for number, ctx in enumerate(CONTEXTS)
    }
    changed = sorted(k for k in got if got[k] != TENANT_PLANS.get(k))
    assert not changed, f"plans changed: {changed}"


def test_the_estate_after_policy_renders_to_the_pinned_bytes() -> None:
    desired, seen, sources = _estate()
    state = DesiredState(
        msp=MSP,
        tenants=tuple(desired),
        sources={t.metadata.name: f"desired/tenants/{t.metadata.name}.yaml" for t in desired},
        provenance=sources,
    )
    plan = plan_estate(state, seen, PlanContext.from_msp(MSP, now=CTX.now))
    decided = decide(plan, MSP.spec.policy, {t.metadata.name: None for t in desired})
    assert _sha(render_json(decided)) == ESTATE_JSON


def test_the_generated_estate_has_what_the_pins_are_meant_to_cover() -> None:
    """Pins over an estate with nothing in it would prove nothing."""
    desired, seen, sources = _estate()
    plans = [
        plan_tenant(c, seen[c.metadata.name], CTX, None, sources[c.metadata.name]) for c in desired
    ]
    kinds = {op.kind.value for p in plans for op in p.operations}
    assert {
        "user.create",
        "user.update",
        "user.delete",
        "user.enable",
        "user.disable",
        "user.assignLicenses",
        "user.removeLicenses",
        "group.create",
        "group.update",
        "group.addMember",
        "group.removeMember",
    } <= kinds
    problems = " | ".join(p.message for t in plans for p in t.problems)
    for expected in ("not subscribed", "matches 2 users", "is not verified", "already the"):
        assert expected in problems
    assert any(f.check == "licences" for t in plans for f in t.findings)
    assert {u.area for t in plans for u in t.unknown} >= {"licences", "users", "domains"}
    assert any(op.source and op.source.profile for t in plans for op in t.operations)
    # ...and users found in sync: the path that plans nothing is pinned too.
    declared = {
        (c.metadata.name, u.user_principal_name.lower()) for c in desired for u in c.spec.users
    }
    planned = {(p.name, op.target.partition(":")[2]) for p in plans for op in p.operations}
    assert len(declared - planned) > TENANTS
