"""Approval records as values: what a record holds, how one is built from a plan, and the set
of records apply consults. Pure: no file system, no clock (``now`` is passed in).

:mod:`controller.policy.approvals` reads and writes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from controller.errors import UsageError
from controller.models import Decision
from controller.models.common import CAMEL_CASE
from controller.plan.types import Operation, Plan

APPROVAL_FORMAT_VERSION: Literal[2] = 2
# A fingerprint may be given by a unique prefix this long or longer, as people copy it from
# the terminal.
MIN_FINGERPRINT_PREFIX = 8

_DURATION = re.compile(r"^([0-9]{1,9})([dhm])$")
_DURATION_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
#: An approval is a judgement of the plan as the reviewer saw it; past this it is a standing
#: permission, which is what policy ``allow`` is for.
MAX_APPROVAL_LIFETIME = dt.timedelta(days=90)
#: How far an approval's time may lie ahead of the clock that reads it (clocks drift).
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)


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
    # Version 2 records have camelCase keys (planId, approvedBy), like every other file and
    # output of tenantctl; version 1 records (snake_case, written before) still load and keep
    # counting until they expire. New records are always version 2.
    format_version: Literal[1, 2] = APPROVAL_FORMAT_VERSION
    plan_id: str
    plan_digest: str = Field(description="sha256:<hex> of the plan file's bytes as approved")
    approved_by: str = Field(min_length=1)
    approved_at: AwareDatetime
    expires_at: AwareDatetime
    reason: str | None = None
    operations: tuple[ApprovedOperation, ...] = Field(min_length=1)
    signature: str | None = Field(
        default=None,
        description="An SSH signature (ssh-keygen -Y sign format, namespace tenantctl-approval) "
        "of signed_content(), by the approver's Ed25519 key; see controller.policy.signatures",
    )
    record_digest: str = Field(description="sha256:<hex> of the canonical content without it")

    @field_validator("approved_at", "expires_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _lifetime(self) -> ApprovalRecord:
        if self.expires_at <= self.approved_at:
            raise ValueError(
                "expiresAt is not after approvedAt: the record expired before it was made"
            )
        if self.expires_at - self.approved_at > MAX_APPROVAL_LIFETIME:
            raise ValueError(
                f"expiresAt is more than {MAX_APPROVAL_LIFETIME.days} days after approvedAt"
            )
        return self

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(op.fingerprint for op in self.operations)

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at

    def signed_content(self) -> bytes:
        """What a signature covers: every field but ``signature`` and ``record_digest``, as
        canonical JSON (keys sorted, no spaces, UTF-8), with the keys of the record's own format
        version (snake_case in version 1)."""
        return _canonical(
            self.model_dump(
                mode="json",
                exclude={"record_digest", "signature"},
                by_alias=self.format_version >= 2,
            )
        )

    def content_digest(self) -> str:
        """The digest ``record_digest`` must equal: over every other field but the signature
        (which is checked on its own), canonically."""
        return _sha256(self.signed_content())

    @property
    def intact(self) -> bool:
        return self.record_digest == self.content_digest()


@dataclass(frozen=True)
class StoredApproval:
    """A record and the file that holds it (the journal notes which one an operation used)."""

    path: Path
    record: ApprovalRecord
    #: an earlier record that already approved all of it (nothing new was written)
    existing: bool = False
    #: the listed approver whose key signed the record under their own name, if any
    verified_by: str | None = None
    #: ``SHA256:...`` of that key
    key_fingerprint: str | None = None

    @property
    def label(self) -> str:
        """How the journal and ``history`` name the record an operation ran under."""
        if self.verified_by is None:
            return self.path.name
        return f"{self.path.name}, signed by {self.verified_by} ({self.key_fingerprint})"


@dataclass(frozen=True)
class ApprovalSet:
    """The approval records of a directory, as of one moment: active ones and expired ones."""

    active: tuple[StoredApproval, ...] = ()
    expired: tuple[StoredApproval, ...] = ()
    #: records not honoured, and why (``requireSignedApprovals``: unsigned, key not listed)
    ignored: tuple[tuple[StoredApproval, str], ...] = ()

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


def parse_duration(text: str) -> dt.timedelta:
    """``7d``, ``12h`` or ``30m`` as a timedelta. Raises :class:`UsageError` otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(
            f"{text[:40]!r} is not a duration; use a positive whole number with d, h or m "
            "(e.g. 7d, 12h, 30m)"
        )
    duration = dt.timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})
    if duration > MAX_APPROVAL_LIFETIME:
        raise UsageError(
            f"{text.strip()} is longer than an approval may last ({MAX_APPROVAL_LIFETIME.days}d); "
            "for a standing permission, allow the operation kind in policy instead"
        )
    return duration


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
    if expires > MAX_APPROVAL_LIFETIME:
        raise UsageError(f"an approval may last at most {MAX_APPROVAL_LIFETIME.days} days")
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


def _latest(candidates: Iterable[StoredApproval]) -> StoredApproval | None:
    ordered = sorted(candidates, key=lambda s: (-s.record.expires_at.timestamp(), s.path.name))
    return ordered[0] if ordered else None


def _canonical(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
