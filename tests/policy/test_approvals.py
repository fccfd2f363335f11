"""Approval records: what create_approval writes and refuses (a missing, corrupt or edited
plan; unknown, manual, allowed and denied fingerprints), the record's file name and exact
content, and what load_approvals accepts (active), reports (expired) and refuses (edited or
corrupt records, naming the file)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from controller.errors import ApprovalError, UsageError
from controller.models import Policy
from controller.plan.types import Backend, Plan
from controller.policy import (
    ApprovalRecord,
    create_approval,
    decide,
    load_approvals,
    parse_duration,
    read_plan,
)
from tests.policy.factory import op, plan, tenant

NOW = dt.datetime(2026, 11, 26, 10, 30, 15, 123456, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)


def decided_plan() -> Plan:
    """A decided plan with a readable id (decide computes the content hash; the tests that
    check a plan file against it use real plans, in test_plan_tampering.py)."""
    policy = Policy.model_validate({"kinds": {"group.addMember": "allow", "user.delete": "deny"}})
    decided = decide(
        plan(
            tenant(
                "contoso",
                op("user.create", "user:alice@contoso.example", op_id="c1"),
                op("group.addMember", "group:sales/alice", op_id="c2", depends_on=("c1",)),
                op("user.delete", "user:old@contoso.example", op_id="c3"),
                op("consent.grant", "tenant:contoso", op_id="c4", backend=Backend.MANUAL),
            ),
            tenant("fabrikam", op("user.update", "user:bob@fabrikam.example", tenant="fabrikam")),
        ),
        policy,
        {},
    )
    return decided.model_copy(update={"plan_id": "ab12cd34" + "0" * 56})


def write_plan(directory: Path, the_plan: Plan | None = None) -> Path:
    path = directory / "plan.json"
    path.write_text((the_plan or decided_plan()).model_dump_json(indent=2) + "\n")
    return path


def fp(target: str) -> str:
    return next(o.fingerprint for o in decided_plan().operations if o.target == target)


def approve(tmp_path: Path, only: list[str] | None = None, **kwargs: object) -> ApprovalRecord:
    stored = create_approval(
        write_plan(tmp_path),
        by=str(kwargs.get("by", "Alice Admin")),
        only=only,
        expires=WEEK,
        reason=None,
        now=NOW,
        directory=tmp_path / "approvals",
    )
    return stored.record


# --- creating ----------------------------------------------------------------------------


def test_approving_a_plan_approves_every_operation_that_needs_it(tmp_path: Path) -> None:
    stored = create_approval(
        write_plan(tmp_path),
        by="Alice Admin",
        only=None,
        expires=WEEK,
        reason="ticket 4711",
        now=NOW,
        directory=tmp_path / "approvals",
    )
    assert stored.path == tmp_path / "approvals" / "2026-11-26-alice-admin-ab12cd34.json"
    record = stored.record
    assert [(a.tenant, a.kind, a.target) for a in record.operations] == [
        ("contoso", "user.create", "user:alice@contoso.example"),
        ("fabrikam", "user.update", "user:bob@fabrikam.example"),
    ]
    assert record.approved_at == dt.datetime(2026, 11, 26, 10, 30, 15, tzinfo=dt.UTC)
    assert record.expires_at == dt.datetime(2026, 12, 3, 10, 30, 15, tzinfo=dt.UTC)
    assert record.reason == "ticket 4711"
    assert record.plan_digest.startswith("sha256:")
    assert record.intact
    on_disk = json.loads(stored.path.read_text())
    assert list(on_disk) == [
        "formatVersion",
        "planId",
        "planDigest",
        "approvedBy",
        "approvedAt",
        "expiresAt",
        "reason",
        "operations",
        "recordDigest",
    ]
    assert on_disk["formatVersion"] == 2
    assert on_disk["approvedAt"] == "2026-11-26T10:30:15Z"
    assert on_disk["operations"][0] == {
        "fingerprint": fp("user:alice@contoso.example"),
        "tenant": "contoso",
        "kind": "user.create",
        "target": "user:alice@contoso.example",
        "operation": "c1",
    }


def test_the_record_is_deterministic_and_written_once(tmp_path: Path) -> None:
    first = create_approval(
        write_plan(tmp_path),
        by="alice",
        only=None,
        expires=WEEK,
        reason=None,
        now=NOW,
        directory=tmp_path / "a",
    )
    again = create_approval(
        write_plan(tmp_path),
        by="alice",
        only=None,
        expires=WEEK,
        reason=None,
        now=NOW,
        directory=tmp_path / "a",
    )
    assert again.path == first.path
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [first.path.name]


def test_a_different_record_never_replaces_another(tmp_path: Path) -> None:
    directory = tmp_path / "a"
    plan_path = write_plan(tmp_path)
    first = create_approval(
        plan_path,
        by="alice",
        only=[fp("user:alice@contoso.example")],
        expires=WEEK,
        reason=None,
        now=NOW,
        directory=directory,
    )
    second = create_approval(
        plan_path,
        by="alice",
        only=[fp("user:bob@fabrikam.example")],
        expires=WEEK,
        reason=None,
        now=NOW,
        directory=directory,
    )
    assert second.path.name == first.path.name.replace(".json", "-2.json")
    assert len(load_approvals(directory, NOW).active) == 2


def test_only_approves_the_named_fingerprints_and_accepts_a_prefix(tmp_path: Path) -> None:
    record = approve(tmp_path, only=[fp("user:bob@fabrikam.example")[:10]])
    assert [a.target for a in record.operations] == ["user:bob@fabrikam.example"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tenant:contoso", "is a manual step"),
        ("group:sales/alice", "is already allowed by msp.yaml spec.policy.kinds"),
        (
            "user:old@contoso.example",
            r"is denied by msp\.yaml spec\.policy\.kinds\['user\.delete'\] = deny",
        ),
    ],
)
def test_what_cannot_be_approved_is_refused(tmp_path: Path, target: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        approve(tmp_path, only=[fp(target)])
    assert not (tmp_path / "approvals").exists()


def test_an_unknown_fingerprint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="fingerprint deadbeef00 is not in plan ab12cd34"):
        approve(tmp_path, only=["deadbeef00"])


def test_nothing_to_approve_is_refused(tmp_path: Path) -> None:
    the_plan = decide(
        plan(tenant("contoso", op("group.addMember", "g"))),
        Policy.model_validate({"kinds": {"group.*": "allow"}}),
        {},
    )
    with pytest.raises(UsageError, match="nothing to approve"):
        create_approval(
            write_plan(tmp_path, the_plan), by="a", only=None, expires=WEEK, reason=None, now=NOW
        )


def test_an_empty_approver_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--by needs"):
        approve(tmp_path, by="  ")


# --- plan integrity ----------------------------------------------------------------------


def test_a_missing_plan_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"plan file .*nope\.json not found"):
        read_plan(tmp_path / "nope.json")


def test_a_corrupt_plan_is_refused(tmp_path: Path) -> None:
    path = write_plan(tmp_path)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(ApprovalError, match="is not JSON"):
        read_plan(path)


def test_a_plan_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = write_plan(tmp_path)
    data = json.loads(path.read_text())
    data["tenants"][0]["operations"][0]["extra"] = "x"
    path.write_text(json.dumps(data))
    with pytest.raises(ApprovalError, match=r"not a valid tenantctl plan \(tenants\.0\."):
        read_plan(path)


def test_a_plan_edited_inconsistently_is_refused(tmp_path: Path) -> None:
    path = write_plan(tmp_path)
    data = json.loads(path.read_text())
    data["tenants"][0]["operations"][1]["tenant"] = "fabrikam"
    path.write_text(json.dumps(data))
    with pytest.raises(ApprovalError, match="edited after `tenantctl plan` wrote it"):
        read_plan(path)


def test_a_plan_whose_id_does_not_match_its_content_is_refused(tmp_path: Path) -> None:
    path = write_plan(tmp_path)

    def recompute(the_plan: Plan) -> str:
        return "something else"

    with pytest.raises(ApprovalError, match="planId does not match its content"):
        read_plan(path, verify_plan_id=recompute)
    read_plan(path, verify_plan_id=lambda the_plan: the_plan.plan_id)


def test_the_plan_digest_is_the_files_sha256(tmp_path: Path) -> None:
    import hashlib

    path = write_plan(tmp_path)
    _, digest = read_plan(path)
    assert digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


# --- loading -----------------------------------------------------------------------------


def test_load_splits_active_and_expired(tmp_path: Path) -> None:
    record = approve(tmp_path)
    directory = tmp_path / "approvals"
    current = load_approvals(directory, NOW + dt.timedelta(days=6))
    assert [s.record for s in current.active] == [record]
    assert current.lookup(fp("user:alice@contoso.example")) == record
    later = load_approvals(directory, record.expires_at)
    assert later.active == ()
    assert later.lookup(fp("user:alice@contoso.example")) is None
    expired = later.expired_for(fp("user:alice@contoso.example"))
    assert expired is not None and expired.record == record


def test_a_missing_directory_holds_no_approvals(tmp_path: Path) -> None:
    assert load_approvals(tmp_path / "none", NOW).active == ()


def test_an_edited_record_is_refused_naming_the_file(tmp_path: Path) -> None:
    approve(tmp_path)
    (path,) = (tmp_path / "approvals").iterdir()
    data = json.loads(path.read_text())
    data["expiresAt"] = "2026-12-20T00:00:00Z"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ApprovalError) as refused:
        load_approvals(tmp_path / "approvals", NOW)
    assert str(refused.value) == (
        "1 approval record cannot be trusted:\n"
        f"  {path}: recordDigest does not match the content; the record was edited after "
        "`tenantctl approve` wrote it (approve again instead of editing)"
    )


def test_an_added_fingerprint_is_detected(tmp_path: Path) -> None:
    approve(tmp_path, only=[fp("user:alice@contoso.example")])
    (path,) = (tmp_path / "approvals").iterdir()
    data = json.loads(path.read_text())
    data["operations"][0]["fingerprint"] = fp("user:old@contoso.example")
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ApprovalError, match="recordDigest does not match"):
        load_approvals(tmp_path / "approvals", NOW)


def test_a_record_of_format_version_1_still_counts(tmp_path: Path) -> None:
    """Records written before the camelCase contract (snake_case keys, digest over them) keep
    approving until they expire; new records are version 2."""
    record = approve(tmp_path, only=[fp("user:alice@contoso.example")])
    assert record.format_version == 2
    (path,) = (tmp_path / "approvals").iterdir()
    old = record.model_copy(update={"format_version": 1})
    old = old.model_copy(update={"record_digest": old.content_digest()})
    data = old.model_dump(mode="json", by_alias=False)
    assert "plan_id" in data and "record_digest" in data
    path.write_text(json.dumps(data, indent=2))
    loaded = load_approvals(tmp_path / "approvals", NOW)
    assert loaded.lookup(fp("user:alice@contoso.example")) == old
    data["expires_at"] = "2026-12-20T00:00:00Z"  # and an edited one is still caught
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ApprovalError, match="recordDigest does not match"):
        load_approvals(tmp_path / "approvals", NOW)


def test_a_corrupt_record_is_refused_naming_the_file(tmp_path: Path) -> None:
    directory = tmp_path / "approvals"
    directory.mkdir()
    (directory / "broken.json").write_text("{")
    with pytest.raises(ApprovalError, match=r"broken\.json: not an approval record"):
        load_approvals(directory, NOW)


def test_for_target_finds_approvals_of_other_fingerprints(tmp_path: Path) -> None:
    approve(tmp_path)
    approvals = load_approvals(tmp_path / "approvals", NOW)
    (stored,) = approvals.for_target("contoso", "user.create", "user:alice@contoso.example")
    assert fp("user:alice@contoso.example") in stored.record.fingerprints
    assert approvals.for_target("contoso", "user.create", "user:other@contoso.example") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", dt.timedelta(days=7)),
        ("12h", dt.timedelta(hours=12)),
        ("30m", dt.timedelta(minutes=30)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "0d", "-1d", "1w", "1.5h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="is not a duration"):
        parse_duration(text)
