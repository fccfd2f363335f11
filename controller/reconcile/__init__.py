"""Reconcile: the stages tied together, as a straight line of named steps per run.

::

    plan_run:   open the world -> read partner facts -> observe -> plan -> policy -> outputs
    apply_run:  open the world -> read partner facts -> observe -> plan -> policy
                -> (approve at the terminal) -> gate -> execute, journaled -> outputs

:func:`connect_check` is the shortest run: open the world, then the connection checks.
:func:`get_run` reads one kind of object (``tenantctl get``); :func:`report_run` writes the
estate report from a plan run or from saved observations (``tenantctl report``).

"Open the world" starts the sandbox when asked (:class:`Where`) and builds the connection
settings; "outputs" writes the plan or results whole and sends the webhook summary. Commands
(``plan``, ``status``, ``apply``) call :func:`plan_run` or :func:`apply_run` and only print
what comes back; tests that open the world themselves call :func:`observe_and_plan` and
:func:`apply_estate`, the same steps without the first and the last.
"""

from controller.reconcile._apply import apply_estate, apply_run
from controller.reconcile._approval import InteractiveApproval, awaiting_approval, local_user
from controller.reconcile._connect import connect_check
from controller.reconcile._get import GetResult, get_run, read_kind
from controller.reconcile._journal import journal_location
from controller.reconcile._outputs import Delivered, Outputs, Run
from controller.reconcile._plan import (
    PlanResult,
    observe_and_plan,
    plan_run,
    select_tenants,
)
from controller.reconcile._report import (
    REPORT_MARKER,
    ReportResult,
    last_applies,
    read_observations,
    report_run,
)
from controller.reconcile._sink import secret_sink
from controller.reconcile._world import (
    DEFAULT_SANDBOX_STATE,
    Where,
    World,
    WorldFor,
    Worlds,
    open_world,
    sandbox_settings,
    worlds,
)

__all__ = [
    "DEFAULT_SANDBOX_STATE",
    "REPORT_MARKER",
    "Delivered",
    "GetResult",
    "InteractiveApproval",
    "Outputs",
    "PlanResult",
    "ReportResult",
    "Run",
    "Where",
    "World",
    "WorldFor",
    "Worlds",
    "apply_estate",
    "apply_run",
    "awaiting_approval",
    "connect_check",
    "get_run",
    "journal_location",
    "last_applies",
    "local_user",
    "observe_and_plan",
    "open_world",
    "plan_run",
    "read_kind",
    "read_observations",
    "report_run",
    "sandbox_settings",
    "secret_sink",
    "select_tenants",
    "worlds",
]
