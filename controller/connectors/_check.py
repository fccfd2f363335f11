"""Connection checks as values: a :class:`CheckResult` per check, and the diagnosis of a
failed call to the partner tenant, GDAP or CIPP (a one-line summary and the fix, written for
the MSP engineer who just registered the app).

``tenantctl connect check`` runs them through
:func:`controller.observe.partner.check_connections`; ``plan`` records the same diagnosis when
a partner-level read fails while observing. Nothing here calls a service.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controller.connectors._auth import (
    APP_NOT_FOUND,
    BAD_SECRET,
    EXPIRED_SECRET,
    admin_consent_url,
)
from controller.connectors._retry import RetryPolicy
from controller.connectors._settings import (
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    ConnectionSettings,
)
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


#: How long before the partner credential expires ``connect check`` starts to warn.
EXPIRY_WARNING = dt.timedelta(days=30)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    summary: str
    fix: str | None = None
    code: str | None = None
    warning: bool = False  # works, but needs a person soon (a secret about to expire)

    @property
    def status(self) -> str:
        """``ok``, ``warning`` or ``failed``: the ``status`` of ``connect check -o json``."""
        if not self.ok:
            return "failed"
        return "warning" if self.warning else "ok"

    def line(self) -> str:
        """One line: ``ok   NAME  summary``, ``WARN NAME  summary; fix: ...`` or
        ``FAIL NAME  summary; fix: ...``."""
        mark = {"ok": "ok  ", "warning": "WARN", "failed": "FAIL"}[self.status]
        text = f"{mark}  {self.name:<12}  {self.summary}"
        return f"{text}; fix: {self.fix}" if self.fix else text


@dataclass(frozen=True)
class CredentialExpiry:
    """What the credential check needs besides the app registration: the time as the services
    see it, and ``spec.partner.credential.notAfter`` for an app that may not read itself."""

    now: dt.datetime
    declared: dt.datetime | None = None
    warn_within: dt.timedelta = EXPIRY_WARNING


def credential_expiry(
    settings: ConnectionSettings,
    expiry: CredentialExpiry,
    application: Mapping[str, Any] | None,
    error: ServiceError | None = None,
) -> CheckResult:
    """When the partner app's secret or certificate expires, from its app registration
    (``GET /applications(appId='...')``: ``passwordCredentials`` / ``keyCredentials``), or from
    ``notAfter`` in msp.yaml when that read failed (``error``). Warns ``warn_within`` ahead."""
    credential = settings.credential
    if isinstance(credential, ClientAssertion):
        return CheckResult("credential", True, "federated credential: no secret to expire")
    what = "client secret" if isinstance(credential, ClientSecret) else "certificate"
    if application is not None:
        ends = _credential_ends(credential, application)
        if not ends:
            return CheckResult(
                "credential",
                True,
                f"the app registration lists no {what}, so its expiry is unknown",
                warning=True,
            )
        return _expiry_result(settings, expiry, what, max(ends), "app registration")
    if expiry.declared is not None:
        return _expiry_result(settings, expiry, what, expiry.declared, "msp.yaml notAfter")
    why = (
        "the app may not read its own registration"
        if isinstance(error, PermissionDenied)
        else f"its app registration could not be read ({_short(error) if error else 'no answer'})"
    )
    return CheckResult(
        "credential",
        True,
        f"when the {what} expires is unknown: {why}",
        f"grant app {settings.client_id} Application.Read.All in the partner tenant, or set "
        "spec.partner.credential.notAfter in msp.yaml to the expiry shown in Entra",
        error.code if error else None,
        warning=True,
    )


def _credential_ends(
    credential: ClientSecret | ClientCertificate, application: Mapping[str, Any]
) -> list[dt.datetime]:
    """The end of the credential in use (several when it cannot be told apart, e.g. a secret
    rotated in place), else of every credential of its kind."""
    if isinstance(credential, ClientSecret):
        listed = _listed(application.get("passwordCredentials"))
        # Graph shows a secret's first three characters as its hint.
        in_use = [c for c in listed if c.get("hint") and credential.value.startswith(c["hint"])]
    else:
        listed = [
            c for c in _listed(application.get("keyCredentials")) if c.get("usage") != "Encrypt"
        ]
        wanted = credential.thumbprint.lower()
        in_use = [c for c in listed if _thumbprint(c.get("customKeyIdentifier")) == wanted]
    ends = [_moment(c.get("endDateTime")) for c in (in_use or listed)]
    return [end for end in ends if end is not None]


def _expiry_result(
    settings: ConnectionSettings,
    expiry: CredentialExpiry,
    what: str,
    ends: dt.datetime,
    source: str,
) -> CheckResult:
    left = ends - expiry.now
    when = f"{ends.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    rotate = (
        f"create a new {what} for app {settings.client_id} (Entra > App registrations > "
        f"Certificates & secrets), update {settings.credential.source or 'the credential'}, "
        "run `tenantctl connect check`, then delete the old one"
    )
    if left <= dt.timedelta(0):
        return CheckResult("credential", False, f"the {what} expired on {when} ({source})", rotate)
    days = math.ceil(left / dt.timedelta(days=1))
    summary = f"the {what} expires on {when}, in {days} day{'s' if days != 1 else ''} ({source})"
    if left <= expiry.warn_within:
        return CheckResult("credential", True, summary, rotate, warning=True)
    return CheckResult("credential", True, summary)


def _listed(value: Any) -> list[Mapping[str, Any]]:
    return [c for c in value if isinstance(c, Mapping)] if isinstance(value, Sequence) else []


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _thumbprint(custom_key_identifier: Any) -> str | None:
    """A certificate's ``customKeyIdentifier`` is its SHA-1 thumbprint, base64-encoded (Graph's
    Binary type); the portal's hex form is accepted too."""
    if not isinstance(custom_key_identifier, str):
        return None
    text = custom_key_identifier.strip()
    if len(text) == 40 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


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
