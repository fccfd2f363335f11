"""The secrets a run needs, all checked before anything is called.

The partner app's credential is always needed. CIPP's secret is needed when a selected tenant
sends Exchange through CIPP (``exchange: cipp``, or ``auto``, which falls back to CIPP); for
any other run CIPP is used when its secret is there and left out of the run when it is not,
with a note that says so (``plan --tenant contoso`` with Exchange direct does not demand
``CIPP_CLIENT_SECRET``). Every secret the run needs and cannot read is reported at once, in one
:class:`~controller.errors.MissingSecrets`, never one variable per attempt.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.errors import MissingSecrets, SecretError
from controller.models import MSPConfig, SecretRef, TenantConfig
from controller.secrets import resolve_secret

# Exchange modes whose tenants may be managed through CIPP.
CIPP_MODES = frozenset({"cipp", "auto"})


def msp_for_run(
    msp: MSPConfig, tenants: Sequence[TenantConfig] | None
) -> tuple[MSPConfig, tuple[str, ...]]:
    """``msp`` as this run uses it (without CIPP when CIPP is optional and its secret cannot
    be read), and the notes that explain what was left out. ``tenants``: the tenants the run
    selected; ``None`` when the run checks every configured connection (``connect check``).

    Raises :class:`MissingSecrets` naming every needed secret that cannot be read.
    """
    problems = [p for p in map(_problem, _partner_refs(msp)) if p is not None]
    notes: tuple[str, ...] = ()
    cipp = msp.spec.cipp
    if cipp is not None:
        problem = _problem(cipp.secret)
        if problem is not None and needs_cipp(tenants):
            problems.append(problem)
        elif problem is not None:
            msp = without_cipp(msp)
            notes = (
                f"CIPP is not used in this run: {problem} (no selected tenant has "
                "exchange: cipp or auto, so the run goes on without it)",
            )
    if problems:
        raise MissingSecrets(problems)
    return msp, notes


def without_cipp(msp: MSPConfig) -> MSPConfig:
    """``msp`` with CIPP left out (its secret is then never read)."""
    return msp.model_copy(update={"spec": msp.spec.model_copy(update={"cipp": None})})


def needs_cipp(tenants: Sequence[TenantConfig] | None) -> bool:
    return tenants is None or any(t.spec.exchange in CIPP_MODES for t in tenants)


def _partner_refs(msp: MSPConfig) -> list[SecretRef]:
    credential = msp.spec.partner.credential
    if credential.secret is not None:
        return [credential.secret]
    if credential.certificate is not None:
        return [credential.certificate.private_key]
    return [credential.assertion] if credential.assertion is not None else []


def _problem(ref: SecretRef) -> str | None:
    try:
        resolve_secret(ref)
    except SecretError as problem:
        return str(problem)
    return None
