"""Azure Key Vault's data plane for secrets: the partner tenant's vault, as the Key Vault SDK
for Python sees it.

Sources (docs/api-contract.md, "Azure Key Vault", has a row for each request):

- Challenge authentication: the SDK's first request goes without a token and without its
  body; the vault answers ``401`` with ``WWW-Authenticate: Bearer authorization="<login>/<tenant
  id>", resource="https://vault.azure.net"``; the SDK takes the tenant from the
  authorization URL's path and asks its credential for ``<resource>/.default`` in that tenant,
  then sends the request again with its body (azure-keyvault-secrets,
  ``azure/keyvault/secrets/_shared/challenge_auth_policy.py`` and ``http_challenge.py``). It
  checks that the vault's host ends with the resource's domain unless the client was built
  with ``verify_challenge_resource=False``, as it is for this sandbox's 127.0.0.1.
- ``PUT /secrets/{name}`` (SetSecret) creates a new version and answers the SecretBundle
  ``{value, id: <vault>/secrets/<name>/<version>, contentType, tags, attributes: {enabled, nbf,
  exp, created, updated, recoveryLevel, recoverableDays}}``, times in seconds since 1970;
  ``GET /secrets/{name}/{version}`` (GetSecret; an empty version is the latest) answers the
  same; ``GET /secrets/{name}/versions`` (GetSecretVersions) answers ``{value: [SecretItem
  without value], nextLink}``; ``PATCH /secrets/{name}/{version}`` (UpdateSecret) changes
  attributes, tags or content type and answers the bundle without its value. A name is
  ``^[0-9a-zA-Z-]{1,127}$`` (Key Vault REST reference, "Set Secret"; the SDK's generated
  ``_operations.py`` builds these paths).
- Errors are ``{"error": {"code", "message", "innererror"?}}``: ``404 SecretNotFound``; ``403
  Forbidden`` for a caller without access, with ``innererror.code`` ``ForbiddenByRbac`` on a
  vault using Azure RBAC ("Caller is not authorized to perform action on resource ...
  Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'") and ``ForbiddenByPolicy`` on
  one using access policies ("... does not have secrets set permission on key vault ...";
  older answers said ``AccessDenied``), as the service answers in the issues
  Azure/azure-libraries-for-net#1067 and hashicorp/terraform-provider-azurerm#17015; ``403
  Forbidden``/``SecretDisabled`` for reading a disabled version.

Which app may use the vault is ``World.vault.secrets_officers`` (the partner app, as if it held
Key Vault Secrets Officer); a test removes it to see the 403.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import KEY_VAULT_RESOURCE, AuthFailure, Runtime, authenticate
from controller.sandbox._world import SecretVersion

_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
_SECRET = re.compile(r"^/secrets/([^/]+)(?:/([^/]*))?/?$")
# The api-versions the SDK of this era sends (ApiVersion in azure-keyvault-secrets).
API_VERSIONS = frozenset(
    {"7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}
)
_ACTIONS = {"PUT": "setSecret", "PATCH": "setSecret", "GET": "getSecret"}


def _error(status: int, code: str, message: str, inner: str | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if inner is not None:
        body["innererror"] = {"code": inner}
    return Response(status, {"error": body}, {"x-ms-request-id": str(uuid.uuid4())})


class KeyVaultService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def tenant_hint(self, request: Request) -> str | None:
        return self.rt.world.partner.tenant_id

    def handle(self, request: Request) -> Response:
        challenge = self._challenge()
        try:
            claims = authenticate(self.rt, request, "keyVault")
        except AuthFailure as failure:
            message = (
                "AKV10000: Request is missing a Bearer or PoP token."
                if "empty" in failure.message
                else failure.message
            )
            response = _error(401, "Unauthorized", message)
            response.headers["WWW-Authenticate"] = challenge
            return response
        if claims.get("tid") != self.rt.world.partner.tenant_id:
            response = _error(401, "Unauthorized", "AKV10032: Invalid issuer.")
            response.headers["WWW-Authenticate"] = challenge
            return response
        if request.query.get("api-version") not in API_VERSIONS:
            return _error(
                400,
                "BadParameter",
                f"The specified version ({request.query.get('api-version')}) is not recognized.",
            )
        m = _SECRET.match(request.path)
        if m is None:
            return _error(404, "NotFound", f"{request.path} is not a secret's path.")
        name, version = m.group(1), m.group(2)
        if not _NAME.match(name):
            return _error(400, "BadParameter", f"The request URI contains an invalid name: {name}")
        denied = self._denied(request.method, name, claims)
        if denied is not None:
            return denied
        base = request.base_url
        if request.method == "PUT" and version is None:
            return self._set(base, name, request.json() or {})
        if request.method == "GET" and version == "versions":
            return self._versions(base, name)
        if request.method == "GET":
            return self._get(base, name, version or "")
        if request.method == "PATCH" and version:
            return self._update(base, name, version, request.json() or {})
        return _error(405, "MethodNotAllowed", f"{request.method} is not allowed here.")

    # --- authorization -----------------------------------------------------------------------

    def _challenge(self) -> str:
        login = self.rt.endpoints.get("login", "https://login.microsoftonline.com")
        tenant = self.rt.world.partner.tenant_id
        return f'Bearer authorization="{login}/{tenant}", resource="{KEY_VAULT_RESOURCE}"'

    def _denied(self, method: str, name: str, claims: dict[str, Any]) -> Response | None:
        vault = self.rt.world.vault
        app = str(claims.get("appid", ""))
        if app.lower() in {a.lower() for a in vault.secrets_officers}:
            return None
        caller = (
            f"appid={app};oid={claims.get('oid')};iss=https://sts.windows.net/{claims.get('tid')}/"
        )
        action = _ACTIONS.get(method, "getSecret")
        if vault.authorization == "rbac":
            return _error(
                403,
                "Forbidden",
                "Caller is not authorized to perform action on resource.\r\nIf role "
                "assignments, deny assignments or role definitions were changed recently, "
                f"please observe propagation time.\r\nCaller: {caller}\r\nAction: "
                f"'Microsoft.KeyVault/vaults/secrets/{action}/action'\r\nResource: "
                f"'/providers/microsoft.keyvault/vaults/{vault.name}/secrets/{name.lower()}'"
                "\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n"
                f"Vault: {vault.name};location=westeurope\r\n",
                "ForbiddenByRbac",
            )
        permission = "set" if method in ("PUT", "PATCH") else "get"
        return _error(
            403,
            "Forbidden",
            f"The user, group or application '{caller}' does not have secrets {permission} "
            f"permission on key vault '{vault.name};location=westeurope'. For help resolving "
            "this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            "ForbiddenByPolicy",
        )

    # --- the operations ----------------------------------------------------------------------

    def _set(self, base: str, name: str, body: dict[str, Any]) -> Response:
        value = body.get("value")
        if not isinstance(value, str):
            return _error(400, "BadParameter", "Property value is required.")
        attributes = body.get("attributes") or {}
        tags = body.get("tags") or {}
        if len(tags) > 15:
            return _error(400, "BadParameter", "A secret may have at most 15 tags.")
        now = int(self.rt.clock.now())
        version = SecretVersion(
            version=uuid.uuid4().hex,
            value=value,
            content_type=body.get("contentType"),
            tags={str(k): str(v) for k, v in tags.items()},
            enabled=bool(attributes.get("enabled", True)),
            created=now,
            updated=now,
            expires=attributes.get("exp"),
            not_before=attributes.get("nbf"),
        )
        self.rt.world.vault.secrets.setdefault(name, []).append(version)
        return Response(200, _bundle(base, name, version, with_value=True))

    def _find(self, name: str, version: str) -> SecretVersion | None:
        versions = self.rt.world.vault.secrets.get(name) or []
        if not version:
            return versions[-1] if versions else None
        return next((v for v in versions if v.version == version), None)

    def _get(self, base: str, name: str, version: str) -> Response:
        found = self._find(name, version)
        if found is None:
            return _not_found(name, version)
        if not found.enabled:
            return _error(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
                "SecretDisabled",
            )
        return Response(200, _bundle(base, name, found, with_value=True))

    def _versions(self, base: str, name: str) -> Response:
        versions = self.rt.world.vault.secrets.get(name)
        if not versions:
            return _not_found(name, "")
        items = [_bundle(base, name, v, with_value=False) for v in versions]
        return Response(200, {"value": items, "nextLink": None})

    def _update(self, base: str, name: str, version: str, body: dict[str, Any]) -> Response:
        found = self._find(name, version)
        if found is None:
            return _not_found(name, version)
        attributes = body.get("attributes") or {}
        if "enabled" in attributes:
            found.enabled = bool(attributes["enabled"])
        if "exp" in attributes:
            found.expires = attributes["exp"]
        if "tags" in body and body["tags"] is not None:
            found.tags = {str(k): str(v) for k, v in body["tags"].items()}
        if body.get("contentType") is not None:
            found.content_type = body["contentType"]
        found.updated = int(self.rt.clock.now())
        return Response(200, _bundle(base, name, found, with_value=False))


def _not_found(name: str, version: str) -> Response:
    return _error(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name}{'/' + version if version else ''} was not found in "
        "this key vault. If you recently deleted this secret you may be able to recover it "
        "using the correct recovery command. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125182",
    )


def _bundle(base: str, name: str, version: SecretVersion, *, with_value: bool) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": 90,
    }
    if version.expires is not None:
        attributes["exp"] = version.expires
    if version.not_before is not None:
        attributes["nbf"] = version.not_before
    bundle: dict[str, Any] = {
        "id": f"{base}/secrets/{name}/{version.version}",
        "attributes": attributes,
        "tags": dict(version.tags),
    }
    if version.content_type is not None:
        bundle["contentType"] = version.content_type
    if with_value:
        bundle = {"value": version.value, **bundle}
    return bundle
