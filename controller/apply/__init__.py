"""Apply: execute exactly what was approved, and record what happened.

This package holds the parts of apply that touch no service: the per-operation
:class:`Outcome` and the pure :func:`gate` that holds what may not run, the
:class:`Journal` (SQLite or PostgreSQL), and the :class:`SecretSink` (a local directory or
Azure Key Vault) with :func:`generate_password`. The engine that
calls Graph, Exchange and CIPP builds on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller._lazy import lazy_names

if TYPE_CHECKING:
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

__getattr__ = lazy_names(
    __name__,
    {
        "DEFAULT_JOURNAL": "controller.apply.journal",
        "SCHEMA_VERSION": "controller.apply.journal",
        "Journal": "controller.apply.journal",
        "OperationRecord": "controller.apply.journal",
        "RunRecord": "controller.apply.journal",
        "RunStatus": "controller.apply.journal",
        "PROPAGATION_DETAIL": "controller.apply.outcomes",
        "HoldReason": "controller.apply.outcomes",
        "Outcome": "controller.apply.outcomes",
        "OutcomeStatus": "controller.apply.outcomes",
        "gate": "controller.apply.outcomes",
        "DirectorySink": "controller.apply.secret_sink",
        "SecretSink": "controller.apply.secret_sink",
        "StoredSecret": "controller.apply.secret_sink",
        "enclosing_work_tree": "controller.apply.secret_sink",
        "generate_password": "controller.apply.secret_sink",
    },
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
