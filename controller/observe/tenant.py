"""Observe one tenant, with the partner-level facts every tenant shares
(:mod:`~controller.observe.partner`).

The only I/O here goes through the connectors. Reads are grouped to keep round trips low:
one ``$batch`` for everything Graph can answer without an id (organization, the app's service
principal, resource app roles, licences, users, groups, reports), a second for what needs the
ids from the first (app role and directory role assignments, members of the declared groups,
the one-shot-action ledger), then Exchange through the tenant's route
(:mod:`~controller.observe.exchange`). Only what the desired
state manages is read: members of declared groups, permissions of declared mailboxes, the MFA
and risky-user reports of declared checks; an observer made with ``read_all`` (for ``tenantctl
import`` and ``tenantctl get``) reads members and permissions for every object, one made with
``read_reports`` (``tenantctl get users``) the reports whether or not a check is declared.

Every failure becomes :class:`~controller.models.observed.Unknown` for the area it affects,
through ``translate.unknown_from_error``; nothing here turns an error into an empty list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from controller.connectors import Connections, GraphUrls, graph_principals
from controller.errors import NotFound, ServiceError, TenantctlError
from controller.models import TenantConfig
from controller.models.ledger import Ledger
from controller.models.observed import (
    ActionRecord,
    ConsentStatus,
    ExchangeAccess,
    GdapState,
    ObservedGroup,
    ObservedTenant,
    ObservedUser,
    PasswordResetAccess,
    Principal,
    Unknown,
)
from controller.models.permissions import (
    ACTION_LEDGER_EXTENSION,
    EXCHANGE_ADMINISTRATOR_ROLE,
    EXCHANGE_APP_ID,
    GRAPH_APP_ID,
    ROLE_MANAGEMENT_PERMISSION,
)
from controller.observe import translate
from controller.observe.exchange import observe_exchange
from controller.observe.partner import PartnerFacts

T = TypeVar("T")

USER_SELECT = (
    "id,userPrincipalName,displayName,mailNickname,givenName,surname,jobTitle,department,"
    "accountEnabled,usageLocation,assignedLicenses,mail"
)
GROUP_SELECT = "id,displayName,mailNickname,description,mailEnabled,securityEnabled,groupTypes,mail"
MEMBER_SELECT = "id,userPrincipalName,mail,displayName"
ROLE_SELECT = "id,appId,appRoles"


class TenantObserver:
    """Observes tenants through one :class:`Connections`.

    ``read_all``: read every Entra group and distribution group with its members, and every
    shared mailbox with its permissions, declared or not (what ``tenantctl import`` needs).
    ``read_reports``: read the MFA registration and risky-user reports whether or not a check
    is declared (what ``tenantctl get users`` shows).
    """

    def __init__(
        self,
        connections: Connections,
        *,
        app_id: str,
        partner: PartnerFacts,
        now: dt.datetime,
        read_all: bool = False,
        read_reports: bool = False,
    ) -> None:
        self.connections = connections
        self.app_id = app_id
        self.partner = partner
        self.now = now
        self.read_all = read_all
        self.read_reports = read_reports
        # Each tenant's GDAP relationships, found once: scanning the partner's whole list for
        # each tenant made observing quadratic in the estate's size.
        self._relationships: dict[str, list[dict[str, Any]]] = {}
        if not isinstance(partner.relationships, Unknown):
            for item in partner.relationships:
                customer = str((item.get("customer") or {}).get("tenantId", "")).lower()
                self._relationships.setdefault(customer, []).append(item)

    # -- the straight line --------------------------------------------------------------

    async def observe(self, tenant: TenantConfig) -> ObservedTenant:
        tenant_id = tenant.metadata.tenant_id
        gdap = self._gdap(tenant_id)
        cipp_manageable = self._cipp_manageable(tenant_id)
        graph = self.connections.graph(tenant_id)
        spec = tenant.spec
        if spec.exchange == "direct":
            # Exchange is read after Graph: its token arrives meanwhile, one round trip less
            # on the tenant's way (a tenant without the role gets a token it does not use).
            self.connections.prefetch_token(tenant_id, "exchange")

        first = {
            "organization": GraphUrls.organization(),
            "servicePrincipal": GraphUrls.service_principal_by_app_id(self.app_id),
            "graphRoles": GraphUrls.service_principal_by_app_id(GRAPH_APP_ID, ROLE_SELECT),
            "exchangeRoles": GraphUrls.service_principal_by_app_id(EXCHANGE_APP_ID, ROLE_SELECT),
            "skus": GraphUrls.subscribed_skus(),
            "users": GraphUrls.users(USER_SELECT, graph.page_size),
        }
        if spec.groups or self.read_all:
            first["groups"] = GraphUrls.groups(GROUP_SELECT, graph.page_size)
        if spec.checks.mfa is not None or self.read_reports:
            first["mfa"] = GraphUrls.registration_details(graph.page_size)
        endpoints = self.connections.settings.endpoints
        risky_unavailable: Unknown | None = None
        risky_wanted = spec.checks.risky_users is not None or self.read_reports
        if risky_wanted and not endpoints.risky_users:
            # Never read there: Identity Protection is not part of this cloud.
            risky_unavailable = Unknown(
                "notAvailable",
                f"risky users: Identity Protection is not available in the {endpoints.cloud} cloud",
            )
        elif risky_wanted:
            first["risky"] = GraphUrls.risky_users()
        try:
            answers = await graph.read_many(first)
        except TenantctlError as error:
            return self._unreachable(tenant, gdap, cipp_manageable, error)
        token_errors = [
            a for a in answers.values() if isinstance(a, ServiceError) and a.service == "login"
        ]
        if token_errors and len(token_errors) == len(answers):
            # No token for this tenant (consent missing, bad credential): nothing is known.
            return self._unreachable(tenant, gdap, cipp_manageable, token_errors[0])

        sp = _single(answers["servicePrincipal"])
        role_names = translate.app_role_names(
            [r for key in ("graphRoles", "exchangeRoles") for r in _list_or_empty(answers[key])]
        )
        users = self._users(answers["users"])
        groups_raw = answers.get("groups")

        second: dict[str, str] = {}
        sp_id = str(sp["id"]) if isinstance(sp, dict) else None
        if sp_id:
            second["assignments"] = GraphUrls.app_role_assignments(sp_id)
            second["directoryRoles"] = GraphUrls.directory_role_assignments(sp_id)
        declared_nicknames = {g.mail_nickname.lower() for g in spec.groups if g.members is not None}
        member_reads: dict[str, str] = {}
        if isinstance(groups_raw, list):
            for item in groups_raw:
                nickname = str(item.get("mailNickname") or "").lower()
                wanted = self.read_all or nickname in declared_nicknames
                if wanted and translate.group_kind(item) in (
                    "security",
                    "microsoft365",
                ):
                    key = f"members:{item['id']}"
                    member_reads[str(item["id"])] = key
                    second[key] = GraphUrls.group_members(
                        str(item["id"]), MEMBER_SELECT, graph.page_size
                    )
        ledger_targets = self._ledger_targets(tenant, users)
        for user_id in ledger_targets:
            second[f"ledger:{user_id}"] = f"/users/{user_id}/extensions/{ACTION_LEDGER_EXTENSION}"
            # A target holding a directory role needs a stronger role to be reset.
            second[f"targetRoles:{user_id}"] = GraphUrls.directory_role_assignments(user_id)
        try:
            more = await graph.read_many(second) if second else {}
        except TenantctlError as error:
            unknown = translate.unknown_from_error(error, "second read")
            more = dict.fromkeys(second, unknown)  # type: ignore[arg-type]

        consent = self._consent(
            sp, answers["servicePrincipal"], more.get("assignments"), role_names
        )
        role_assigned, can_assign = self._roles(more.get("directoryRoles"), consent)
        groups = self._groups(groups_raw, member_reads, more)
        ledger = self._ledger(tenant, users, more)
        password_reset = _password_reset(
            more.get("directoryRoles"), ledger_targets, more, can_assign
        )
        exchange, dgs, mailboxes = await observe_exchange(
            self.connections,
            tenant,
            users,
            role_assigned=role_assigned,
            can_assign=can_assign,
            cipp_manageable=cipp_manageable,
            read_all=self.read_all,
        )
        return ObservedTenant(
            name=tenant.metadata.name,
            tenant_id=tenant_id,
            observed_at=self.now,
            gdap=gdap,
            consent=consent,
            exchange=exchange,
            verified_domains=self._domains(answers["organization"]),
            skus=self._skus(answers["skus"]),
            users=users,
            groups=groups,
            distribution_groups=dgs,
            shared_mailboxes=mailboxes,
            mfa=self._reports(
                answers.get("mfa"),
                "MFA registration",
                translate.mfa_registration,
                permission="AuditLog.Read.All",
            ),
            risky_users=risky_unavailable
            or self._reports(
                answers.get("risky"),
                "risky users",
                translate.risky_user,
                permission="IdentityRiskyUser.Read.All",
            ),
            action_ledger=ledger,
            password_reset=password_reset,
            notes=self._notes(tenant_id),
        )

    # -- partner-level -------------------------------------------------------------------

    def _gdap(self, tenant_id: str) -> GdapState | Unknown:
        rels = self.partner.relationships
        if isinstance(rels, Unknown):
            return rels
        return translate.gdap_state(
            self._relationships.get(tenant_id.lower(), []), tenant_id, self.now
        )

    def _cipp_manageable(self, tenant_id: str) -> bool | None:
        return self.partner.cipp_manageable(tenant_id)

    def _notes(self, tenant_id: str) -> tuple[str, ...]:
        return self.partner.cipp_notes(tenant_id)

    def _unreachable(
        self,
        tenant: TenantConfig,
        gdap: GdapState | Unknown,
        cipp_manageable: bool | None,
        error: TenantctlError,
    ) -> ObservedTenant:
        unknown = translate.unknown_from_error(error, "tenant")
        consent: ConsentStatus | Unknown = unknown
        if unknown.code == "consentMissing":
            from controller.models.permissions import REQUIRED_PERMISSIONS

            consent = ConsentStatus("pending", None, frozenset(), REQUIRED_PERMISSIONS)
        exchange = ExchangeAccess(
            state="pending",
            route=None,
            role_assigned=None,
            role_propagated=None,
            cipp_manageable=cipp_manageable,
        )
        base = ObservedTenant.unreachable(
            tenant.metadata.name, tenant.metadata.tenant_id, self.now, unknown
        )
        return dataclasses.replace(
            base,
            gdap=gdap,
            consent=consent,
            exchange=exchange,
            notes=self._notes(tenant.metadata.tenant_id),
        )

    # -- Graph areas ---------------------------------------------------------------------

    def _consent(
        self,
        sp: dict[str, Any] | None,
        sp_answer: Any,
        assignments: Any,
        role_names: Mapping[str, str],
    ) -> ConsentStatus | Unknown:
        if isinstance(sp_answer, ServiceError):
            return translate.unknown_from_error(sp_answer, "consent")
        if sp is None:
            return translate.consent_status(None, [], role_names)
        if isinstance(assignments, ServiceError):
            return translate.unknown_from_error(assignments, "consent")
        if isinstance(assignments, Unknown):
            return assignments
        if not role_names:
            return Unknown("error", "consent: the resource app roles could not be read")
        return translate.consent_status(sp, _list_or_empty(assignments), role_names)

    @staticmethod
    def _roles(answer: Any, consent: ConsentStatus | Unknown) -> tuple[bool | None, bool]:
        can_assign = (
            isinstance(consent, ConsentStatus) and ROLE_MANAGEMENT_PERMISSION in consent.granted
        )
        if not isinstance(answer, list):
            return None, can_assign
        assigned = any(
            str(a.get("roleDefinitionId", "")).lower() == EXCHANGE_ADMINISTRATOR_ROLE
            for a in answer
        )
        return assigned, can_assign

    @staticmethod
    def _users(answer: Any) -> tuple[ObservedUser, ...] | Unknown:
        if isinstance(answer, ServiceError):
            return translate.unknown_from_error(answer, "users")
        licences: dict[frozenset[str], frozenset[str]] = {}
        users = (translate.user(u, licences) for u in _list_or_empty(answer))
        return tuple(sorted(users, key=lambda u: u.key))

    @staticmethod
    def _domains(answer: Any) -> frozenset[str] | Unknown:
        if isinstance(answer, ServiceError):
            return translate.unknown_from_error(answer, "verified domains")
        org = _single(answer)
        if org is None:
            return Unknown("error", "verified domains: the organization could not be read")
        return translate.verified_domains(org)

    @staticmethod
    def _skus(answer: Any) -> Any:
        if isinstance(answer, ServiceError):
            return translate.unknown_from_error(answer, "licences")
        return tuple(
            sorted((translate.sku(s) for s in _list_or_empty(answer)), key=lambda s: s.sku_id)
        )

    @staticmethod
    def _reports(
        answer: Any, what: str, convert: Callable[[Any], T], *, permission: str
    ) -> tuple[T, ...] | Unknown:
        if answer is None:
            return Unknown("notManaged", f"{what}: no check declared")
        if isinstance(answer, ServiceError):
            return translate.unknown_from_error(answer, what, permission)
        return tuple(convert(item) for item in _list_or_empty(answer))

    @staticmethod
    def _groups(
        answer: Any, member_reads: Mapping[str, str], more: Mapping[str, Any]
    ) -> tuple[ObservedGroup, ...] | Unknown:
        if answer is None:
            # Not read (no group is declared): unknown, never an empty list, so that a view
            # of the tenant (``tenantctl report``) does not show a tenant without groups.
            return Unknown("notManaged", "groups: not read (no group is declared in the tenant)")
        if isinstance(answer, ServiceError):
            return translate.unknown_from_error(answer, "groups")
        groups = []
        for item in _list_or_empty(answer):
            key = member_reads.get(str(item["id"]))
            members: tuple[Principal, ...] | Unknown | None = None
            if key is not None:
                read = more.get(key)
                if isinstance(read, ServiceError):
                    members = translate.unknown_from_error(
                        read, f"members of {item.get('mailNickname')}"
                    )
                elif isinstance(read, Unknown):
                    members = read
                else:
                    members = graph_principals(_list_or_empty(read))
            groups.append(translate.group(item, members))
        return tuple(sorted(groups, key=lambda g: (g.key or "", g.id)))

    @staticmethod
    def _ledger_targets(tenant: TenantConfig, users: Any) -> list[str]:
        if not tenant.spec.actions or isinstance(users, Unknown):
            return []
        by_upn = {u.key: u.id for u in users}
        targets = {
            by_upn[a.target.lower()] for a in tenant.spec.actions if a.target.lower() in by_upn
        }
        return sorted(targets)

    @staticmethod
    def _ledger(tenant: TenantConfig, users: Any, more: Mapping[str, Any]) -> Any:
        """What the ledger on each action's user says about that action (started or done);
        an action its ledger does not name has not run."""
        if not tenant.spec.actions:
            return {}
        by_upn = {} if isinstance(users, Unknown) else {u.key: u.id for u in users}
        records: dict[str, ActionRecord] = {}
        for action in tenant.spec.actions:
            user_id = by_upn.get(action.target.lower())
            if user_id is None:
                continue  # the planner says why it cannot run
            answer = more.get(f"ledger:{user_id}")
            if isinstance(answer, NotFound):
                continue  # no extension yet: nothing has run against this user
            if isinstance(answer, ServiceError):
                return translate.unknown_from_error(answer, "one-shot action ledger")
            if isinstance(answer, Unknown):
                return answer
            state = Ledger.from_properties(answer if isinstance(answer, dict) else None).state_of(
                action.id
            )
            if state is not None:
                records[action.id] = ActionRecord(action.id, state)
        return records


def _password_reset(
    app_roles: Any, targets: list[str], more: Mapping[str, Any], can_assign: bool
) -> PasswordResetAccess | Unknown:
    """The app's directory roles, and which action targets hold one themselves."""
    what = "the app's directory roles (needed for password resets)"
    if isinstance(app_roles, ServiceError):
        return translate.unknown_from_error(app_roles, what, "RoleManagement.Read.Directory")
    if isinstance(app_roles, Unknown):
        return app_roles
    if not isinstance(app_roles, list):
        return Unknown("error", f"{what}: the app has no service principal in the tenant")
    admins: set[str] = set()
    for user_id in targets:
        held = more.get(f"targetRoles:{user_id}")
        if isinstance(held, ServiceError):
            return translate.unknown_from_error(held, f"directory roles of user {user_id}")
        if isinstance(held, Unknown):
            return held
        if _list_or_empty(held):
            admins.add(user_id)
    return PasswordResetAccess(
        app_roles=frozenset(str(a.get("roleDefinitionId", "")).lower() for a in app_roles),
        admin_targets=frozenset(admins),
        can_assign_role=can_assign,
    )


def _list_or_empty(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, list):
        return [a for a in answer if isinstance(a, dict)]
    return []


def _single(answer: Any) -> dict[str, Any] | None:
    if isinstance(answer, list):
        return answer[0] if answer else None
    if isinstance(answer, dict):
        values = answer.get("value")
        if isinstance(values, list):
            return values[0] if values else None
        return answer
    return None
