"""tenantctl: GitOps for a managed service provider's Microsoft 365 customer tenants.

The package is laid out as the pipeline it runs::

    models/      desired-state models (pydantic), pure
    loader/      YAML files -> models, with located diagnostics, pure apart from reading files
    connectors/  the only code that talks to login, Graph, Exchange, CIPP, Partner Center
    observe/     connectors -> observed state per tenant (known / unknown per area)
    plan/        desired x observed -> Plan, a pure deterministic function
    policy/      Plan -> decisions (policy rules, guards, approvals), pure
    apply/       executes approved operations, journaled
    render/      views of a Plan: terminal, Markdown, JSON
    sandbox/     a stateful HTTPS emulator of the Microsoft and CIPP endpoints
    cli/         thin click commands on top
"""

import sys
from typing import Any

__all__ = ["__version__"]

# httpx's own command line (``httpx._main``, its ``httpx`` script) imports click, rich and
# pygments whenever they are installed, and httpx imports it on its first import (35-60 ms
# of every run that talks to a service). tenantctl never runs it. A module that is None in
# ``sys.modules`` fails to import, which httpx expects and catches: its stub ``main`` stays.
# Only before httpx is imported, and never over a module someone imported on purpose.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed metadata when asked (importlib.metadata
    costs 30 ms of every command's start otherwise)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("tenantctl")
    except PackageNotFoundError:  # running from a source tree without installation
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
