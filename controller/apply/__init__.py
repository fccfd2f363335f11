"""Apply: execute exactly what was approved, and record what happened.

This package holds the parts of apply that touch no service: the per-operation
:class:`Outcome` and the pure :func:`gate` that holds what may not run, the
:class:`Journal` (SQLite or PostgreSQL), and the :class:`SecretSink` (a local directory or
Azure Key Vault) with :func:`generate_password`. The engine that
calls Graph, Exchange and CIPP builds on them.
"""

from controller.apply.journal import (
    DEFAULT_JOURNAL,
    SCHEMA_VERSION,
    Journal,
    OperationRecord,
    RunRecord,
    RunStatus,
)
from controller.apply.outcomes import (
    PROPAGATION_DETAIL,
    HoldReason,
    Outcome,
    OutcomeStatus,
    gate,
)
from controller.apply.secret_sink import (
    DirectorySink,
    SecretSink,
    StoredSecret,
    enclosing_work_tree,
    generate_password,
)

__all__ = [
    "DEFAULT_JOURNAL",
    "PROPAGATION_DETAIL",
    "SCHEMA_VERSION",
    "DirectorySink",
    "HoldReason",
    "Journal",
    "OperationRecord",
    "Outcome",
    "OutcomeStatus",
    "RunRecord",
    "RunStatus",
    "SecretSink",
    "StoredSecret",
    "enclosing_work_tree",
    "gate",
    "generate_password",
]
