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

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tenantctl")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
