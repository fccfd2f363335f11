"""A ``requests`` session that trusts exactly what the HTTP core trusts (Key Vault's
azure-core transport runs over it)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import requests
import requests.adapters

from controller.connectors._http import ssl_context


class _TrustAdapter(requests.adapters.HTTPAdapter):
    """Verifies TLS with the same context as the HTTP core (:func:`ssl_context`)."""

    def __init__(self, context: ssl.SSLContext, pool_size: int) -> None:
        self._context = context
        super().__init__(pool_maxsize=pool_size)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["ssl_context"] = self._context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def requests_session(ca_bundle: str | None, *, pool_size: int = 16) -> requests.Session:
    """A requests session trusting exactly what the HTTP core trusts: the public roots
    (certifi) plus ``spec.caBundle``'s extra CAs, as the README says. ``trust_env`` is off, as
    for httpx: no CA bundle or proxy comes in from the environment behind the configuration's
    back. ``pool_size`` connections are kept per host (requests keeps 10 by default and
    drops the others after each use)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _TrustAdapter(ssl_context(Path(ca_bundle) if ca_bundle else None), pool_size)
    session.mount("https://", adapter)
    return session
