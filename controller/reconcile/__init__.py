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

from __future__ import annotations

from typing import TYPE_CHECKING

from controller._lazy import lazy_names

if TYPE_CHECKING:
    from controller.reconcile._apply import apply_estate, apply_run
    from controller.reconcile._approval import InteractiveApproval, awaiting_approval, local_user
    from controller.reconcile._connect import connect_check
    from controller.reconcile._early import EarlyPartner
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

__getattr__ = lazy_names(
    __name__,
    {
        "apply_estate": "controller.reconcile._apply",
        "apply_run": "controller.reconcile._apply",
        "InteractiveApproval": "controller.reconcile._approval",
        "awaiting_approval": "controller.reconcile._approval",
        "local_user": "controller.reconcile._approval",
        "connect_check": "controller.reconcile._connect",
        "EarlyPartner": "controller.reconcile._early",
        "GetResult": "controller.reconcile._get",
        "get_run": "controller.reconcile._get",
        "read_kind": "controller.reconcile._get",
        "journal_location": "controller.reconcile._journal",
        "Delivered": "controller.reconcile._outputs",
        "Outputs": "controller.reconcile._outputs",
        "Run": "controller.reconcile._outputs",
        "PlanResult": "controller.reconcile._plan",
        "observe_and_plan": "controller.reconcile._plan",
        "plan_run": "controller.reconcile._plan",
        "select_tenants": "controller.reconcile._plan",
        "REPORT_MARKER": "controller.reconcile._report",
        "ReportResult": "controller.reconcile._report",
        "last_applies": "controller.reconcile._report",
        "read_observations": "controller.reconcile._report",
        "report_run": "controller.reconcile._report",
        "secret_sink": "controller.reconcile._sink",
        "DEFAULT_SANDBOX_STATE": "controller.reconcile._world",
        "Where": "controller.reconcile._world",
        "World": "controller.reconcile._world",
        "WorldFor": "controller.reconcile._world",
        "Worlds": "controller.reconcile._world",
        "open_world": "controller.reconcile._world",
        "sandbox_settings": "controller.reconcile._world",
        "worlds": "controller.reconcile._world",
    },
)

__all__ = [
    "DEFAULT_SANDBOX_STATE",
    "REPORT_MARKER",
    "Delivered",
    "EarlyPartner",
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
