"""Policy and approval: which operations of a plan may run, and who said so.

:mod:`~controller.policy.decide` is pure: :func:`decide` fills in each operation's decision and
each tenant's guard violations; :func:`policy_failures` says why a plan fails its policy check.
:mod:`~controller.policy.approvals` reads plan files and reads and writes approval records
under ``approvals/`` (local files only: no credentials, no network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller._lazy import lazy_names

if TYPE_CHECKING:
    from controller.policy.approvals import (
        APPROVAL_FORMAT_VERSION,
        DEFAULT_APPROVALS_DIR,
        ApprovalRecord,
        ApprovalSet,
        ApprovedOperation,
        StoredApproval,
        approval_bytes,
        build_approval,
        create_approval,
        load_approvals,
        parse_duration,
        read_plan,
        write_approval,
    )
    from controller.policy.decide import (
        GUARD_OVERRIDE_FLAG,
        MANUAL_REASON,
        decide,
        parse_guard_override,
        policy_failures,
    )

__getattr__ = lazy_names(
    __name__,
    {
        "APPROVAL_FORMAT_VERSION": "controller.policy.approvals",
        "DEFAULT_APPROVALS_DIR": "controller.policy.approvals",
        "ApprovalRecord": "controller.policy.approvals",
        "ApprovalSet": "controller.policy.approvals",
        "ApprovedOperation": "controller.policy.approvals",
        "StoredApproval": "controller.policy.approvals",
        "approval_bytes": "controller.policy.approvals",
        "build_approval": "controller.policy.approvals",
        "create_approval": "controller.policy.approvals",
        "load_approvals": "controller.policy.approvals",
        "parse_duration": "controller.policy.approvals",
        "read_plan": "controller.policy.approvals",
        "write_approval": "controller.policy.approvals",
        "GUARD_OVERRIDE_FLAG": "controller.policy.decide",
        "MANUAL_REASON": "controller.policy.decide",
        "decide": "controller.policy.decide",
        "parse_guard_override": "controller.policy.decide",
        "policy_failures": "controller.policy.decide",
    },
)

__all__ = [
    "APPROVAL_FORMAT_VERSION",
    "DEFAULT_APPROVALS_DIR",
    "GUARD_OVERRIDE_FLAG",
    "MANUAL_REASON",
    "ApprovalRecord",
    "ApprovalSet",
    "ApprovedOperation",
    "StoredApproval",
    "approval_bytes",
    "build_approval",
    "create_approval",
    "decide",
    "load_approvals",
    "parse_duration",
    "parse_guard_override",
    "policy_failures",
    "read_plan",
    "write_approval",
]
