"""``check_connections``: what ``tenantctl connect check`` runs, as a library function.

Acquires an app-only token in the partner tenant, lists the GDAP customers it can see, and
checks CIPP (``/api/me``) when configured. Each check is a :class:`CheckResult`; a failure
carries a one-line diagnosis and the fix, written for the MSP engineer who just registered the
app. Nothing here raises a :class:`ServiceError`: every failure becomes a result.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.connectors._auth import (
    APP_NOT_FOUND,
    BAD_SECRET,
    EXPIRED_SECRET,
    admin_consent_url,
)
from controller.connectors._connections import Connections
from controller.connectors._retry import RetryPolicy
from controller.connectors._settings import ConnectionSettings
from controller.errors import (
    ConsentMissing,
    CredentialError,
    PermissionDenied,
    ServiceError,
    TemporaryError,
    UnknownTenant,
)

#: Fail fast: a check should answer in seconds, not sit through a minute of backoff.
CHECK_RETRY = RetryPolicy(max_attempts=2, max_throttled_attempts=3, backoff_cap=5.0)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    summary: str
    fix: str | None = None
    code: str | None = None

    def line(self) -> str:
        """One line: ``ok   NAME  summary`` or ``FAIL NAME  summary; fix: ...``."""
        mark = "ok  " if self.ok else "FAIL"
        text = f"{mark}  {self.name:<12}  {self.summary}"
        return f"{text}; fix: {self.fix}" if self.fix else text


async def check_connections(
    settings: ConnectionSettings, *, connections: Connections | None = None
) -> list[CheckResult]:
    """Run every check that the settings configure. Opens (and closes) its own
    :class:`Connections` unless one is given."""
    owned = connections is None
    conn = connections or Connections(settings, retry=CHECK_RETRY, timeout=20.0)
    try:
        return await _run(settings, conn)
    finally:
        if owned:
            await conn.aclose()


async def _run(settings: ConnectionSettings, conn: Connections) -> list[CheckResult]:
    results: list[CheckResult] = []
    partner = settings.partner_tenant_id
    try:
        await conn.tokens.token(partner, "graph")
    except ServiceError as error:
        results.append(diagnose_partner(settings, error))
    else:
        results.append(
            CheckResult(
                "partner app",
                True,
                f"app-only token acquired in partner tenant {partner} (app {settings.client_id})",
            )
        )
        results.append(await _gdap(settings, conn))
    if settings.cipp is not None:
        results.append(await _cipp(settings, conn))
    return results


async def _gdap(settings: ConnectionSettings, conn: Connections) -> CheckResult:
    try:
        customers = await conn.partner_graph().gdap_customers()
    except ServiceError as error:
        return diagnose_gdap(settings, error)
    names = sorted(str(c.get("displayName") or c.get("tenantId") or "?") for c in customers)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if not customers:
        return CheckResult("GDAP", True, "no GDAP customers visible yet")
    return CheckResult("GDAP", True, f"{len(customers)} customer(s) visible: {shown}")


def diagnose_gdap(settings: ConnectionSettings, error: ServiceError) -> CheckResult:
    """A failed read of the partner tenant's GDAP customers or relationships, as a check."""
    if error.service == "login":
        return diagnose_partner(settings, error)
    if isinstance(error, PermissionDenied):
        return _fail(
            "GDAP",
            f"the app may not read GDAP customers ({_status(error)})",
            f"grant app {settings.client_id} the application permission "
            "DelegatedAdminRelationship.Read.All and admin-consent it in the partner tenant",
            error,
        )
    return _fail("GDAP", f"cannot list GDAP customers: {_short(error)}", _generic_fix(error), error)


async def _cipp(settings: ConnectionSettings, conn: Connections) -> CheckResult:
    cipp = settings.cipp
    assert cipp is not None
    try:
        await conn.tokens.token(cipp.tenant_id, "cipp")
        me = await conn.cipp().me()
    except ServiceError as error:
        return diagnose_cipp(settings, error)
    who = me.get("clientPrincipal") if isinstance(me, dict) else None
    roles = who.get("userRoles") if isinstance(who, dict) else None
    suffix = f" (roles: {', '.join(map(str, roles))})" if isinstance(roles, list) and roles else ""
    return CheckResult("CIPP", True, f"{cipp.base_url} answers /api/me{suffix}")


def diagnose_cipp(settings: ConnectionSettings, error: ServiceError) -> CheckResult:
    """A failed token request for CIPP's API, or a failed CIPP call, as a check."""
    cipp = settings.cipp
    assert cipp is not None
    source = cipp.secret.source or "the CIPP secret"
    code = _aadsts(error)
    if isinstance(error, CredentialError) and code in (BAD_SECRET, EXPIRED_SECRET):
        what = "has expired" if code == EXPIRED_SECRET else "is wrong (rotated?)"
        return _fail(
            "CIPP",
            f"the CIPP API client secret {what}",
            f"create a new secret for CIPP's API client {cipp.client_id} "
            f"(CIPP > Settings > CIPP-API) and update {source}",
            error,
        )
    if isinstance(error, CredentialError) and code == APP_NOT_FOUND:
        return _fail(
            "CIPP",
            f"CIPP's API client {cipp.client_id} was not found in tenant {cipp.tenant_id}",
            "copy the client id from CIPP > Settings > CIPP-API into spec.cipp.clientId",
            error,
        )
    if error.service == "login" and isinstance(error, TemporaryError):
        return _fail(
            "CIPP",
            f"cannot reach the login service {settings.endpoints.login}",
            "check the network (proxy, firewall) and spec.endpoints.login",
            error,
        )
    if error.service == "cipp" and isinstance(error, TemporaryError) and error.status is None:
        return _fail(
            "CIPP",
            f"CIPP is unreachable at {cipp.base_url} ({error.message.rsplit(': ', 1)[-1]})",
            "check spec.cipp.baseUrl and that the CIPP instance is running",
            error,
        )
    if error.service == "cipp" and isinstance(error, PermissionDenied):
        return _fail(
            "CIPP",
            f"CIPP refused the API client ({_status(error)})",
            f"give API client {cipp.client_id} a role in CIPP > Settings > CIPP-API",
            error,
        )
    return _fail("CIPP", f"CIPP check failed: {_short(error)}", _generic_fix(error), error)


def diagnose_partner(settings: ConnectionSettings, error: ServiceError) -> CheckResult:
    """A failed token request in the partner tenant (the app's own credential), as a check."""
    code = _aadsts(error)
    source = settings.credential.source or "the partner credential"
    login = settings.endpoints.login
    if isinstance(error, CredentialError) and code == BAD_SECRET:
        return _fail(
            "partner app",
            f"the client secret of app {settings.client_id} is wrong",
            f"copy the secret's Value (not its Secret ID) from Entra > App registrations > "
            f"Certificates & secrets into {source}",
            error,
        )
    if isinstance(error, CredentialError) and code == EXPIRED_SECRET:
        return _fail(
            "partner app",
            f"the client secret of app {settings.client_id} has expired",
            f"create a new client secret in Entra > App registrations > Certificates & secrets "
            f"and update {source}",
            error,
        )
    if isinstance(error, CredentialError) and code == APP_NOT_FOUND:
        return _fail(
            "partner app",
            f"app {settings.client_id} was not found in partner tenant {settings.partner_tenant_id}",
            "check spec.partner.clientId and spec.partner.tenantId in msp.yaml",
            error,
        )
    if isinstance(error, ConsentMissing):
        url = admin_consent_url(login, settings.partner_tenant_id, settings.client_id)
        return _fail(
            "partner app",
            "admin consent is missing in the partner tenant",
            f"a Global Administrator of the partner tenant opens {url}",
            error,
        )
    if isinstance(error, UnknownTenant):
        return _fail(
            "partner app",
            f"partner tenant {settings.partner_tenant_id} does not exist in this cloud",
            "check spec.partner.tenantId and spec.cloud in msp.yaml",
            error,
        )
    if isinstance(error, TemporaryError):
        return _fail(
            "partner app",
            f"cannot reach the login service {login}",
            "check the network (proxy, firewall) and spec.endpoints.login",
            error,
        )
    return _fail(
        "partner app", f"token request failed: {_short(error)}", _generic_fix(error), error
    )


def _fail(name: str, summary: str, fix: str, error: ServiceError) -> CheckResult:
    return CheckResult(name, False, summary, fix, error.code)


def _aadsts(error: ServiceError) -> int | None:
    code = error.code or ""
    return int(code[6:]) if code.startswith("AADSTS") and code[6:].isdigit() else None


def _status(error: ServiceError) -> str:
    return f"HTTP {error.status}" if error.status else type(error).__name__


def _short(error: ServiceError) -> str:
    return str(error).splitlines()[0][:200]


def _generic_fix(error: ServiceError) -> str:
    if isinstance(error, TemporaryError):
        return "try again in a few minutes"
    return "see the message above; re-run with -vv for the request id"
