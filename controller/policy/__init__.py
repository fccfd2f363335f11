"""Policy and approval: which operations of a plan may run, and who said so.

Pure except :mod:`controller.policy.approvals`, which reads and writes approval records (files
under ``approvals/``; no credentials, no network). :func:`decide` fills in each operation's
decision and each tenant's guard violations; :func:`policy_failures` says why a plan fails its
policy check.
"""

from controller.policy.decide import (
    GUARD_OVERRIDE_FLAG,
    MANUAL_REASON,
    decide,
    parse_guard_override,
    policy_failures,
)

__all__ = [
    "GUARD_OVERRIDE_FLAG",
    "MANUAL_REASON",
    "decide",
    "parse_guard_override",
    "policy_failures",
]
