"""The ``requests`` session Key Vault's azure-core transport runs over trusts exactly what the
HTTP core trusts (README, spec.caBundle: extra CAs on top of the public roots), and nothing
from the environment."""

from __future__ import annotations

import ssl
from pathlib import Path

from requests.adapters import HTTPAdapter

from controller.connectors._http import ssl_context
from controller.connectors._requests import requests_session
from controller.sandbox._tls import ensure_certificates


def _roots(context: ssl.SSLContext) -> set[str]:
    return {
        dict(part[0] for part in cert["subject"]).get("commonName", "")
        for cert in context.get_ca_certs()
    }


def test_the_session_and_the_http_core_trust_the_same_roots(tmp_path: Path) -> None:
    ca_path, _, _ = ensure_certificates(tmp_path / "ca")
    session = requests_session(str(ca_path))
    adapter = session.get_adapter("https://vault.azure.net/")
    assert isinstance(adapter, HTTPAdapter)
    context = adapter.poolmanager.connection_pool_kw.get("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    core_roots = _roots(ssl_context(ca_path))
    assert _roots(context) == core_roots
    assert "tenantctl sandbox CA" in core_roots  # the extra CA, from caBundle
    assert "ISRG Root X1" in core_roots  # a public root, from certifi
    assert session.trust_env is False  # no REQUESTS_CA_BUNDLE, no proxy from the environment
