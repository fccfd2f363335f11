"""Connectors: the only code that talks to login, Graph, Exchange, CIPP and Partner Center.

Everything below observe and apply. Open one :class:`Connections` per run and ask it for a
client per tenant::

    settings = settings_from_msp(msp)
    async with Connections(settings) as connections:
        graph = connections.graph(tenant_id)
        found = await graph.read_many({"users": GraphUrls.users(), "skus": GraphUrls.subscribed_skus()})

Every failure is a :class:`controller.errors.ServiceError` subclass carrying the service, the
tenant, the status, the service's own code and the request id. A failed read is an error,
never an empty result.

Implementation modules are private (``_auth``, ``_http``, ...); this module's ``__all__`` is
the public surface.
"""

from controller.connectors._accounting import Accounting, Usage, estimate_graph_units
from controller.connectors._auth import Resource, TokenProvider, admin_consent_url, token_error
from controller.connectors._check import (
    EXPIRY_WARNING,
    CheckResult,
    CredentialExpiry,
    credential_expiry,
    diagnose_cipp,
    diagnose_gdap,
    diagnose_partner,
)
from controller.connectors._cipp_results import CippResult, PasswordReset, parse_results
from controller.connectors._connections import Connections
from controller.connectors._endpoints import CLOUD_ENDPOINTS, ServiceEndpoints, endpoints_for
from controller.connectors._exchange_adapter import (
    ExchangeAdapter,
    FailedRead,
    Holders,
    IdLookup,
    ObjectRef,
    Recipient,
)
from controller.connectors._exchange_cipp import CippExchange
from controller.connectors._exchange_direct import DirectExchange
from controller.connectors._http import HttpCore, Route
from controller.connectors._messages import BatchOutcome, BatchRequest, ServiceResponse
from controller.connectors._principals import graph_principals
from controller.connectors._retry import RetryPolicy
from controller.connectors._settings import (
    CippSettings,
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    ConnectionSettings,
    Credential,
    SecretResolver,
    settings_from_msp,
)
from controller.connectors._translate import LICENCE_REQUIRED, is_licence_required
from controller.connectors.cipp import CippClient
from controller.connectors.exchange import ExchangeClient, generic_hashtable
from controller.connectors.graph import (
    EXCHANGE_ADMINISTRATOR,
    EXCHANGE_APP_ID,
    GLOBAL_ADMINISTRATOR,
    GRAPH_APP_ID,
    PRIVILEGED_ROLE_ADMINISTRATOR,
    GraphClient,
    GraphUrls,
    ReadResult,
    app_role_ids,
)
from controller.connectors.partner_center import PartnerCenterClient
from controller.redaction import redact

__all__ = [
    "CLOUD_ENDPOINTS",
    "EXCHANGE_ADMINISTRATOR",
    "EXCHANGE_APP_ID",
    "EXPIRY_WARNING",
    "GLOBAL_ADMINISTRATOR",
    "GRAPH_APP_ID",
    "LICENCE_REQUIRED",
    "PRIVILEGED_ROLE_ADMINISTRATOR",
    "Accounting",
    "BatchOutcome",
    "BatchRequest",
    "CheckResult",
    "CippClient",
    "CippExchange",
    "CippResult",
    "CippSettings",
    "ClientAssertion",
    "ClientCertificate",
    "ClientSecret",
    "ConnectionSettings",
    "Connections",
    "Credential",
    "CredentialExpiry",
    "DirectExchange",
    "ExchangeAdapter",
    "ExchangeClient",
    "FailedRead",
    "GraphClient",
    "GraphUrls",
    "Holders",
    "HttpCore",
    "IdLookup",
    "ObjectRef",
    "PartnerCenterClient",
    "PasswordReset",
    "ReadResult",
    "Recipient",
    "Resource",
    "RetryPolicy",
    "Route",
    "SecretResolver",
    "ServiceEndpoints",
    "ServiceResponse",
    "TokenProvider",
    "Usage",
    "admin_consent_url",
    "app_role_ids",
    "credential_expiry",
    "diagnose_cipp",
    "diagnose_gdap",
    "diagnose_partner",
    "endpoints_for",
    "estimate_graph_units",
    "generic_hashtable",
    "graph_principals",
    "is_licence_required",
    "parse_results",
    "redact",
    "settings_from_msp",
    "token_error",
]
