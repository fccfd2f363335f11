"""Entra login: OIDC discovery and the client-credentials token endpoint, as MSAL Python uses
them, with Entra's error bodies (``error``, ``error_description`` starting ``AADSTSnnnn:``,
``error_codes``, ``trace_id``, ``correlation_id``, ``timestamp``).

The tenant is the first path segment of every URL (``/{tenant}/oauth2/v2.0/token``) because
MSAL keys its token cache by host and that segment (API-NOTES.md).
"""

from __future__ import annotations

import re
from typing import Any

from controller.sandbox import _tokens
from controller.sandbox._catalog import (
    EXCHANGE_APP_ID,
    GRAPH_APP_ID,
    REQUIRED_EXCHANGE_ROLES,
    REQUIRED_GRAPH_ROLES,
)
from controller.sandbox._http import Request, Response
from controller.sandbox._ids import request_id
from controller.sandbox._runtime import KEY_VAULT_RESOURCE, PARTNER_CENTER_RESOURCE, Runtime
from controller.sandbox._world import Tenant, create_app_principal, grant_app_roles

_DISCOVERY = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$")
_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
_KEYS = re.compile(r"^/([^/]+)/discovery/v2\.0/keys$")
_ADMINCONSENT = re.compile(r"^/([^/]+)/(?:v2\.0/)?adminconsent$")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class LoginError(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


class LoginService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def tenant_hint(self, request: Request) -> str | None:
        segment = request.path.strip("/").split("/", 1)[0]
        tenant = self.rt.world.tenant(segment)
        if tenant is not None:
            return tenant.tenant_id
        return segment or None

    def handle(self, request: Request) -> Response:
        try:
            if request.method == "GET" and (m := _DISCOVERY.match(request.path)):
                return self._discovery(request, m.group(1))
            if request.method == "POST" and (m := _TOKEN.match(request.path)):
                return self._token(request, m.group(1))
            if request.method == "GET" and (m := _KEYS.match(request.path)):
                self._resolve_tenant(m.group(1))
                return Response(200, {"keys": []})
            if request.method == "GET" and (m := _ADMINCONSENT.match(request.path)):
                return self._admin_consent(request, m.group(1))
        except LoginError as problem:
            return self._error(request, problem)
        return self._error(
            request,
            LoginError(404, "invalid_request", 900561, "The endpoint only accepts POST requests."),
        )

    # --- helpers -------------------------------------------------------------------------

    def _resolve_tenant(self, key: str) -> tuple[str, str]:
        """(tenant id, display name) of the partner or a customer tenant, else AADSTS90002."""
        partner = self.rt.world.partner
        if key.lower() == partner.tenant_id or key.lower() in (d.lower() for d in partner.domains):
            return partner.tenant_id, partner.display_name
        tenant = self.rt.world.tenant(key)
        if tenant is None:
            raise LoginError(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{key}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud. Check with your subscription "
                "administrator, this may happen if there are no active subscriptions for the "
                "tenant.",
            )
        return tenant.tenant_id, tenant.display_name

    def _error(self, request: Request, problem: LoginError) -> Response:
        trace = request_id()
        correlation = request.headers.get("client-request-id") or request_id()
        stamp = self.rt.clock.now_datetime().strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": problem.error,
            "error_description": f"AADSTS{problem.code}: {problem.description} "
            f"Trace ID: {trace} Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [problem.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{request.base_url}/error?code={problem.code}",
        }
        return Response(problem.status, body, {"x-ms-request-id": trace})

    def _discovery(self, request: Request, key: str) -> Response:
        tid, _ = self._resolve_tenant(key)
        base = request.base_url
        return Response(
            200,
            {
                "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{tid}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{base}/oidc/userinfo",
                "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "roles"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "sandbox.local",
                "cloud_graph_host_name": "graph.sandbox.local",
                "msgraph_host": "graph.sandbox.local",
                "rbac_url": f"{base}/rbac",
            },
        )

    def _client_credential(self, form: dict[str, str], client_id: str, token_endpoint: str) -> None:
        """Check the secret or assertion of the partner app (raises on failure).

        An assertion is a JWT (RFC 7523): three base64url parts whose header is a JSON
        object naming its ``alg``. One signed with the app's certificate (its header names
        the certificate: ``x5t`` or ``x5t#S256``) has the app as ``iss`` and ``sub`` and the
        token endpoint as ``aud`` (Learn, "Microsoft identity platform application
        authentication certificate credentials", "Assertion format"). The signature itself
        is not checked: the sandbox does not hold the app's certificates."""
        app = self.rt.world.partner.app
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if secret is None and assertion is None:
            raise LoginError(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )
        if secret is not None:
            if secret != app.secret:
                raise LoginError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the "
                    "request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{client_id}'.",
                )
            if app.secret_expired:
                raise LoginError(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate "
                    "credentials for added security: https://aka.ms/certCreds.",
                )
            return
        header = _tokens.header(assertion or "")
        claims = _tokens.peek(assertion or "")
        certificate = header is not None and ("x5t" in header or "x5t#S256" in header)
        if (
            form.get("client_assertion_type") != ASSERTION_TYPE
            or not app.accept_assertions
            or header is None
            or "alg" not in header
            or claims is None
            or str(claims.get("iss", "")).lower() != client_id
            or str(claims.get("sub", "")).lower() != client_id
            or (certificate and claims.get("aud") != token_endpoint)
        ):
            raise LoginError(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation.",
            )

    def _token(self, request: Request, key: str) -> Response:
        world = self.rt.world
        partner = world.partner
        form = request.form()
        tid, tenant_name = self._resolve_tenant(key)
        if form.get("grant_type") != "client_credentials":
            raise LoginError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form.get('grant_type')}'.",
            )
        client_id = form.get("client_id", "").lower()
        scope = form.get("scope", "")
        cipp = partner.cipp
        is_partner_tenant = tid == partner.tenant_id
        known_apps = {partner.app.client_id} | ({cipp.client_id} if cipp else set())
        # CIPP's API client is single-tenant: it exists only in the partner tenant.
        if client_id not in known_apps or (
            cipp is not None and client_id == cipp.client_id and not is_partner_tenant
        ):
            raise LoginError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant_name}'. This can happen if the application has not been installed "
                "by the administrator of the tenant or consented to by any user in the tenant. "
                "You may have sent your authentication request to the wrong tenant.",
            )
        customer = world.tenants.get(tid)
        sp = None
        if customer is not None and client_id == partner.app.client_id:
            sp = customer.sp_by_app_id(client_id)
            if sp is None:
                raise LoginError(
                    400,
                    "invalid_client",
                    7000229,
                    f"The client application {client_id} is missing service principal in the "
                    f"tenant {tid}. See instructions here: https://go.microsoft.com/fwlink/"
                    "?linkid=2225119",
                )
        if cipp is not None and client_id == cipp.client_id:
            if form.get("client_secret") != cipp.secret:
                raise LoginError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the "
                    "request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{client_id}'.",
                )
        else:
            # The audience a certificate assertion names: this tenant's token endpoint, as
            # the discovery document above gives it.
            endpoint = f"{request.base_url}/{tid}/oauth2/v2.0/token"
            self._client_credential(form, client_id, endpoint)

        resource = self._resource(scope, tenant_name)
        now = self.rt.clock.now()
        roles: list[str] = []
        if resource == self.rt.audience("cipp"):
            if client_id != (cipp.client_id if cipp else None):
                # Only CIPP's own client was granted CIPP's API roles.
                roles = []
            else:
                roles = [cipp.role] if cipp else []
        elif customer is not None and sp is not None:
            roles = self._roles(customer, sp.id, resource)
        elif (
            is_partner_tenant
            and client_id == partner.app.client_id
            and resource == self.rt.endpoints["graph"]
        ):
            roles = list(partner.app.partner_roles)
        lifetime = world.settings.token_lifetime
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"{request.base_url}/{tid}/v2.0",
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + lifetime),
            "aio": _tokens.new_id(),
            "app_displayname": partner.app.display_name
            if client_id == partner.app.client_id
            else "CIPP-API",
            "appid": client_id,
            "azp": client_id,
            "appidacr": "1",
            "idp": f"{request.base_url}/{tid}/",
            "idtyp": "app",
            "oid": sp.id if sp else _tokens.new_id(),
            "sub": sp.id if sp else client_id,
            "tid": tid,
            "roles": roles,
            "ver": "2.0",
            "uti": _tokens.new_id(),
        }
        token = _tokens.issue(world.token_key, claims)
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": lifetime - 1,
                "ext_expires_in": lifetime - 1,
                "access_token": token,
            },
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
            tenant_id=tid,
        )

    def _resource(self, scope: str, tenant_name: str) -> str:
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise LoginError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        resource = scopes[0][: -len("/.default")].rstrip("/")
        aliases = {
            self.rt.endpoints["graph"]: self.rt.endpoints["graph"],
            "https://graph.microsoft.com": self.rt.endpoints["graph"],
            GRAPH_APP_ID: self.rt.endpoints["graph"],
            self.rt.endpoints["exchange"]: self.rt.endpoints["exchange"],
            "https://outlook.office365.com": self.rt.endpoints["exchange"],
            EXCHANGE_APP_ID: self.rt.endpoints["exchange"],
            self.rt.endpoints["partnerCenter"]: PARTNER_CENTER_RESOURCE,
            PARTNER_CENTER_RESOURCE: PARTNER_CENTER_RESOURCE,
            # Key Vault's challenge names this resource whatever the vault's host is.
            KEY_VAULT_RESOURCE: KEY_VAULT_RESOURCE,
            self.rt.audience("cipp"): self.rt.audience("cipp"),
        }
        found = aliases.get(resource)
        if found is None:
            raise LoginError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant_name}. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant. "
                "You might have sent your authentication request to the wrong tenant.",
            )
        return found

    def _roles(self, tenant: Tenant, sp_id: str, resource: str) -> list[str]:
        app_id = GRAPH_APP_ID if resource == self.rt.endpoints["graph"] else EXCHANGE_APP_ID
        if resource not in (self.rt.endpoints["graph"], self.rt.endpoints["exchange"]):
            return []
        resource_sp = tenant.sp_by_app_id(app_id)
        if resource_sp is None:
            return []
        names = {r["id"]: r["value"] for r in resource_sp.app_roles}
        return sorted(
            names[a.app_role_id]
            for a in tenant.app_role_assignments
            if a.principal_id == sp_id
            and a.resource_id == resource_sp.id
            and a.app_role_id in names
        )

    def _admin_consent(self, request: Request, key: str) -> Response:
        """The admin-consent URL a person opens: the sandbox grants every required permission
        at once (the person is assumed to be the tenant's admin and to click Accept)."""
        tid, _ = self._resolve_tenant(key)
        tenant = self.rt.world.tenants.get(tid)
        app = self.rt.world.partner.app
        if tenant is None or request.query.get("client_id", "").lower() != app.client_id:
            raise LoginError(
                400, "invalid_request", 900144, "The request body must contain client_id."
            )
        now = self.rt.clock.now()
        sp = tenant.sp_by_app_id(app.client_id) or create_app_principal(
            tenant, app.client_id, app.display_name, now, now
        )
        grant_app_roles(tenant, sp, [*REQUIRED_GRAPH_ROLES, *REQUIRED_EXCHANGE_ROLES], now)
        return Response(
            200,
            f"<html><body>Consent granted for {app.display_name} in {tenant.display_name}."
            "</body></html>".encode(),
            content_type="text/html; charset=utf-8",
            tenant_id=tid,
        )
