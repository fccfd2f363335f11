"""Planning: desired x observed -> Plan.

Pure: no HTTP, no clock, no file system. The current time comes in through
:class:`PlanContext`; the planner imports models, never connectors. Same inputs give the same
plan, byte for byte.
"""

from controller.plan.types import (
    PLAN_FORMAT_VERSION,
    Backend,
    Badges,
    FieldChange,
    Finding,
    ManualStep,
    Operation,
    Plan,
    Problem,
    TenantPlan,
    UnknownArea,
)

__all__ = [
    "PLAN_FORMAT_VERSION",
    "Backend",
    "Badges",
    "FieldChange",
    "Finding",
    "ManualStep",
    "Operation",
    "Plan",
    "Problem",
    "TenantPlan",
    "UnknownArea",
]
