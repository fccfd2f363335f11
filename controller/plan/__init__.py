"""Planning: desired x observed -> Plan.

Pure: no HTTP, no clock, no file system. The current time comes in through
:class:`PlanContext`; the planner imports models, never connectors. Same inputs give the same
plan, byte for byte.
"""

from controller.plan.context import PlanContext
from controller.plan.fingerprint import fingerprint
from controller.plan.planner import plan_estate, plan_tenant
from controller.plan.types import (
    PLAN_FORMAT_VERSION,
    Backend,
    Badges,
    ExitStatus,
    FailedCheck,
    FieldChange,
    Finding,
    ManualStep,
    Operation,
    Plan,
    Problem,
    ServiceUsage,
    TenantPlan,
    UnknownArea,
)

__all__ = [
    "PLAN_FORMAT_VERSION",
    "Backend",
    "Badges",
    "ExitStatus",
    "FailedCheck",
    "FieldChange",
    "Finding",
    "ManualStep",
    "Operation",
    "Plan",
    "PlanContext",
    "Problem",
    "ServiceUsage",
    "TenantPlan",
    "UnknownArea",
    "fingerprint",
    "plan_estate",
    "plan_tenant",
]
