"""``tenantctl connect check`` as a run: open the world, then run the connection checks.

Every secret that cannot be resolved is a failed check of its own, reported before any
network call, rather than an error that stops the command: the operator sees the same
one-line diagnosis and fix as for every other check, for all missing secrets at once.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.connectors import CheckResult, ConnectionSettings, CredentialExpiry
from controller.errors import MissingSecrets, SecretError
from controller.models import MSPConfig
from controller.models.common import until
from controller.reconcile._world import Where, open_world

SECRET_FIX = "export it, or point msp.yaml at it"

RunChecks = Callable[[ConnectionSettings, CredentialExpiry], list[CheckResult]]


def connect_check(msp: MSPConfig, where: Where, run_checks: RunChecks) -> list[CheckResult]:
    """The results of ``run_checks`` on the settings of the world ``where`` points at, with
    the world's time and msp.yaml's ``notAfter`` for the credential's expiry."""
    declared = msp.spec.partner.credential.not_after
    try:
        with open_world(msp, where) as world:
            expiry = CredentialExpiry(
                now=world.now(), declared=until(declared) if declared is not None else None
            )
            return run_checks(world.settings, expiry)
    except MissingSecrets as missing:
        return [CheckResult("secrets", False, problem, SECRET_FIX) for problem in missing.problems]
    except SecretError as problem:
        return [CheckResult("secrets", False, str(problem), SECRET_FIX)]
