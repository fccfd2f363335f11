"""``tenantctl connect check`` as a run: open the world, then run the connection checks.

A secret that cannot be resolved is the first failed check, reported before any network call,
rather than an error that stops the command: the operator sees the same one-line diagnosis
and fix as for every other check.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.connectors import CheckResult, ConnectionSettings
from controller.errors import SecretError
from controller.models import MSPConfig
from controller.reconcile._world import Where, open_world

SECRET_FIX = "export it, or point msp.yaml at it"


def connect_check(
    msp: MSPConfig, where: Where, run_checks: Callable[[ConnectionSettings], list[CheckResult]]
) -> list[CheckResult]:
    """The results of ``run_checks`` on the settings of the world ``where`` points at."""
    try:
        with open_world(msp, where) as world:
            return run_checks(world.settings)
    except SecretError as problem:
        return [CheckResult("secrets", False, str(problem), SECRET_FIX)]
