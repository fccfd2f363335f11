"""``tenantctl controller`` against the sandbox, cycle after cycle on its virtual clock (no test
sleeps): drift made in the "portal" between cycles is found and, where policy allows it,
corrected in the next cycle; held work stays held and is notified once, not every cycle (the
deliveries are counted at a local receiver); a tenant throttled by 429s backs off alone while
the others keep their interval; a tenant whose file changed, or that a new approval in the
repository names, is reconciled at once; /metrics, scraped over HTTP and read with
prometheus_client's parser, agrees with the journal; a cycle waits for another apply's lock."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from controller.apply import Journal, OutcomeStatus, RunStatus
from controller.apply.journal import JournalLocation
from controller.apply.lock import apply_lock
from controller.connectors import Connections
from controller.gitops import parse_webhook
from controller.loop import (
    Controller,
    ControllerMetrics,
    ControllerOptions,
    DesiredSource,
    ProbeServer,
    Timing,
)
from controller.models import MSPConfig
from controller.policy.approvals import build_approval, operator_now, write_approval
from controller.reconcile import World, sandbox_settings
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED, plan_against
from tests.integration.connectors_support import group_by_nickname, user_by_upn
from tests.integration.subprocess_support import WebhookReceiver, webhook_receiver
from tests.integration.test_key_vault_sink import BOB, CAROL, vault_desired
from tests.postgres_support import PostgresServer
from tests.sandbox.test_keyvault import vault_client

pytestmark = pytest.mark.integration

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
WOODGROVE = "7c6b5a4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d"
INTERVAL = 900.0  # 15 minutes


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo estate's desired state (the test edits it), approvals beside it,
    and HOME (where the secret sink is) in tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TENANTCTL_HOME", raising=False)
    shutil.copytree(DESIRED, tmp_path / "desired")
    return tmp_path / "desired"


@pytest.fixture
def quiet_sandbox(sandbox: Sandbox) -> Sandbox:
    """Time moves only when the test (or a retry) advances it; no budget throttles unless a
    test injects 429s; nothing changes by itself as time passes (the Exchange role has
    propagated, CIPP's consent is done), so what a cycle finds new is what the test did."""
    sandbox.clock.freeze()
    sandbox.throttle.disable()
    sandbox.exchange_role_propagation = 0
    sandbox.cipp_consent_delay = 0
    return sandbox


def controller_for(
    sb: Sandbox,
    desired: Path,
    tmp_path: Path,
    *,
    hook: WebhookReceiver | None = None,
    metrics: ControllerMetrics | None = None,
    journal: Path | Literal["default"] | None = "default",
) -> Controller:
    def world_for(msp: MSPConfig, tenants: object) -> World:
        return World(sandbox_settings(msp, sb), sb)

    async def wait(seconds: float) -> None:  # a retry waits on the virtual clock
        sb.clock.advance(seconds)

    return Controller(
        DesiredSource(desired),
        world_for,
        ControllerOptions(
            journal=tmp_path / "journal.sqlite" if journal == "default" else journal,
            desired=desired,
            timing=Timing(INTERVAL, jitter=0.1),
            refresh=60.0,
            webhook=parse_webhook(hook.url) if hook is not None else None,
        ),
        clock=sb.clock.now,
        sleep=sb.clock.advance,
        random=lambda: 0.5,  # the jitter's middle: exactly the interval
        metrics=metrics,
        connections=lambda world: Connections(world.settings, sleep=wait),
        user="controller-test",
    )


def next_cycle(controller: Controller) -> None:
    """Sleep (on the virtual clock) until the controller would wake, then run the cycle."""
    controller.sleep(controller.until_next())
    controller.cycle()


def advance_to_interval(controller: Controller, sb: Sandbox) -> None:
    """Let every tenant come due (one interval after the last cycle), one refresh at a time."""
    due = controller.schedule.next_due()
    assert due is not None
    while sb.clock.now() < due:
        next_cycle(controller)


def remove_member(sb: Sandbox, tenant: str, nickname: str, upn: str) -> None:
    """What a person does in the portal: take a member out of a group."""
    group = group_by_nickname(sb, tenant, nickname)
    group.members.remove(user_by_upn(sb, tenant, upn).id)


def test_drift_is_corrected_held_work_is_notified_once_and_a_throttled_tenant_backs_off(
    quiet_sandbox: Sandbox, estate: Path, tmp_path: Path
) -> None:
    sb = quiet_sandbox
    with webhook_receiver() as hook:
        controller = controller_for(sb, estate, tmp_path, hook=hook)

        # Cycle 1: every tenant is new, so due. What policy allows is applied (group and
        # distribution-group members), the rest is held, and all of it is news.
        first = controller.cycle()
        assert first.result is not None
        assert set(first.reconciled) == {"adatum", "contoso", "fabrikam", "tailspin", "woodgrove"}
        held = first.result.of(OutcomeStatus.HELD)
        assert held and first.result.of(OutcomeStatus.SUCCEEDED)
        assert len(hook.received) == 1

        # An interval later: the same held work, nothing new: no notification.
        advance_to_interval(controller, sb)
        assert len(hook.received) == 1
        runs = _journal_runs(tmp_path)
        assert [r.command for r in runs].count("controller") >= 2
        assert runs[-1].operations and set(held) <= _held_ids(tmp_path, runs[-1].id)

        # Someone removes Bob from Phoenix in the portal (policy allows group.addMember).
        remove_member(sb, CONTOSO, "phoenix", "bob@contoso.com")
        advance_to_interval(controller, sb)
        last = _journal_runs(tmp_path)[-1]
        applied = [
            op
            for op in _operations(tmp_path, last.id)
            if op.kind == "group.addMember" and op.status is OutcomeStatus.SUCCEEDED
        ]
        assert [op.target for op in applied] == ["group:phoenix"]
        phoenix = group_by_nickname(sb, CONTOSO, "phoenix")
        assert user_by_upn(sb, CONTOSO, "bob@contoso.com").id in phoenix.members
        assert len(hook.received) == 2  # the correction, once
        notified = json.dumps(hook.received[1])
        assert "contoso" in notified and "woodgrove" not in notified

        # Another interval: the held work is still held, still not reported again.
        advance_to_interval(controller, sb)
        assert len(hook.received) == 2, json.dumps(hook.received[2:])[:3000]
        assert _journal_runs(tmp_path)[-1].status is RunStatus.SUCCEEDED

        # Contoso's Graph answers 429 three times: it backs off alone.
        due_before = {n: t.due for n, t in controller.schedule.tenants.items()}
        assert len(set(due_before.values())) == 1  # all reconciled together so far
        sb.faults.add(service="graph", tenant=CONTOSO, status=429, retry_after=2, count=3)
        advance_to_interval(controller, sb)
        timers = controller.schedule.tenants
        reconciled_at = timers["contoso"].last_reconciled
        assert reconciled_at is not None
        assert timers["contoso"].failures == 1
        assert timers["contoso"].due == pytest.approx(reconciled_at + 2 * INTERVAL)
        for name in ("adatum", "fabrikam", "tailspin", "woodgrove"):
            assert timers[name].failures == 0
            assert timers[name].due == pytest.approx(reconciled_at + INTERVAL)
        assert len(hook.received) == 2  # throttling that got through is no news

        # The next interval reconciles the others; contoso waits for its own due time.
        others_due = timers["adatum"].due
        advance_to_interval(controller, sb)
        assert timers["adatum"].last_reconciled == pytest.approx(others_due)
        assert timers["contoso"].last_reconciled == reconciled_at
        assert timers["contoso"].due > sb.clock.now()


def test_a_changed_file_and_a_new_approval_are_reconciled_at_once(
    quiet_sandbox: Sandbox, estate: Path, tmp_path: Path
) -> None:
    sb = quiet_sandbox
    controller = controller_for(sb, estate, tmp_path)
    first = controller.cycle()
    assert first.result is not None
    fabrikam_at = controller.schedule.tenants["fabrikam"].last_reconciled
    started = sb.clock.now()

    # A new member for contoso's Sales group in git: due at the next refresh, not in 15 min.
    contoso = estate / "tenants" / "contoso.yaml"
    text = contoso.read_text()
    contoso.write_text(
        text.replace(
            "members: [alice@contoso.com, carol@contoso.com]",
            "members: [alice@contoso.com, carol@contoso.com, bob@contoso.com]",
        )
    )
    next_cycle(controller)
    assert sb.clock.now() - started <= 60.0
    timers = controller.schedule.tenants
    contoso_at = timers["contoso"].last_reconciled
    assert contoso_at is not None and contoso_at >= started
    assert timers["fabrikam"].last_reconciled == fabrikam_at  # not due: untouched
    sales = group_by_nickname(sb, CONTOSO, "sales")
    assert user_by_upn(sb, CONTOSO, "bob@contoso.com").id in sales.members  # allowed: applied

    # An approval merged for woodgrove's held user.enable: reconciled at the next check.
    plan = first.result.plan
    wanted = [
        op.fingerprint
        for op in plan.operations
        if op.tenant == "woodgrove" and op.kind.value == "user.enable"
    ]
    assert len(wanted) == 1
    record = build_approval(
        plan,
        "sha256:test",
        by="Dana Reviewer",
        only=wanted,
        expires=dt.timedelta(days=1),
        reason=None,
        now=operator_now(),
    )
    written = write_approval(record, estate.parent / "approvals")
    before = sb.clock.now()
    next_cycle(controller)
    assert sb.clock.now() - before <= 60.0
    woodgrove = controller.schedule.tenants["woodgrove"]
    assert woodgrove.last_reconciled is not None and woodgrove.last_reconciled >= before
    assert user_by_upn(sb, WOODGROVE, "leo@woodgrovebank.com").account_enabled
    enabled = [
        op
        for op in _operations(tmp_path, _journal_runs(tmp_path)[-1].id)
        if op.kind == "user.enable" and op.status is OutcomeStatus.SUCCEEDED
    ]
    assert [op.approval for op in enabled] == [written.name]


def test_metrics_match_the_journal(quiet_sandbox: Sandbox, estate: Path, tmp_path: Path) -> None:
    sb = quiet_sandbox
    metrics = ControllerMetrics()
    controller = controller_for(sb, estate, tmp_path, metrics=metrics)
    with probes(controller, metrics) as base:
        assert httpx.get(f"{base}/readyz").status_code == 503  # nothing read yet
        assert httpx.get(f"{base}/healthz").status_code == 200
        controller.cycle()
        advance_to_interval(controller, sb)
        assert httpx.get(f"{base}/readyz").text == "ok\n"
        assert httpx.get(f"{base}/healthz").status_code == 200
        scraped = httpx.get(f"{base}/metrics")
        assert scraped.status_code == 200
        assert httpx.get(f"{base}/other").status_code == 404
        families = {f.name: f for f in text_string_to_metric_families(scraped.text)}

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    last = _journal_runs(tmp_path)[-1]
    ops = _operations(tmp_path, last.id)
    for tenant in ("adatum", "contoso", "fabrikam", "tailspin", "woodgrove"):
        mine = [op for op in ops if op.tenant == tenant]
        held = Counter(op.hold.value for op in mine if op.hold is not None)
        failed = sum(1 for op in mine if op.status is OutcomeStatus.FAILED)
        for reason, count in held.items():
            key = ("tenantctl_tenant_operations_held", (("reason", reason), ("tenant", tenant)))
            assert samples[key] == count, (tenant, reason)
        shown = {
            dict(labels)["reason"]
            for (name, labels) in samples
            if name == "tenantctl_tenant_operations_held" and dict(labels)["tenant"] == tenant
        }
        assert shown == set(held), tenant
        tenant_key = (("tenant", tenant),)
        assert samples[("tenantctl_tenant_operations_failed", tenant_key)] == failed
        assert (
            samples[("tenantctl_tenant_operations_pending", tenant_key)]
            == sum(held.values()) + failed
        )
        observed = samples[("tenantctl_tenant_last_observed_timestamp_seconds", tenant_key)]
        assert observed == pytest.approx(_moment(last.started_at), abs=1.0)
        due = samples[("tenantctl_tenant_next_reconcile_timestamp_seconds", tenant_key)]
        assert due == pytest.approx(controller.schedule.tenants[tenant].due)
    assert samples[("tenantctl_tenants", ())] == 5
    assert samples[("tenantctl_ready", ())] == 1
    assert samples[("tenantctl_cycles_total", ())] >= 2
    assert samples[("tenantctl_cycle_duration_seconds_count", ())] >= 2
    graph = (("service", "graph"),)
    assert samples[("tenantctl_requests_total", graph)] > 0
    assert samples[("tenantctl_resource_units_total", graph)] > 0
    assert samples[("tenantctl_throttled_requests_total", graph)] == 0
    for name, labels in samples:
        for label, value in labels:
            assert label in ("tenant", "service", "reason", "le"), name
            assert "@" not in value, (name, value)  # never a UPN


def test_a_cycle_waits_for_another_applys_lock(
    quiet_sandbox: Sandbox, estate: Path, tmp_path: Path
) -> None:
    controller = controller_for(quiet_sandbox, estate, tmp_path)
    with apply_lock(tmp_path / "journal.sqlite"):
        report = controller.cycle()
    assert report.result is None
    assert report.problem is not None and "another apply holds the lock" in report.problem
    assert controller.schedule.due(quiet_sandbox.clock.now())  # still due
    assert not _journal_runs(tmp_path)
    assert controller.cycle().result is not None


def test_msp_yamls_shared_journal_holds_the_cycles_and_locks_each_tenant(
    quiet_sandbox: Sandbox,
    estate: Path,
    tmp_path: Path,
    postgres: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With msp.yaml's journal in PostgreSQL (no --journal), each cycle is journaled there, not
    in a file, and the lock is per tenant: a tenant another machine is applying stays due for
    the next check while the free ones are reconciled; with every due tenant held elsewhere
    the cycle reconciles nothing and says who holds them."""
    dsn = postgres.new_database()
    monkeypatch.setenv("TENANTCTL_TEST_CONTROLLER_DSN", dsn)
    msp = yaml.safe_load((estate / "msp.yaml").read_text())
    msp["spec"]["journal"] = {"postgres": {"dsn": {"env": "TENANTCTL_TEST_CONTROLLER_DSN"}}}
    (estate / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
    controller = controller_for(quiet_sandbox, estate, tmp_path, journal=None)
    shared = JournalLocation(dsn=dsn)
    everyone = {"adatum", "contoso", "fabrikam", "tailspin", "woodgrove"}

    with apply_lock(shared, tenants=["contoso"]):
        first = controller.cycle()
    assert first.result is not None and first.problem is None
    assert set(first.reconciled) == everyone - {"contoso"}
    assert controller.schedule.due(quiet_sandbox.clock.now()) == ("contoso",)  # still due

    second = controller.cycle()
    assert second.result is not None and second.reconciled == ("contoso",)
    with Journal.open(shared, create=False) as journal:
        runs = journal.runs()
    assert [run.command for run in runs] == ["controller", "controller"]
    assert not (estate / ".tenantctl" / "journal.sqlite").exists()
    assert not (tmp_path / "journal.sqlite").exists()

    # An interval later every tenant is due; all held elsewhere, the cycle does nothing and
    # says who holds them.
    quiet_sandbox.clock.advance(2 * INTERVAL)
    with apply_lock(shared, tenants=sorted(everyone)):
        blocked = controller.cycle()
    assert blocked.result is None
    assert blocked.problem is not None and "another apply holds tenant contoso" in blocked.problem
    assert postgres.password not in blocked.problem
    assert set(controller.schedule.due(quiet_sandbox.clock.now())) == everyone


def test_a_cycle_stores_passwords_in_msp_yamls_key_vault(
    quiet_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller writes generated passwords where apply does: msp.yaml's Key Vault sink
    (the sandbox's vault, through the SDK), and no local password file."""
    sb = quiet_sandbox
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    state = vault_desired(tmp_path)  # contoso: a new user and a password reset
    record = build_approval(
        plan_against(sb, state).plan,
        "sha256:test",
        by="Dana Reviewer",
        only=None,
        expires=dt.timedelta(days=1),
        reason=None,
        now=operator_now(),
    )
    write_approval(record, tmp_path / "approvals")
    controller = controller_for(sb, tmp_path / "desired", tmp_path)
    report = controller.cycle()
    assert report.result is not None
    done = set(report.result.of(OutcomeStatus.SUCCEEDED))
    kinds = {op.kind.value for op in report.result.plan.operations if op.id in done}
    assert {"user.create", "user.resetPassword"} <= kinds, report.result.outcomes
    with vault_client(sb) as vault:
        assert vault.get_secret(CAROL).value and vault.get_secret(BOB).value
    assert not (tmp_path / "secrets").exists()
    assert not (tmp_path / "home" / ".tenantctl" / "secrets").exists()


# -- helpers ----------------------------------------------------------------------------------


@contextmanager
def probes(controller: Controller, metrics: ControllerMetrics) -> Iterator[str]:
    """/healthz, /readyz and /metrics of ``controller`` on a free port; their base URL."""
    server = ProbeServer(
        "127.0.0.1", 0, metrics=metrics, health=controller.healthy, ready=controller.ready
    ).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def _journal_runs(tmp_path: Path) -> list[Any]:
    path = tmp_path / "journal.sqlite"
    if not path.exists():
        return []
    with Journal.open(path, create=False) as journal:
        return journal.runs()


def _operations(tmp_path: Path, run_id: int) -> list[Any]:
    with Journal.open(tmp_path / "journal.sqlite", create=False) as journal:
        return journal.operations(run_id)


def _held_ids(tmp_path: Path, run_id: int) -> set[str]:
    return {op.op_id for op in _operations(tmp_path, run_id) if op.hold is not None}


def _moment(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
