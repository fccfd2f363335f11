"""The Key Vault secret sink in apply, against the sandbox's vault: a new user's initial
password and a reset's new password are each stored with the Azure SDK before Graph is
called, as a version of a deterministically named secret with tags and an expiry, readable
back with the SDK; no local password file is written; the plan and the result name the vault
and the secret, never the value; a vault that answers 403 holds the operation with a clear
message and nothing is sent to Graph (the sandbox's request log says so)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.keyvault.secrets import SecretClient

from controller.apply import HoldReason, Journal, OutcomeStatus
from controller.apply.engine import ApplyResult
from controller.loader import load_desired
from controller.models import DesiredState
from controller.models.naming import key_vault_secret_name
from controller.reconcile import apply_estate
from controller.reconcile._sink import secret_sink
from controller.render import render_terminal
from controller.render.apply import render_apply_json, render_apply_terminal
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED, plan_against, virtual_connections, world_of
from tests.integration.test_apply_sandbox import approve_all
from tests.sandbox.test_keyvault import vault_client

VAULT = "https://northwind-tenantctl.vault.azure.net"
RESET = "2026-11-26-reset-bob"
CAROL = key_vault_secret_name("contoso", "carol@contoso.com", "initial-password")
BOB = key_vault_secret_name("contoso", "bob@contoso.com", f"reset-{RESET}")


def vault_desired(tmp_path: Path) -> DesiredState:
    """contoso with one new user and one password reset; passwords to the vault."""
    root = tmp_path / "desired"
    (root / "tenants").mkdir(parents=True)
    msp = yaml.safe_load((DESIRED / "msp.yaml").read_text())
    msp["spec"]["policy"].pop("tenants", None)
    msp["spec"]["secretSink"] = {
        "directory": str(tmp_path / "secrets"),
        "keyVault": {"url": VAULT, "credential": "app", "expiresInDays": 14},
    }
    (root / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
    demo = yaml.safe_load((DESIRED / "tenants" / "contoso.yaml").read_text())
    carol = next(u for u in demo["spec"]["users"] if u["userPrincipalName"] == "carol@contoso.com")
    tenant = {
        "apiVersion": demo["apiVersion"],
        "kind": "Tenant",
        "metadata": demo["metadata"],
        "spec": {
            "consent": "granted",
            "exchange": "unmanaged",
            "existingPrincipals": ["bob@contoso.com"],
            "users": [{**carol, "licenses": []}],
            "actions": [
                {"id": RESET, "resetPassword": {"user": "bob@contoso.com"}},
            ],
        },
    }
    (root / "tenants" / "contoso.yaml").write_text(yaml.safe_dump(tenant, sort_keys=False))
    return load_desired(root)


def _apply(sandbox: Sandbox, state: DesiredState, tmp_path: Path) -> ApplyResult:
    plan = plan_against(sandbox, state).plan
    approvals = approve_all(plan, dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC))
    world = world_of(sandbox, state)

    async def run() -> ApplyResult:
        async with virtual_connections(sandbox, state) as connections:
            with Journal.open(tmp_path / "journal.sqlite") as journal:
                return await apply_estate(
                    state,
                    world,
                    approvals=approvals,
                    journal=journal,
                    sink=secret_sink(state.msp, world),
                    connections=connections,
                )

    return asyncio.run(run())


@pytest.fixture
def vault(sandbox: Sandbox) -> Iterator[SecretClient]:
    """The sandbox's vault through the SDK, as an operator reads it afterwards."""
    with vault_client(sandbox) as client:
        yield client


def _graph_writes(sandbox: Sandbox) -> list[Any]:
    """Graph requests that change something: not GETs, and not a $batch envelope (its
    requests are recorded one by one, each with its own method)."""
    return [
        r
        for r in sandbox.requests
        if r.service == "graph" and r.method != "GET" and r.path.split("?")[0] != "/v1.0/$batch"
    ]


def test_passwords_go_to_the_vault_and_nowhere_else(
    sandbox: Sandbox, vault: SecretClient, tmp_path: Path
) -> None:
    state = vault_desired(tmp_path)
    plan = plan_against(sandbox, state).plan
    shown_plan = render_terminal(plan)
    assert f"sent to Key Vault {VAULT} secret {CAROL}" in shown_plan
    assert f"sent to Key Vault {VAULT} secret {BOB}" in shown_plan

    result = _apply(sandbox, state, tmp_path)
    assert {o.status for o in result.outcomes.values()} == {OutcomeStatus.SUCCEEDED}, {
        k: (o.status, o.detail, o.error) for k, o in result.outcomes.items()
    }
    carol = vault.get_secret(CAROL)
    bob = vault.get_secret(BOB)
    assert carol.value and bob.value and carol.value != bob.value
    assert carol.properties.tags is not None
    assert {k: carol.properties.tags[k] for k in ("tenant", "user", "purpose", "run")} == {
        "tenant": "contoso",
        "user": "carol@contoso.com",
        "purpose": "initial-password",
        "run": str(result.run_id),
    }
    assert carol.properties.tags["operation"].startswith("contoso/user.create/")
    written = dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC)
    assert carol.properties.expires_on is not None
    assert dt.timedelta(days=13) < carol.properties.expires_on - written <= dt.timedelta(days=14)
    assert any(
        u.user_principal_name == "carol@contoso.com"
        for u in sandbox.world.tenants[plan.tenants[0].tenant_id].users.values()
    )
    # Stored before Graph was called: the vault's write precedes the create.
    order = [
        r.service
        for r in sandbox.requests
        if (r.service, r.method, r.status) == ("keyVault", "PUT", 200)
        or (r.method == "POST" and r.path.startswith("/v1.0/users"))
    ]
    assert order[:2] == ["keyVault", "graph"], order
    # The result says where each password went; no file, log or output holds a value.
    shown = render_apply_terminal(result) + render_apply_json(result)
    assert f"Key Vault {VAULT} secret {CAROL} (version {carol.properties.version})" in shown
    assert carol.value not in shown and bob.value not in shown
    assert not (tmp_path / "secrets").exists()
    for path in tmp_path.rglob("*"):
        if path.is_file() and "sandbox" not in path.parts:
            assert carol.value.encode() not in path.read_bytes(), path


def test_a_vault_that_refuses_holds_the_operation_and_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = vault_desired(tmp_path)
    sandbox.world.vault.secrets_officers = []  # the app lost Key Vault Secrets Officer
    before = len(_graph_writes(sandbox))
    result = _apply(sandbox, state, tmp_path)
    held = [o for o in result.outcomes.values() if o.hold is HoldReason.SECRET_SINK]
    assert len(held) == 2, {k: (o.status, o.detail) for k, o in result.outcomes.items()}
    for outcome in held:
        assert outcome.status is OutcomeStatus.HELD
        assert f"could not be stored in Key Vault {VAULT}" in outcome.detail
        assert "HTTP 403 Forbidden (ForbiddenByRbac)" in outcome.detail
        assert "Key Vault Secrets Officer" in outcome.detail
        assert "nothing was sent" in outcome.detail
    # Graph saw no write at all: no user created, no password set, and not even the reset's
    # ledger entry (the password is stored before anything is written).
    assert _graph_writes(sandbox)[before:] == []
    assert sandbox.world.vault.secrets == {}
    assert not (tmp_path / "secrets").exists()
    assert "internal error" not in render_apply_terminal(result)
