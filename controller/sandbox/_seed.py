"""The world at the epoch: a scenario built into the live state every service shares
(:mod:`~controller.sandbox._world`).

Each scenario tenant gets its users, groups, mailboxes, licences, GDAP relationship, the app's
service principal and consent, and the directory roles the scenario gives it; the resource
principals (Graph, Exchange) exist in every tenant as they do in Entra.
"""

from __future__ import annotations

import secrets

from controller.sandbox import _scenario as sc
from controller.sandbox._catalog import (
    DIRECTORY_ROLES,
    EXCHANGE_ADMINISTRATOR,
    REQUIRED_EXCHANGE_ROLES,
    REQUIRED_GRAPH_ROLES,
    role_template,
    sku_id,
    stable_id,
)
from controller.sandbox._world import (
    CippApp,
    Gdap,
    Group,
    Partner,
    PartnerApp,
    RoleAssignment,
    Settings,
    Sku,
    Tenant,
    User,
    World,
    create_app_principal,
    grant_app_roles,
    seed_resource_principals,
)


def build_world(scenario: sc.Scenario, now: float) -> World:
    b = scenario.behaviour
    p = scenario.partner
    partner = Partner(
        tenant_id=p.tenant_id.lower(),
        display_name=p.display_name,
        domains=list(p.domains),
        app=PartnerApp(
            client_id=p.app.client_id.lower(),
            display_name=p.app.display_name,
            secret=p.app.secret,
            secret_expired=p.app.secret_expired,
            accept_assertions=p.app.accept_assertions,
            partner_roles=list(p.app.partner_roles),
            secret_starts_at=now,
            secret_ends_at=now + p.app.secret_ends_in_days * 86400,
        ),
        cipp=CippApp(client_id=p.cipp.client_id.lower(), secret=p.cipp.secret, role=p.cipp.role)
        if p.cipp
        else None,
        allow_app_only_consent=p.partner_center.allow_app_only_consent,
    )
    settings = Settings(
        replication_delay=b.replication_delay_seconds,
        exchange_role_propagation=b.exchange_role_propagation_seconds,
        cipp_consent_delay=b.cipp_consent_delay_seconds,
        latency=b.latency_seconds,
        throttling=b.throttling,
        token_lifetime=b.token_lifetime_seconds,
        default_page_size=b.default_page_size,
        cloud=b.cloud,
    )
    manages = p.cipp.manages if p.cipp else []
    lost = {name.lower() for name in p.cipp.lost} if p.cipp else set()
    tenants: dict[str, Tenant] = {}
    for spec in scenario.tenants:
        tenant = _build_tenant(spec, partner, manages, now)
        tenant.cipp_lost = bool({spec.name.lower(), tenant.tenant_id} & lost)
        tenant.cipp_manages = tenant.cipp_manages and not tenant.cipp_lost
        tenants[tenant.tenant_id] = tenant
    world = World(
        partner=partner, settings=settings, tenants=tenants, token_key=secrets.token_hex(32)
    )
    world.vault.secrets_officers = [partner.app.client_id]  # Key Vault Secrets Officer
    world.reindex()
    return world


def _build_tenant(
    spec: sc.Tenant, partner: Partner, manages: list[str] | str, now: float
) -> Tenant:
    tid = spec.tenant_id.lower()
    gdap = None
    if spec.gdap is not None:
        gdap = Gdap(
            id=stable_id(tid, "gdap") + "-" + stable_id(tid, "gdap2"),
            display_name=f"{spec.name}-tenantctl",
            status=spec.gdap.status,
            created_at=now - 86400 * 30,
            end_at=now + spec.gdap.ends_in_days * 86400,
            auto_extend=spec.gdap.auto_extend,
            roles=[role_template(r) for r in spec.gdap.roles],
        )
    cipp_manages = (manages == "all" and gdap is not None and gdap.status == "active") or any(
        m.lower() in (spec.name.lower(), tid) for m in manages if manages != "all"
    )
    tenant = Tenant(
        tenant_id=tid,
        name=spec.name,
        display_name=spec.display_name,
        domains=list(spec.domains),
        premium=spec.premium,
        gdap=gdap,
        cipp_manages=cipp_manages,
    )
    long_ago = now - 86400 * 400
    seed_resource_principals(tenant, now)
    for sku in spec.skus:
        sid = (sku.sku_id or sku_id(sku.sku_part_number)).lower()
        tenant.skus[sid] = Sku(sku_id=sid, sku_part_number=sku.sku_part_number, units=sku.units)
    part_to_id = {s.sku_part_number: s.sku_id for s in tenant.skus.values()}

    for u in spec.users:
        upn = u.user_principal_name
        licences = [part_to_id[name] for name in u.licenses if name in part_to_id]
        tenant.add_user(
            User(
                id=(u.id or stable_id(tid, "user", upn.lower())).lower(),
                user_principal_name=upn,
                display_name=u.display_name or upn.split("@")[0],
                mail_nickname=upn.split("@")[0],
                given_name=u.given_name,
                surname=u.surname,
                job_title=u.job_title,
                department=u.department,
                usage_location=u.usage_location,
                account_enabled=u.account_enabled,
                mail=upn if licences else None,
                licenses=licences,
                mfa_registered=u.mfa.registered,
                mfa_capable=u.mfa.capable,
                methods=list(u.mfa.methods)
                if u.mfa.methods is not None
                else (["microsoftAuthenticatorPush"] if u.mfa.registered else []),
                risk_level=u.risk_level,
                risk_updated_at=long_ago,
                is_admin=u.is_admin,
                created_at=long_ago,
                recipient_type="UserMailbox" if licences else None,
            )
        )
    for live in tenant.skus.values():
        spec_sku = next(s for s in spec.skus if s.sku_part_number == live.sku_part_number)
        holders = tenant.consumed(live)
        if spec_sku.consumed is not None and spec_sku.consumed > holders:
            live.reserved = spec_sku.consumed - holders

    def ids(upns: list[str]) -> list[str]:
        out = []
        for upn in upns:
            user = tenant.user_by_upn(upn)
            if user is None:
                raise ValueError(f"tenant {spec.name}: {upn} is not a user of the scenario")
            out.append(user.id)
        return out

    for g in spec.groups:
        gid = (g.id or stable_id(tid, "group", g.mail_nickname.lower())).lower()
        unified = g.type == "microsoft365"
        tenant.groups[gid] = Group(
            id=gid,
            display_name=g.display_name,
            mail_nickname=g.mail_nickname,
            kind=g.type,
            description=g.description,
            mail=f"{g.mail_nickname}@{tenant.default_domain}" if unified else None,
            members=ids(g.members),
            created_at=long_ago,
        )
    for dg in spec.distribution_groups:
        gid = stable_id(tid, "dg", dg.primary_smtp_address.lower())
        tenant.groups[gid] = Group(
            id=gid,
            display_name=dg.display_name or dg.name,
            mail_nickname=dg.primary_smtp_address.split("@")[0],
            kind=dg.type,
            mail=dg.primary_smtp_address,
            members=ids(dg.members),
            created_at=long_ago,
        )
    for mb in spec.shared_mailboxes:
        uid = stable_id(tid, "user", mb.primary_smtp_address.lower())
        tenant.add_user(
            User(
                id=uid,
                user_principal_name=mb.primary_smtp_address,
                display_name=mb.display_name or mb.name,
                mail_nickname=mb.primary_smtp_address.split("@")[0],
                account_enabled=False,
                mail=mb.primary_smtp_address,
                created_at=long_ago,
                recipient_type="SharedMailbox",
                full_access=ids(mb.full_access),
                send_as=ids(mb.send_as),
                send_on_behalf=ids(mb.send_on_behalf),
            )
        )

    if spec.app.service_principal:
        sp = create_app_principal(tenant, partner.app.client_id, partner.app.display_name, 0, 0)
        sp.created_at = long_ago
        roles = (
            [*REQUIRED_GRAPH_ROLES, *REQUIRED_EXCHANGE_ROLES]
            if spec.app.roles == "all"
            else list(spec.app.roles)
        )
        grant_app_roles(tenant, sp, roles, long_ago)
        if spec.app.exchange_administrator is not None:
            assigned = now - spec.app.exchange_administrator.assigned_minutes_ago * 60
            tenant.role_assignments.append(
                RoleAssignment(
                    id=stable_id(tid, "roleassignment", sp.id),
                    role_definition_id=EXCHANGE_ADMINISTRATOR,
                    principal_id=sp.id,
                    created_at=assigned,
                )
            )
        for role in spec.app.directory_roles:
            template = role_template(role)
            tenant.role_assignments.append(
                RoleAssignment(
                    id=stable_id(tid, "roleassignment", sp.id, template),
                    role_definition_id=template,
                    principal_id=sp.id,
                    created_at=long_ago,
                )
            )
    for user in tenant.users.values():
        if user.is_admin:
            tenant.role_assignments.append(
                RoleAssignment(
                    id=stable_id(tid, "roleassignment", user.id),
                    role_definition_id=DIRECTORY_ROLES["Global Administrator"],
                    principal_id=user.id,
                    created_at=long_ago,
                )
            )
    return tenant
