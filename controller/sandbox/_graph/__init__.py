"""Microsoft Graph v1.0: the subset tenantctl uses, with Graph's mechanics.

Enforces the app roles carried in the token (403 ``Authorization_RequestDenied``), answers
with Graph's error body and a ``request-id`` header, pages with ``@odata.nextLink``, hides new
objects for the replication delay, throttles per tenant in resource units (``x-ms-resource-unit``)
and runs ``$batch`` with per-item status, ``dependsOn``/424 and per-item 429.

Where things are:

- ``_service``: the entry point (authentication, then ``$batch`` or a route)
- ``_routes``: the route table (every path, its cost and write flag) and the dispatcher that
  charges the throttle and runs a handler
- ``_batch``: ``POST /$batch``
- ``_odata``: what every resource shares: errors, the ``Call``, ``$filter``, ``$select``, paging
- ``_permissions``: the app roles each kind of access accepts
- one module per resource, each listing the endpoints it serves: ``_users`` (with licences
  and extensions), ``_groups`` (with members), ``_applications`` (service principals, app
  role assignments, consent), ``_directory_roles``, ``_directory`` (directory objects by id,
  deleted items), ``_organization`` (with subscribed SKUs), ``_gdap``, ``_reports`` (MFA
  registration, risky users)
"""

from controller.sandbox._catalog import EXCHANGE_APP_ID, GRAPH_APP_ID
from controller.sandbox._graph._odata import GraphError
from controller.sandbox._graph._service import GraphService

__all__ = ["EXCHANGE_APP_ID", "GRAPH_APP_ID", "GraphError", "GraphService"]
