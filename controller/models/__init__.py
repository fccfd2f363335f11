"""Desired-state models (pydantic v2): what an MSP writes in ``desired/``.

Pure: no I/O. Loading YAML and locating errors is the loader's job.
"""

from controller.models.common import (
    API_VERSION,
    LITERAL_SECRET,
    SecretRef,
    address_domain,
)
from controller.models.estate import DesiredState, ProfileReport
from controller.models.msp import (
    DEFAULT_GUARDS,
    Approver,
    CippConnection,
    Guards,
    MSPConfig,
    PartnerConnection,
    Policy,
    PolicyRules,
)
from controller.models.operations import (
    DELETIONS,
    DISABLES,
    EXCHANGE_KINDS,
    MEMBER_REMOVALS,
    Decision,
    MailboxRight,
    OperationKind,
    kinds_matching,
)
from controller.models.profile import (
    PLACEHOLDERS,
    AppliedProfile,
    ProfileConfig,
    ProfileFile,
    ProfileMode,
)
from controller.models.provenance import Provenance, Source
from controller.models.tenant import (
    EXCHANGE_MANAGING_MODES,
    Action,
    Checks,
    DistributionGroup,
    Group,
    SharedMailbox,
    TenantConfig,
    TenantSpec,
    User,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_GUARDS",
    "DELETIONS",
    "DISABLES",
    "EXCHANGE_KINDS",
    "EXCHANGE_MANAGING_MODES",
    "LITERAL_SECRET",
    "MEMBER_REMOVALS",
    "PLACEHOLDERS",
    "Action",
    "AppliedProfile",
    "Approver",
    "Checks",
    "CippConnection",
    "Decision",
    "DesiredState",
    "DistributionGroup",
    "Group",
    "Guards",
    "MSPConfig",
    "MailboxRight",
    "OperationKind",
    "PartnerConnection",
    "Policy",
    "PolicyRules",
    "ProfileConfig",
    "ProfileFile",
    "ProfileMode",
    "ProfileReport",
    "Provenance",
    "SecretRef",
    "SharedMailbox",
    "Source",
    "TenantConfig",
    "TenantSpec",
    "User",
    "address_domain",
    "kinds_matching",
]
