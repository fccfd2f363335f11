"""Controller mode (``tenantctl controller``): the pipeline on a schedule, watched from
outside.

- :mod:`~controller.loop._controller`: the loop and its cycles (:class:`Controller`);
- :mod:`~controller.loop._schedule`: per-tenant due times and back-off (pure);
- :mod:`~controller.loop._source`: the desired state from a directory or a git branch;
- :mod:`~controller.loop._reported`: what people were already told, so held work is reported
  once;
- :mod:`~controller.loop._metrics` and :mod:`~controller.loop._serve`: ``/metrics``,
  ``/healthz`` and ``/readyz``.

It sits above ``reconcile`` (each cycle is an apply run, journaled as ``controller``) and
beside ``cli``, which only reads the options and starts it.
"""

from controller.loop._controller import Controller, ControllerOptions, CycleReport
from controller.loop._metrics import ControllerMetrics, ServiceUsage, TenantStatus
from controller.loop._reported import CONTROLLER_COMMAND, Reported, report_keys
from controller.loop._schedule import (
    Schedule,
    TenantTimer,
    Timing,
    Verdict,
    parse_duration,
    parse_jitter,
    tenant_digests,
)
from controller.loop._serve import Probe, ProbeServer, parse_listen
from controller.loop._source import DesiredSource, GitRepository, Snapshot
from controller.loop._wakeup import Wakeup

__all__ = [
    "CONTROLLER_COMMAND",
    "Controller",
    "ControllerMetrics",
    "ControllerOptions",
    "CycleReport",
    "DesiredSource",
    "GitRepository",
    "Probe",
    "ProbeServer",
    "Reported",
    "Schedule",
    "ServiceUsage",
    "Snapshot",
    "TenantStatus",
    "TenantTimer",
    "Timing",
    "Verdict",
    "Wakeup",
    "parse_duration",
    "parse_jitter",
    "parse_listen",
    "report_keys",
    "tenant_digests",
]
