"""Approval records: who approved which fingerprints of a plan, when, and until when.

``tenantctl approve plan.json --by NAME`` writes one record under ``approvals/``; it is
reviewed and merged like any other change. Approving needs only the plan file: no
credentials, no network. Apply re-plans and executes an operation whose fingerprint an
unexpired record names; because a fingerprint covers the observed values, an operation whose
tenant changed since approval has a new fingerprint and is held as stale.

Integrity, and what it does not claim:

- ``plan_digest`` is the sha256 of the plan file's bytes as approved; a reviewer can compare it
  with the plan CI posted.
- ``record_digest`` is the sha256 of the record's canonical content (every other field, keys
  sorted, compact JSON). A record edited by hand (another fingerprint, a later expiry) no
  longer matches and is refused when loaded. It is tamper-*evident*, not a signature: someone
  who recomputes the digest can forge a record; authenticity comes from the git review that
  merges it.
- The plan file is re-validated as a :class:`~controller.plan.types.Plan` and checked for
  internal consistency (each operation in the tenant it claims, unique operation ids and
  fingerprints, dependencies that exist). When the planner's ``plan_id`` recomputation is
  passed as ``verify_plan_id`` the id must match the content too. A plan edited to approve
  something else still cannot execute anything: apply re-computes every fingerprint from the
  tenant as it is.

Format: version 2 records have camelCase keys (``planId``, ``approvedBy``), like every other
file and output of tenantctl; version 1 records (snake_case, written before) still load and
keep counting until they expire, their digest computed over their own keys. New records are
always version 2.

Times are UTC. File I/O is limited to :func:`read_plan`, :func:`write_approval`,
:func:`create_approval` and :func:`load_approvals`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, ValidationError, field_validator

from controller.errors import ApprovalError, UsageError
from controller.files import SHARED, write_atomically
from controller.models import Decision
from controller.models.common import CAMEL_CASE
from controller.plan.types import PLAN_FORMAT_VERSION, Operation, Plan

APPROVAL_FORMAT_VERSION: Literal[2] = 2
DEFAULT_APPROVALS_DIR = Path("approvals")
# A fingerprint may be given by a unique prefix this long or longer, as people copy it from
# the terminal.
MIN_FINGERPRINT_PREFIX = 8

_DURATION = re.compile(r"^(\d+)([dhm])$")
_DURATION_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class _ApprovalModel(BaseModel):
    model_config = CAMEL_CASE


class ApprovedOperation(_ApprovalModel):
    """One approved fingerprint, with what it was for so a reviewer can read the record."""

    fingerprint: str = Field(min_length=1)
    tenant: str
    kind: str
    target: str
    operation: str = Field(description="The operation's id in the approved plan")


class ApprovalRecord(_ApprovalModel):
    format_version: Literal[1, 2] = APPROVAL_FORMAT_VERSION
    plan_id: str
    plan_digest: str = Field(description="sha256:<hex> of the plan file's bytes as approved")
    approved_by: str = Field(min_length=1)
    approved_at: AwareDatetime
    expires_at: AwareDatetime
    reason: str | None = None
    operations: tuple[ApprovedOperation, ...] = Field(min_length=1)
    record_digest: str = Field(description="sha256:<hex> of the canonical content without it")

    @field_validator("approved_at", "expires_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(op.fingerprint for op in self.operations)

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at

    def content_digest(self) -> str:
        """The digest ``record_digest`` must equal: over every other field, canonically, with
        the keys of the record's own format version (snake_case in version 1)."""
        content = self.model_dump(
            mode="json", exclude={"record_digest"}, by_alias=self.format_version >= 2
        )
        return _sha256(_canonical(content))

    @property
    def intact(self) -> bool:
        return self.record_digest == self.content_digest()


@dataclass(frozen=True)
class StoredApproval:
    """A record and the file that holds it (the journal notes which one an operation used)."""

    path: Path
    record: ApprovalRecord


@dataclass(frozen=True)
class ApprovalSet:
    """The approval records of a directory, as of one moment: active ones and expired ones."""

    active: tuple[StoredApproval, ...] = ()
    expired: tuple[StoredApproval, ...] = ()

    def lookup(self, fingerprint: str) -> ApprovalRecord | None:
        """The unexpired record that approves ``fingerprint``, if any."""
        stored = self.lookup_stored(fingerprint)
        return stored.record if stored else None

    def lookup_stored(self, fingerprint: str) -> StoredApproval | None:
        """Like :meth:`lookup`, with the record's file. When several records approve the same
        fingerprint the one that expires last is used (then the first file name)."""
        return _latest(s for s in self.active if fingerprint in s.record.fingerprints)

    def expired_for(self, fingerprint: str) -> StoredApproval | None:
        """An expired record that approved ``fingerprint``: why an operation is still pending."""
        return _latest(s for s in self.expired if fingerprint in s.record.fingerprints)

    def for_target(self, tenant: str, kind: str, target: str) -> tuple[StoredApproval, ...]:
        """Unexpired records approving this tenant, kind and target, whatever the fingerprint.

        When none of them names the operation's current fingerprint the tenant changed since
        approval: the operation is stale."""
        wanted = (tenant, kind, target)
        return tuple(
            stored
            for stored in self.active
            if any((a.tenant, a.kind, a.target) == wanted for a in stored.record.operations)
        )


# --- approving ---------------------------------------------------------------------------


def parse_duration(text: str) -> dt.timedelta:
    """``7d``, ``12h`` or ``30m`` as a timedelta. Raises :class:`UsageError` otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(
            f"{text!r} is not a duration; use a positive whole number with d, h or m "
            "(e.g. 7d, 12h, 30m)"
        )
    return dt.timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})


def read_plan(
    path: Path, *, verify_plan_id: Callable[[Plan], str] | None = None
) -> tuple[Plan, str]:
    """Read and verify a plan file; return the plan and ``sha256:<hex>`` of its bytes.

    Raises :class:`UsageError` when the file is missing and :class:`ApprovalError` when it is
    not an intact tenantctl plan.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"plan file {path} not found") from None
    except OSError as problem:
        raise UsageError(f"cannot read plan file {path}: {problem.strerror}") from None
    redo = "re-create it with `tenantctl plan --out`"
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise ApprovalError(f"{path} is not JSON ({problem}); {redo}") from None
    if isinstance(data, dict) and "format_version" in data:
        # Version 1 (snake_case keys) came before the output contract; its plan id and
        # fingerprints are still those of its day, so the plan is made again, not converted.
        raise ApprovalError(
            f"{path} is a plan of format version {data['format_version']} written by an older "
            f"tenantctl; this one approves format version {PLAN_FORMAT_VERSION} only: {redo}"
        )
    if not isinstance(data, dict) or data.get("formatVersion") != PLAN_FORMAT_VERSION:
        raise ApprovalError(
            f"{path} is not a tenantctl plan of format version {PLAN_FORMAT_VERSION}; {redo}"
        )
    try:
        plan = Plan.model_validate(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ApprovalError(
            f"{path} is not a valid tenantctl plan ({where}: {first['msg']}); {redo}"
        ) from None
    inconsistencies = _inconsistencies(plan)
    if inconsistencies:
        raise ApprovalError(
            f"{path} was edited after `tenantctl plan` wrote it: {inconsistencies[0]}; {redo}"
        )
    if verify_plan_id is not None and verify_plan_id(plan) != plan.plan_id:
        raise ApprovalError(
            f"{path} was edited after `tenantctl plan` wrote it: its planId does not match "
            f"its content; {redo}"
        )
    return plan, _sha256(raw)


def build_approval(
    plan: Plan,
    plan_digest: str,
    *,
    by: str,
    only: Sequence[str] | None,
    expires: dt.timedelta,
    reason: str | None,
    now: dt.datetime,
) -> ApprovalRecord:
    """The record approving ``only`` (fingerprints or unique prefixes), or every operation of
    the plan that needs approval. Pure. Raises :class:`UsageError` for what cannot be
    approved, saying why."""
    approver = " ".join(by.split())
    if not approver:
        raise UsageError("--by needs the approver's name")
    if expires <= dt.timedelta(0):
        raise UsageError("an approval must expire in the future")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    operations = plan.operations
    if only:
        chosen = [_refuse_unapprovable(_find(operations, given, plan)) for given in only]
    else:
        chosen = [op for op in operations if _needs_approval(op)]
        if not chosen:
            raise UsageError(
                f"nothing to approve in plan {plan.plan_id[:8]}: every operation is allowed "
                "by policy, denied, or a manual step"
            )
    unique = {op.fingerprint: op for op in chosen}.values()
    approved = tuple(
        sorted(
            (
                ApprovedOperation(
                    fingerprint=op.fingerprint,
                    tenant=op.tenant,
                    kind=op.kind.value,
                    target=op.target,
                    operation=op.id,
                )
                for op in unique
            ),
            key=lambda a: (a.tenant, a.kind, a.target, a.fingerprint),
        )
    )
    approved_at = now.astimezone(dt.UTC).replace(microsecond=0)
    content: dict[str, Any] = {
        "plan_id": plan.plan_id,
        "plan_digest": plan_digest,
        "approved_by": approver,
        "approved_at": approved_at,
        "expires_at": approved_at + expires,
        "reason": " ".join(reason.split()) if reason else None,
        "operations": approved,
    }
    unsigned = ApprovalRecord.model_validate({**content, "record_digest": ""})
    return unsigned.model_copy(update={"record_digest": unsigned.content_digest()})


def write_approval(record: ApprovalRecord, directory: Path) -> Path:
    """Write ``record`` as ``<directory>/<date>-<approver>-<planid8>.json`` atomically.

    The same record written twice lands in the same file; a different record of the same day,
    approver and plan gets a ``-2``, ``-3``... suffix rather than replacing the first.
    """
    directory.mkdir(parents=True, exist_ok=True)
    data = approval_bytes(record)
    stem = f"{record.approved_at:%Y-%m-%d}-{_file_slug(record.approved_by)}-{record.plan_id[:8]}"
    for attempt in range(1, 1000):
        path = directory / (f"{stem}.json" if attempt == 1 else f"{stem}-{attempt}.json")
        if path.exists():
            if path.read_bytes() == data:
                return path
            continue
        write_atomically(path, data, mode=SHARED)  # committed to git and read by reviewers
        return path
    raise UsageError(f"too many approval records named {stem}-* in {directory}")


def create_approval(
    plan_path: Path,
    *,
    by: str,
    only: Sequence[str] | None,
    expires: dt.timedelta,
    reason: str | None,
    now: dt.datetime,
    directory: Path = DEFAULT_APPROVALS_DIR,
    verify_plan_id: Callable[[Plan], str] | None = None,
) -> StoredApproval:
    """Verify the plan file, build the record and write it under ``directory``."""
    plan, digest = read_plan(plan_path, verify_plan_id=verify_plan_id)
    record = build_approval(plan, digest, by=by, only=only, expires=expires, reason=reason, now=now)
    return StoredApproval(write_approval(record, directory), record)


def approval_bytes(record: ApprovalRecord) -> bytes:
    """The file content of a record: indented JSON in field order, one trailing newline."""
    return (
        json.dumps(record.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
        + "\n"
    ).encode()


# --- loading -----------------------------------------------------------------------------


def load_approvals(directory: Path, now: dt.datetime) -> ApprovalSet:
    """Every ``*.json`` record directly in ``directory``, split into active and expired.

    A missing directory holds no approvals. A corrupt or edited record makes the whole load
    fail with :class:`ApprovalError` naming every such file: a record that cannot be trusted
    means someone should look before anything is applied.
    """
    if not directory.is_dir():
        return ApprovalSet()
    active: list[StoredApproval] = []
    expired: list[StoredApproval] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.json")):
        try:
            record = ApprovalRecord.model_validate_json(path.read_bytes())
        except ValidationError as problem:
            first = problem.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            problems.append(f"{path}: not an approval record ({where}: {first['msg']})")
            continue
        except OSError as problem:
            problems.append(f"{path}: cannot be read ({problem.strerror})")
            continue
        if not record.intact:
            problems.append(
                f"{path}: recordDigest does not match the content; the record was edited "
                "after `tenantctl approve` wrote it (approve again instead of editing)"
            )
            continue
        (expired if record.expired(now) else active).append(StoredApproval(path, record))
    if problems:
        count = len(problems)
        raise ApprovalError(
            f"{count} approval record{'s' if count != 1 else ''} cannot be trusted:\n  "
            + "\n  ".join(problems)
        )
    return ApprovalSet(active=tuple(active), expired=tuple(expired))


# --- helpers -----------------------------------------------------------------------------


def _needs_approval(op: Operation) -> bool:
    # A plan saved before policy ran has no decisions; its writes need approval (the default).
    return not op.is_manual and op.decision not in (Decision.ALLOW, Decision.DENY)


def _find(operations: Sequence[Operation], given: str, plan: Plan) -> Operation:
    wanted = given.strip().lower()
    exact = [op for op in operations if op.fingerprint.lower() == wanted]
    if exact:
        return exact[0]
    if len(wanted) >= MIN_FINGERPRINT_PREFIX:
        by_prefix = {op.fingerprint: op for op in operations if op.fingerprint.startswith(wanted)}
        if len(by_prefix) == 1:
            return next(iter(by_prefix.values()))
        if len(by_prefix) > 1:
            raise UsageError(
                f"fingerprint {given} is ambiguous in plan {plan.plan_id[:8]}: it starts "
                f"{len(by_prefix)} fingerprints; give more characters"
            )
    raise UsageError(f"fingerprint {given} is not in plan {plan.plan_id[:8]}")


def _refuse_unapprovable(op: Operation) -> Operation:
    what = f"{op.tenant} {op.kind.value} {op.target} ({op.fingerprint[:12]})"
    if op.is_manual:
        raise UsageError(
            f"{what} is a manual step: a person performs it, apply never does; "
            "there is nothing to approve"
        )
    if op.decision is Decision.ALLOW:
        raise UsageError(
            f"{what} is already allowed by {op.decision_reason}; there is nothing to approve"
        )
    if op.decision is Decision.DENY:
        raise UsageError(
            f"{what} is denied by {op.decision_reason}; a denied operation cannot be approved "
            "(change the policy instead)"
        )
    return op


def _inconsistencies(plan: Plan) -> list[str]:
    found: list[str] = []
    ids: set[str] = set()
    fingerprints: set[str] = set()
    for tenant in plan.tenants:
        for op in tenant.operations:
            if op.tenant != tenant.name:
                found.append(f"operation {op.id} names tenant {op.tenant} but is in {tenant.name}")
            if op.id in ids:
                found.append(f"operation id {op.id} appears twice")
            if op.fingerprint in fingerprints:
                found.append(f"fingerprint {op.fingerprint[:12]} appears twice")
            ids.add(op.id)
            fingerprints.add(op.fingerprint)
    for op in plan.operations:
        found.extend(
            f"operation {op.id} depends on {dep}, which the plan does not hold"
            for dep in op.depends_on
            if dep not in ids
        )
    return found


def _latest(candidates: Iterable[StoredApproval]) -> StoredApproval | None:
    ordered = sorted(candidates, key=lambda s: (-s.record.expires_at.timestamp(), s.path.name))
    return ordered[0] if ordered else None


def _canonical(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _file_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].strip("-") or "approver"
