"""The HTTP client MSAL is given (``http_client=``, MSAL's documented extension point): one
that never touches the network.

MSAL is synchronous; the run is an event loop. MSAL used to run in worker threads whose
requests hopped onto the loop and back: four thread hand-offs per token, about 0.55 ms of
CPU each token (``bench/client_bench.py``), more than MSAL's own work. Now MSAL runs on the
loop and only *builds* each token request: :class:`Offline` answers MSAL's one read, the OIDC
discovery document of its authority, from the document the token provider read (once per
login host, on the loop), and stops MSAL at its token POST by raising :class:`Prepared` with
the request MSAL built (endpoint, form body with the client secret or the signed client
assertion, headers). The token provider sends that request on the loop through the HTTP
core's keep-alive transport and reads the answer itself (RFC 6749 sections 5.1 and 5.2, as
MSAL's ``oauth2cli`` reads it).

Discovery: every tenant's document differs from the first tenant's only in the tenant
segment of its endpoints and issuer, so the first document read for a login host is its
template (:class:`Discovery`) and MSAL gets each tenant's document derived from it. MSAL's
``http_cache`` does not do this: it keys discovery by the tenant's own URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit


class Answer(Protocol):
    """What MSAL reads of an HTTP answer."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Derived:
    """A discovery document derived here, never sent by the service."""

    text: str
    status_code: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"content-type": "application/json"})


@dataclass(frozen=True)
class TokenRequest:
    """The token request MSAL built, to be sent by the token provider."""

    url: str
    data: Mapping[str, str]
    headers: Mapping[str, str]
    params: Mapping[str, str] | None = None


class Prepared(BaseException):
    """Raised by :class:`Offline` at MSAL's token POST, carrying the request MSAL built.

    A ``BaseException``, as ``GeneratorExit`` is: it must pass through whatever MSAL wraps
    around its HTTP client (its throttling cache, its ``except`` clauses) untouched."""

    def __init__(self, request: TokenRequest) -> None:
        super().__init__(request.url)
        self.request = request


class NotOffline(RuntimeError):
    """MSAL asked for something :class:`Offline` cannot answer without the network (a bug
    here: the provider reads the discovery document before MSAL builds an app)."""


# -- discovery ----------------------------------------------------------------------------

_DISCOVERY = re.compile(r"^(https://[^/]+)/([^/]+)/v2\.0/\.well-known/openid-configuration$")


# A login host's discovery document: (the tenant segment of its endpoints, the document).
Template = tuple[str, str]


class Discovery:
    """The OIDC discovery documents of a run, one template per login host."""

    def __init__(self) -> None:
        self._templates: dict[str, Template] = {}
        self.fetched = 0  # discovery documents read from the network

    @property
    def templates(self) -> dict[str, Template]:
        """The discovery documents read so far, by login host."""
        return dict(self._templates)

    def knows(self, login: str) -> bool:
        return login in self._templates

    def learn(self, login: str, template: Template) -> None:
        """A login host's document (read here, or by another client of the run)."""
        self._templates.setdefault(login, template)

    def learn_document(self, login: str, document: str) -> bool:
        """Keep ``document`` (read from the network) as ``login``'s template, if it has a
        token endpoint with a tenant segment."""
        segment = _token_tenant(document)
        if segment is None:
            return False
        self.learn(login, (segment, document))
        return True

    def document(self, url: str) -> str | None:
        """The document for a discovery ``url``, derived from its host's template."""
        found = _DISCOVERY.match(url)
        if found is None:
            return None
        login, tenant = found.groups()
        template = self._templates.get(login)
        return _for_tenant(template, tenant) if template is not None else None


def discovery_url(login: str, tenant: str) -> str:
    """Where Entra publishes ``tenant``'s OIDC discovery document (MSAL's own URL for it)."""
    return f"{login}/{tenant}/v2.0/.well-known/openid-configuration"


class Offline:
    """MSAL's HTTP client: discovery answered from :class:`Discovery`, the token POST
    stopped with :class:`Prepared`, nothing sent."""

    def __init__(self, discovery: Discovery) -> None:
        self._discovery = discovery

    def get(self, url: str, **kwargs: Any) -> Answer:
        document = self._discovery.document(url)
        if document is None:
            raise NotOffline(f"MSAL asked for {url}, which is not a known discovery document")
        return Derived(document)

    def post(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        raise Prepared(TokenRequest(url, _form(data or {}), dict(headers or {}), params))

    def close(self) -> None:
        pass


def _form(data: Mapping[str, Any]) -> dict[str, str]:
    """MSAL's form fields as text. Its signed client assertion comes as ``bytes`` (the JWT in
    ASCII), which requests form-encoded as they are and httpx would send as ``"b'eyJ...'"``."""
    return {
        name: value.decode("ascii") if isinstance(value, bytes) else str(value)
        for name, value in data.items()
    }


def _token_tenant(document: str) -> str | None:
    """The tenant segment of a discovery document's token endpoint, when it has one."""
    try:
        endpoint = json.loads(document).get("token_endpoint")
    except (ValueError, AttributeError):
        return None
    if not isinstance(endpoint, str):
        return None
    parts = urlsplit(endpoint).path.split("/")
    return parts[1] if len(parts) > 2 and parts[1] else None


def _for_tenant(template: tuple[str, str], tenant: str) -> str:
    segment, document = template
    return document.replace(f"/{segment}/", f"/{tenant}/")
