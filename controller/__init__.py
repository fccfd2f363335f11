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

from typing import Any

__all__ = ["__version__"]


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
