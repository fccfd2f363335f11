"""The one-shot action ledger against the sandbox, which enforces Graph's open-extension limits:
a reset Graph refuses clears its entry and voids its password file (a later run resets then);
a password the secret sink cannot store stops the reset before anything is sent; apply reports
an action already done; and 100 actions on one user fit the 2 KB extension, with expired ones
pruned."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from controller.apply import DirectorySink, HoldReason, Journal, OutcomeStatus
from controller.apply.engine import ApplyResult
from controller.loader import load_desired
from controller.models import DesiredState
from controller.models.ledger import MAX_LEDGER_BYTES, ActionState, Ledger
from controller.models.permissions import ACTION_LEDGER_EXTENSION
from controller.reconcile import apply_estate
from controller.render.apply import render_apply_terminal
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED, plan_against, virtual_connections, world_of
from tests.integration.test_apply_sandbox import approve_all

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
RESET = "2026-11-26-reset-bob"


def _desired(tmp_path: Path, actions: list[dict[str, Any]]) -> DesiredState:
    """contoso with only one-shot actions declared (nothing else is managed)."""
    root = tmp_path / "desired"
    (root / "tenants").mkdir(parents=True, exist_ok=True)
    msp = yaml.safe_load((DESIRED / "msp.yaml").read_text())
    msp["spec"]["policy"].pop("tenants", None)
    (root / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
    demo = yaml.safe_load((DESIRED / "tenants" / "contoso.yaml").read_text())
    tenant = {
        "apiVersion": demo["apiVersion"],
        "kind": "Tenant",
        "metadata": demo["metadata"],
        "spec": {
            "consent": "granted",
            "exchange": "unmanaged",
            "existingPrincipals": ["bob@contoso.com"],
            "actions": actions,
        },
    }
    (root / "tenants" / "contoso.yaml").write_text(yaml.safe_dump(tenant, sort_keys=False))
    return load_desired(root)


def _reset(action_id: str = RESET, not_after: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": action_id,
        "resetPassword": {"user": "bob@contoso.com", "forceChangeAtNextSignIn": True},
    }
    if not_after:
        action["notAfter"] = not_after
    return action


def _apply(
    sandbox: Sandbox, state: DesiredState, tmp_path: Path, sink: DirectorySink
) -> ApplyResult:
    plan = plan_against(sandbox, state).plan
    approvals = approve_all(plan, dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC))

    async def run() -> ApplyResult:
        async with virtual_connections(sandbox, state) as connections:
            with Journal.open(tmp_path / "journal.sqlite") as journal:
                return await apply_estate(
                    state,
                    world_of(sandbox, state),
                    approvals=approvals,
                    journal=journal,
                    sink=sink,
                    connections=connections,
                )

    return asyncio.run(run())


def _ledger(sandbox: Sandbox) -> tuple[Ledger, dict[str, Any] | None]:
    bob = next(
        u
        for u in sandbox.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "bob@contoso.com"
    )
    raw = bob.extensions.get(ACTION_LEDGER_EXTENSION)
    return Ledger.from_properties(raw), raw


def _reset_calls(sandbox: Sandbox) -> int:
    return sum(
        1
        for r in sandbox.requests
        if r.method == "PATCH" and "/users/" in r.path and "/extensions" not in r.path
    )


def test_a_reset_graph_refuses_clears_its_entry_and_voids_its_password(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = _desired(tmp_path, [_reset()])
    sink = DirectorySink(tmp_path / "secrets")
    sandbox.faults.add("PATCH", r"^/v1\.0/users/[^/]+$", status=403, count=1, tenant=CONTOSO)
    first = _apply(sandbox, state, tmp_path, sink)
    (outcome,) = first.outcomes.values()
    assert outcome.status is OutcomeStatus.FAILED
    assert _ledger(sandbox)[0].state_of(RESET) is None  # cleared: it did not run
    assert list((tmp_path / "secrets").rglob("*.txt")) == []  # voided

    again = _apply(sandbox, state, tmp_path, sink)
    (outcome,) = again.outcomes.values()
    assert outcome.status is OutcomeStatus.SUCCEEDED, outcome
    assert _ledger(sandbox)[0].state_of(RESET) is ActionState.DONE
    assert len(list((tmp_path / "secrets").rglob("*.txt"))) == 1


def test_a_password_that_cannot_be_stored_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    state = _desired(tmp_path, [_reset()])
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the sink's tenant folder would go\n")
    sink = DirectorySink(tmp_path / "sink")
    sink.directory = blocked  # its tenant folder cannot be made: as a read-only or full disk
    before = _reset_calls(sandbox)
    result = _apply(sandbox, state, tmp_path, sink)
    (outcome,) = result.outcomes.values()
    assert (outcome.status, outcome.hold) == (OutcomeStatus.HELD, HoldReason.SECRET_SINK)
    assert "could not be stored" in outcome.detail and "nothing was sent" in outcome.detail
    assert _reset_calls(sandbox) == before
    assert _ledger(sandbox)[0].state_of(RESET) is None


def test_apply_reports_an_action_already_done(sandbox: Sandbox, tmp_path: Path) -> None:
    state = _desired(tmp_path, [_reset()])
    sink = DirectorySink(tmp_path / "secrets")
    _apply(sandbox, state, tmp_path, sink)
    second = _apply(sandbox, state, tmp_path, sink)
    assert second.outcomes == {}
    shown = render_apply_terminal(second)
    assert f"action {RESET}: already done (recorded on bob@contoso.com)" in shown
    assert "done at \n" not in shown + "\n"


def test_a_hundred_actions_on_one_user_fit_and_expired_ones_are_pruned(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    today = dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC).date()
    soon = (today + dt.timedelta(days=1)).isoformat()
    later = (today + dt.timedelta(days=60)).isoformat()
    actions = [
        _reset(f"{today}-a-rather-long-reset-id-{n:03}", soon if n < 50 else later)
        for n in range(100)
    ]
    state = _desired(tmp_path, actions)
    sink = DirectorySink(tmp_path / "secrets")
    first = _apply(sandbox, state, tmp_path, sink)
    assert [o.status for o in first.outcomes.values()] == [OutcomeStatus.SUCCEEDED] * 100
    ledger, raw = _ledger(sandbox)
    assert len(ledger.entries) == 100 and ledger.size <= MAX_LEDGER_BYTES
    assert raw is not None and all(
        not isinstance(v, dict) for v in raw.values()
    )  # primitives and arrays of them only
    stored = {k: raw[k] for k in ("v", "started", "done")}
    assert len(json.dumps(stored, separators=(",", ":"))) <= MAX_LEDGER_BYTES
    assert plan_against(sandbox, state).plan.operations == ()

    # Two days on, the first fifty are past their notAfter: the next write prunes them.
    sandbox.clock.advance(2 * 86400)
    state = _desired(tmp_path, [*actions, _reset(f"{today}-one-more", later)])
    again = _apply(sandbox, state, tmp_path, sink)
    assert [o.status for o in again.outcomes.values()] == [OutcomeStatus.SUCCEEDED]
    ledger, _ = _ledger(sandbox)
    assert len(ledger.entries) == 51
    assert all(entry.state is ActionState.DONE for entry in ledger.entries.values())
