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
  who recomputes the digest can forge a record.
- ``signature`` (``approve --sign-with KEY``) makes a record *attributable*: an SSH signature
  (:mod:`controller.policy.signatures`) over the same content by the approver's Ed25519 key.
  Loading verifies every signature there is (one that does not hold makes the load fail);
  a record counts as signed by a person only when the key is listed under
  ``spec.policy.approvers`` with the name the record gives. With
  ``spec.policy.requireSignedApprovals`` every other record is ignored (and said so).
- The plan file is re-validated as a :class:`~controller.plan.types.Plan` and checked for
  internal consistency (each operation in the tenant it claims, unique operation ids and
  fingerprints, dependencies that exist). When the planner's ``plan_id`` recomputation is
  passed as ``verify_plan_id`` the id must match the content too. A plan edited to approve
  something else still cannot execute anything: apply re-computes every fingerprint from the
  tenant as it is.

Times are UTC. File I/O is limited to :func:`read_plan`, :func:`write_approval`,
:func:`create_approval` and :func:`load_approvals`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from controller.errors import ApprovalError, UsageError
from controller.files import SHARED, write_atomically
from controller.models import Policy
from controller.plan.types import PLAN_FORMAT_VERSION, Plan
from controller.policy._records import (
    APPROVAL_FORMAT_VERSION,
    MAX_APPROVAL_LIFETIME,
    MAX_CLOCK_SKEW,
    MIN_FINGERPRINT_PREFIX,
    ApprovalRecord,
    ApprovalSet,
    ApprovedOperation,
    StoredApproval,
    _sha256,
    build_approval,
    parse_duration,
)
from controller.policy.signatures import SignatureInvalid, fingerprint, key_blob, verify
from controller.regular_files import MIB, FileRefused, load_json, read_regular

__all__ = [
    "APPROVAL_FORMAT_VERSION",
    "DEFAULT_APPROVALS_DIR",
    "MAX_APPROVAL_LIFETIME",
    "MAX_CLOCK_SKEW",
    "MIN_FINGERPRINT_PREFIX",
    "ApprovalRecord",
    "ApprovalSet",
    "ApprovedOperation",
    "StoredApproval",
    "approval_bytes",
    "build_approval",
    "create_approval",
    "earlier_approval",
    "load_approvals",
    "operator_now",
    "parse_duration",
    "read_plan",
    "write_approval",
]

DEFAULT_APPROVALS_DIR = Path("approvals")
# Files from a pull request are read within bounds (controller.regular_files): a plan of a
# few thousand tenants is tens of MiB, a record lists fingerprints; neither nests deeply.
MAX_PLAN_BYTES = 256 * MIB
MAX_RECORD_BYTES = 8 * MIB
MAX_JSON_DEPTH = 64


# --- approving ---------------------------------------------------------------------------


def read_plan(
    path: Path, *, verify_plan_id: Callable[[Plan], str] | None = None
) -> tuple[Plan, str]:
    """Read and verify a plan file; return the plan and ``sha256:<hex>`` of its bytes.

    Raises :class:`UsageError` when the file is missing and :class:`ApprovalError` when it is
    not an intact tenantctl plan.
    """
    try:
        raw = read_regular(path, limit=MAX_PLAN_BYTES, within=path.parent)
    except FileNotFoundError:
        raise UsageError(f"plan file {path} not found") from None
    except FileRefused as refused:
        raise UsageError(f"plan file {path} {refused}") from None
    except OSError as problem:
        raise UsageError(f"cannot read plan file {path}: {problem.strerror}") from None
    redo = "re-create it with `tenantctl plan --out`"
    try:
        data = load_json(raw, max_depth=MAX_JSON_DEPTH)
    except FileRefused as refused:
        raise ApprovalError(f"{path} {refused}; {redo}") from None
    except json.JSONDecodeError as problem:
        raise ApprovalError(f"{path} is not JSON ({problem}); {redo}") from None
    except UnicodeDecodeError:  # its message would quote a byte of the file
        raise ApprovalError(f"{path} is not UTF-8 text, so not a plan; {redo}") from None
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


def write_approval(record: ApprovalRecord, directory: Path) -> Path:
    """Write ``record`` as ``<directory>/<date>-<approver>-<planid8>.json`` atomically.

    The same record written twice lands in the same file; a different record of the same day,
    approver and plan gets a ``-2``, ``-3``... suffix rather than replacing the first.
    """
    directory.mkdir(parents=True, exist_ok=True)
    data = approval_bytes(record)
    stem = _stem(record)
    for attempt in range(1, 1000):
        path = directory / (f"{stem}.json" if attempt == 1 else f"{stem}-{attempt}.json")
        if path.exists() or path.is_symlink():
            if _bytes_or_none(path, directory) == data:
                return path
            continue
        write_atomically(path, data, mode=SHARED)  # committed to git and read by reviewers
        return path
    raise UsageError(f"too many approval records named {stem}-* in {directory}")


def earlier_approval(record: ApprovalRecord, directory: Path) -> StoredApproval | None:
    """A record written earlier the same day by the same approver for the same plan that
    already approves every fingerprint ``record`` does (and is signed if it is): approving
    again adds nothing."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob(f"{_stem(record)}*.json")):
        raw = _bytes_or_none(path, directory)
        try:
            earlier = ApprovalRecord.model_validate_json(raw) if raw is not None else None
        except ValidationError:
            continue
        if (
            earlier is not None
            and earlier.intact
            and earlier.plan_id == record.plan_id
            and earlier.approved_by == record.approved_by
            and record.fingerprints <= earlier.fingerprints
            and (record.signature is None or earlier.signature is not None)
        ):
            return StoredApproval(path, earlier, existing=True)
    return None


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
    sign: Callable[[bytes], str] | None = None,
) -> StoredApproval:
    """Verify the plan file, build the record (signed by ``sign``, when given, over its
    :meth:`~ApprovalRecord.signed_content`) and write it under ``directory``. When a record
    of the same day, approver and plan already approves all of it, nothing is written and
    that record comes back (``existing``): approving twice is approving once."""
    plan, digest = read_plan(plan_path, verify_plan_id=verify_plan_id)
    record = build_approval(plan, digest, by=by, only=only, expires=expires, reason=reason, now=now)
    if sign is not None:
        record = record.model_copy(update={"signature": sign(record.signed_content())})
    earlier = earlier_approval(record, directory)
    if earlier is not None:
        return earlier
    return StoredApproval(write_approval(record, directory), record)


def approval_bytes(record: ApprovalRecord) -> bytes:
    """The file content of a record: indented JSON in field order, one trailing newline (an
    unsigned record has no ``signature`` key, as records had before signing existed)."""
    content = record.model_dump(
        mode="json", exclude={"signature"} if not record.signature else None, by_alias=True
    )
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode()


# --- loading -----------------------------------------------------------------------------


def load_approvals(
    directory: Path, now: dt.datetime, *, policy: Policy | None = None
) -> ApprovalSet:
    """Every ``*.json`` record directly in ``directory``, split into active and expired.

    ``now`` is operator time, the clock ``tenantctl approve`` stamps records with (the wall
    clock), never a service's: the sandbox's virtual clock starts at its scenario's epoch.

    A missing directory holds no approvals. A record that cannot be trusted makes the whole
    load fail with :class:`ApprovalError` naming every such file: one that is not a regular
    file inside ``directory`` (a FIFO, a device, a link leaving it) or is too large or too
    deeply nested, one that is corrupt or edited, one dated in the future (beyond
    :data:`MAX_CLOCK_SKEW`), one whose signature does not hold. Someone should look before
    anything is applied.

    ``policy`` (``msp.yaml``'s) lists the approvers whose signatures name a person and says
    whether unsigned records count (``requireSignedApprovals``); without it none do.
    """
    if not directory.is_dir():
        return ApprovalSet()
    active: list[StoredApproval] = []
    expired: list[StoredApproval] = []
    ignored: list[tuple[StoredApproval, str]] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.json")):
        record, problem = _read_record(path, directory)
        if record is None:
            problems.append(f"{path}: {problem}")
            continue
        if record.approved_at > now + MAX_CLOCK_SKEW:
            problems.append(
                f"{path}: approved_at {record.approved_at:%Y-%m-%dT%H:%M:%SZ} is in the future "
                f"(now {now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}); a record cannot be made "
                "before it was made: check the approver's clock and approve again"
            )
            continue
        try:
            stored = _attributed(StoredApproval(path, record), policy)
        except SignatureInvalid as invalid:
            problems.append(f"{path}: {invalid}")
            continue
        reason = _not_honoured(stored, policy)
        if reason is not None:
            ignored.append((stored, reason))
            continue
        (expired if record.expired(now) else active).append(stored)
    if problems:
        count = len(problems)
        raise ApprovalError(
            f"{count} approval record{'s' if count != 1 else ''} cannot be trusted:\n  "
            + "\n  ".join(problems)
        )
    return ApprovalSet(active=tuple(active), expired=tuple(expired), ignored=tuple(ignored))


def _attributed(stored: StoredApproval, policy: Policy | None) -> StoredApproval:
    """``stored`` with the listed approver whose key signed it under their own name."""
    record = stored.record
    if record.signature is None:
        return stored
    blob = verify(record.signed_content(), record.signature)  # raises SignatureInvalid
    for approver in policy.approvers if policy is not None else ():
        if key_blob(approver.public_key) == blob and _same_name(approver.name, record.approved_by):
            return replace(stored, verified_by=approver.name, key_fingerprint=fingerprint(blob))
    return stored


def _not_honoured(stored: StoredApproval, policy: Policy | None) -> str | None:
    """Why apply must ignore ``stored`` under ``requireSignedApprovals``, or ``None``."""
    if policy is None or not policy.require_signed_approvals or stored.verified_by is not None:
        return None
    record = stored.record
    if record.signature is None:
        return "not signed, and msp.yaml requireSignedApprovals is true (approve --sign-with KEY)"
    blob = verify(record.signed_content(), record.signature)
    listed = [a.name for a in policy.approvers if key_blob(a.public_key) == blob]
    if listed:
        return f"signed with the key of {listed[0]}, but it names {record.approved_by}"
    return f"signed with {fingerprint(blob)}, which msp.yaml's approvers do not list"


def _same_name(listed: str, given: str) -> bool:
    return " ".join(listed.split()).casefold() == " ".join(given.split()).casefold()


def operator_now() -> dt.datetime:
    """The wall clock, in UTC: the time approvals are stamped with and judged by."""
    return dt.datetime.now(dt.UTC)


def _read_record(path: Path, directory: Path) -> tuple[ApprovalRecord | None, str]:
    """A record read within bounds, or ``None`` and why it cannot be trusted."""
    try:
        data = load_json(
            read_regular(path, limit=MAX_RECORD_BYTES, within=directory),
            max_depth=MAX_JSON_DEPTH,
        )
        record = ApprovalRecord.model_validate(data)
    except FileRefused as refused:
        return None, str(refused)
    except OSError as problem:
        return None, f"cannot be read ({problem.strerror})"
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, "not an approval record (not JSON)"
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return None, f"not an approval record ({where + ': ' if where else ''}{first['msg']})"
    if not record.intact:
        return None, (
            "recordDigest does not match the content; the record was edited after "
            "`tenantctl approve` wrote it (approve again instead of editing)"
        )
    return record, ""


def _bytes_or_none(path: Path, directory: Path) -> bytes | None:
    try:
        return read_regular(path, limit=MAX_RECORD_BYTES, within=directory)
    except (OSError, FileRefused):
        return None


def _stem(record: ApprovalRecord) -> str:
    return f"{record.approved_at:%Y-%m-%d}-{_file_slug(record.approved_by)}-{record.plan_id[:8]}"


# --- helpers -----------------------------------------------------------------------------


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


def _file_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].strip("-") or "approver"
