"""The one place per service where an HTTP answer that failed becomes a typed error.

Each ``*_error`` function reads the service's own error shape (API-NOTES.md) and picks the
class from the status and the service's code, never from the wording of a message (the one
documented exception is in ``GraphClient.add_member``). Messages hold no payload, token or
secret; they may quote the service's own message, which passes through
:func:`~controller.redaction.redact_text` here first: a proxy or a misbehaving service that
echoes the request (its ``Authorization`` header, a token, a URL with a signature) shows
nothing of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from controller.connectors._headers import header, retry_after
from controller.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    Service,
    ServiceError,
    ServiceFault,
    Throttled,
    Transient,
)
from controller.redaction import redact_text

#: Graph's code for a report that needs Entra ID P1/P2 (observe says "needs licence").
LICENCE_REQUIRED = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


def is_licence_required(error: ServiceError) -> bool:
    """True when the tenant lacks the licence (Entra ID P1/P2) a report needs."""
    return isinstance(error, PermissionDenied) and error.code == LICENCE_REQUIRED


def _by_status(
    status: int,
    message: str,
    *,
    service: Service,
    tenant: str | None,
    code: str | None,
    request_id: str | None,
    headers: Mapping[str, str],
) -> ServiceError:
    message = redact_text(message)
    common: dict[str, Any] = {
        "service": service,
        "tenant": tenant,
        "status": status,
        "code": redact_text(code) if code else code,
        "request_id": request_id,
    }
    wait = retry_after(headers)
    if status == 429:
        return Throttled(message, delay=1.0 if wait is None else wait, **common)
    if status in TRANSIENT_STATUSES or status == 408:
        return Transient(message, delay=0.0 if wait is None else wait, **common)
    if status in (401, 403):
        return PermissionDenied(message, **common)
    if status == 404:
        return NotFound(message, **common)
    if status in (409, 412):
        return Conflict(message, **common)
    if status == 400:
        return BadRequest(message, **common)
    return ServiceFault(message, **common)


def graph_error(
    status: int, headers: Mapping[str, str], body: Any, *, tenant: str | None
) -> ServiceError:
    """``{"error":{"code","message","innerError":{"request-id"}}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    inner = error.get("innerError") or error.get("innererror") or {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = str(error.get("message") or f"HTTP {status}")
    request_id = header(headers, "request-id") or (
        inner.get("request-id") if isinstance(inner, dict) else None
    )
    return _by_status(
        status,
        message,
        service="graph",
        tenant=tenant,
        code=code,
        request_id=request_id,
        headers=headers,
    )


# Exchange messages look like "|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't ..."
_EXCHANGE_TYPE = re.compile(r"\|?(?:[\w]+\.)*(\w+(?:Exception|Error))\|")


def exchange_error(
    status: int, headers: Mapping[str, str], body: Any, *, tenant: str | None
) -> ServiceError:
    """Messages in ``error.details[].message`` or ``error.innererror.internalException``;
    the exception type (e.g. ``ManagementObjectNotFoundException``) becomes the code."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    messages: list[str] = []
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("message"):
            messages.append(str(detail["message"]))
    inner = error.get("innererror") or error.get("innerError") or {}
    internal = inner.get("internalException") if isinstance(inner, dict) else None
    exception_type: str | None = None
    if isinstance(internal, dict):
        if internal.get("message"):
            messages.append(str(internal["message"]))
        if isinstance(internal.get("type"), str):
            exception_type = internal["type"].rsplit(".", 1)[-1]
    if not messages and error.get("message"):
        messages.append(str(error["message"]))
    raw = messages[0] if messages else f"HTTP {status}"
    match = _EXCHANGE_TYPE.search(raw)
    if match:
        exception_type = exception_type or match.group(1)
        raw = raw[match.end() :].strip() or raw
    code = exception_type or (error.get("code") if isinstance(error.get("code"), str) else None)
    request_id = header(headers, "request-id") or header(headers, "x-ms-request-id")
    raw = redact_text(raw)
    common: dict[str, Any] = {
        "service": "exchange",
        "tenant": tenant,
        "status": status,
        "code": redact_text(code) if code else code,
        "request_id": request_id,
    }
    if exception_type and status < 500 and status not in (401, 403, 429):
        if "NotFound" in exception_type:
            return NotFound(raw, **common)
        # A taken address comes back as ProxyAddressExistsException or, from New-Mailbox and
        # New-DistributionGroup, as WLCDManagedMemberExistsException ("The proxy address
        # ... is already being used"): every "...ExistsException" is a clash.
        if "AlreadyExists" in exception_type or exception_type.endswith("ExistsException"):
            return Conflict(raw, **common)
    return _by_status(
        status,
        raw,
        service="exchange",
        tenant=tenant,
        code=code,
        request_id=request_id,
        headers=headers,
    )


def cipp_text(body: Any) -> str | None:
    """CIPP's own words in an answer, or None. CIPP answers ``{"Results": str | [str | {...}]}``
    from its change endpoints, a list of strings or a bare string from its lists and its access
    check (the ``Body`` of each function's ``HttpResponseContext``, CIPP-API
    ``Modules/CIPPHTTP/Public/Entrypoints/HTTP Functions/``)."""
    if isinstance(body, dict):
        body = body.get("Results", body.get("error"))
    if isinstance(body, list):
        body = next((item for item in body if item), None)
    if isinstance(body, dict):
        body = body.get("resultText") or body.get("message")
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return None


def cipp_error(
    status: int, headers: Mapping[str, str], body: Any, *, tenant: str | None
) -> ServiceError:
    """CIPP's first result string (:func:`cipp_text`) is the message and the code observe and
    apply can show. Which class a CIPP failure is, beyond its status, is read from its body
    in ``_retry.by_cipp_body``."""
    text = cipp_text(body)
    return _by_status(
        status,
        text or f"HTTP {status}",
        service="cipp",
        tenant=tenant,
        code=text,
        request_id=header(headers, "x-ms-request-id") or header(headers, "request-id"),
        headers=headers,
    )


def partner_center_error(
    status: int, headers: Mapping[str, str], body: Any, *, tenant: str | None
) -> ServiceError:
    """``{"code": 600, "description": "...", "errorName": "..."}``."""
    code: str | None = None
    message = f"HTTP {status}"
    if isinstance(body, dict):
        if body.get("errorName") or body.get("code") is not None:
            code = str(body.get("errorName") or body.get("code"))
        message = str(body.get("description") or body.get("message") or message)
    return _by_status(
        status,
        message,
        service="partnerCenter",
        tenant=tenant,
        code=code,
        request_id=header(headers, "MS-CorrelationId") or header(headers, "request-id"),
        headers=headers,
    )


TRANSLATORS = {
    "graph": graph_error,
    "exchange": exchange_error,
    "cipp": cipp_error,
    "partnerCenter": partner_center_error,
}


def translate(
    service: Service, status: int, headers: Mapping[str, str], body: Any, *, tenant: str | None
) -> ServiceError:
    if service == "login":  # tokens are translated in _auth.token_error
        return ServiceFault(f"HTTP {status}", service="login", tenant=tenant, status=status)
    return TRANSLATORS[service](status, headers, body, tenant=tenant)
