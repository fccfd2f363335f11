"""Security checks and one-shot actions.

Checks produce findings (reported, never changed). Actions produce ``user.resetPassword``
operations at most once: the ledger observe reads from the tenant says which already ran
(``done``: a note) and which may have (``started`` without ``done``: the action is unknown,
"may have run: verify", until a person checks and re-arms it with a new id). Resets wait for
the directory role Graph requires of an app that resets passwords
(``controller.plan.reset_role``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from controller.models.common import until
from controller.models.ledger import ActionState, prune_day
from controller.models.observed import Observed, Unknown
from controller.models.permissions import ACTION_LEDGER_EXTENSION
from controller.models.tenant import Action
from controller.plan import normalise as norm
from controller.plan._draft import SECTION_ACTIONS, Resolved, TenantDraft
from controller.plan.params import UserResetPasswordParams
from controller.plan.reset_role import reset_role_dependency
from controller.plan.types import Backend, FieldChange, Severity

_RISK_ORDER = {"none": 0, "low": 1, "medium": 2, "high": 3}
_AT_RISK = ("atRisk", "confirmedCompromised")


def _needs_licence(d: TenantDraft, check: str, unknown: Unknown) -> bool:
    """A report the tenant's licence does not include, or its cloud does not offer, is a
    finding, not a failed read."""
    if unknown.code == "notAvailable":
        d.finding(check, "info", f"tenant:{d.name}", f"not available: {unknown.reason}")
        return True
    if unknown.code != "needsLicence":
        d.mark_unknown(check, unknown)
        return False
    d.finding(
        check,
        "info",
        f"tenant:{d.name}",
        f"needs licence: {unknown.reason}" if unknown.reason else "needs Entra ID P1/P2",
    )
    return True


class _ReportEntry(Protocol):
    @property
    def user_principal_name(self) -> str: ...


EntryT = TypeVar("EntryT", bound=_ReportEntry)


def _entries(
    d: TenantDraft, check: str, report: Observed[Sequence[EntryT]], exempt: Iterable[str]
) -> list[tuple[str, EntryT]]:
    """A per-user report's entries by UPN key, in UPN order, less the users the check exempts;
    none when the report could not be read."""
    if isinstance(report, Unknown):
        _needs_licence(d, check, report)
        return []
    skip = set(norm.keys(exempt))
    keyed = sorted(((norm.key(e.user_principal_name), e) for e in report), key=lambda p: p[0])
    return [(upn, entry) for upn, entry in keyed if upn not in skip]


def check_mfa(d: TenantDraft) -> None:
    check = d.desired.spec.checks.mfa
    if check is None:
        return
    for upn, entry in _entries(d, "mfa", d.observed.mfa, check.except_):
        ok = entry.is_mfa_registered if check.require == "registered" else entry.is_mfa_capable
        if ok:
            continue
        what = "has not registered MFA" if check.require == "registered" else "is not MFA capable"
        d.finding(
            "mfa",
            "high" if entry.is_admin else "warning",
            f"user:{upn}",
            f"{entry.user_principal_name} {what}"
            + (" (an administrator)" if entry.is_admin else ""),
        )


def check_risky_users(d: TenantDraft) -> None:
    check = d.desired.spec.checks.risky_users
    if check is None:
        return
    allowed = _RISK_ORDER[check.max_risk_level]
    for upn, entry in _entries(d, "riskyUsers", d.observed.risky_users, check.except_):
        if entry.risk_state not in _AT_RISK:
            continue
        if entry.risk_level == "hidden":
            d.finding(
                "riskyUsers",
                "warning",
                f"user:{upn}",
                f"{entry.user_principal_name} is at risk; the level is hidden from the app",
            )
            continue
        level = _RISK_ORDER.get(entry.risk_level, 3)
        if level <= allowed:
            continue
        severity: Severity = (
            "high" if level == 3 or entry.risk_state == "confirmedCompromised" else "warning"
        )
        d.finding(
            "riskyUsers",
            severity,
            f"user:{upn}",
            f"{entry.user_principal_name} is at {entry.risk_level} risk ({entry.risk_state}); "
            f"allowed: {check.max_risk_level}",
        )


# --- one-shot actions -------------------------------------------------------------------------


def _expired(action: Action, now: dt.datetime) -> bool:
    """Past ``notAfter``? A date alone means "until the end of that day, UTC"."""
    return action.not_after is not None and now >= until(action.not_after)


def plan_actions(d: TenantDraft) -> None:
    actions = sorted(d.desired.spec.actions, key=lambda a: a.id)
    if not actions:
        return
    ledger = d.observed.action_ledger
    pending: list[tuple[Action, str, Resolved]] = []
    for action in actions:
        assert action.reset_password is not None
        target = norm.key(action.target)
        if _expired(action, d.ctx.now):
            d.warnings.append(
                f"action {action.id}: past its notAfter ({action.not_after}); not run. "
                "Remove it from the tenant file"
            )
            continue
        if isinstance(ledger, Unknown):
            d.mark_unknown(f"actions/{action.id}", ledger)
            continue
        if action.id in ledger:
            if ledger[action.id].state is ActionState.DONE:
                d.notes.append(
                    f"action {action.id}: already done (recorded on {target}); nothing to run"
                )
            else:
                d.mark_unknown(
                    f"actions/{action.id}",
                    code="error",
                    reason=(
                        f"may have run: verify. An apply started it and did not record the end "
                        f"(it was killed, or the ledger on {target} could not be updated). Check "
                        f"whether the password of {target} was reset (Entra audit log: Reset "
                        "password); to run it again, give the action a new id in the tenant file "
                        f"(for example {action.id}-again), which re-arms it"
                    ),
                )
            continue
        resolved = d.resolve_or_hold(
            target,
            recipients=False,
            area=f"actions/{action.id}",
            subject=f"action:{action.id}",
            cannot="cannot run:",
        )
        if resolved is None:
            continue
        pending.append((action, target, resolved))
    if not pending:
        return
    waits_for = reset_role_dependency(d, (resolved.id or "" for _, _, resolved in pending))
    if waits_for is None:
        return
    for action, target, resolved in pending:
        assert action.reset_password is not None
        force = action.reset_password.force_change_at_next_sign_in
        d.add(
            UserResetPasswordParams(
                action_id=action.id,
                user_id=resolved.id,
                user_principal_name=action.target,
                force_change_password_next_sign_in=force,
                ledger_extension=ACTION_LEDGER_EXTENSION,
                prune_after=prune_day(action.not_after),
            ),
            f"user:{target}",
            f"{target}/{action.id}",
            Backend.GRAPH,
            section=SECTION_ACTIONS,
            reason=f"one-shot action {action.id}",
            desired={"actionId": action.id, "user": target, "forceChange": force},
            # By UPN, not id: the user may be created by this plan (see plan/fingerprint.py).
            observed={"user": target, "ledger": None},
            changes=[
                FieldChange(
                    field="password",
                    after=d.ctx.generated_password(d.name, target, f"reset-{action.id}"),
                )
            ],
            depends_on=[resolved.created_by, waits_for.get(resolved.id or "")],
        )
