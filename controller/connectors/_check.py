"""Connection checks as values: a :class:`CheckResult` per check, and the diagnosis of a
failed call to the partner tenant, GDAP or CIPP (a one-line summary and the fix, written for
the MSP engineer who just registered the app).

``tenantctl connect check`` runs them through
:func:`controller.observe.partner.check_connections`; ``plan`` records the same diagnosis when
a partner-level read fails while observing. Nothing here calls a service.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.connectors._auth import (
    APP_NOT_FOUND,
    BAD_SECRET,
    EXPIRED_SECRET,
    admin_consent_url,
)
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
        return _login_unreachable("CIPP", settings, error)
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
        return _login_unreachable("partner app", settings, error)
    return _fail(
        "partner app", f"token request failed: {_short(error)}", _generic_fix(error), error
    )


def _fail(name: str, summary: str, fix: str, error: ServiceError) -> CheckResult:
    return CheckResult(name, False, summary, fix, error.code)


def _login_unreachable(name: str, settings: ConnectionSettings, error: ServiceError) -> CheckResult:
    return _fail(
        name,
        f"cannot reach the login service {settings.endpoints.login}",
        "check the network (proxy, firewall) and spec.endpoints.login",
        error,
    )


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
