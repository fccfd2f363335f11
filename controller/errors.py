"""The one error tree of tenantctl.

Every failure that crosses a module boundary is one of these. Lower-level errors (httpx,
MSAL's error dicts, PyYAML, pydantic) are translated into this tree in exactly one place per
layer: the loader for desired-state files, each connector for its service. The retry meaning
lives in the type, so callers branch on the class, never on a message::

    TenantctlError
    ├── UsageError                  the operator asked for something impossible (bad flag, missing file)
    ├── DesiredStateError           desired state failed to load or validate; carries diagnostics
    ├── SecretError                 a {env: ...} / {file: ...} reference could not be resolved
    │   └── MissingSecrets          every reference a run needs that could not be, at once
    ├── ApprovalError               an approval record or the plan it approves cannot be trusted
    ├── JournalError                the apply journal could not record a write (locked, full, read-only)
    ├── ApplyLocked                 another apply holds this journal's lock
    ├── SecretNotStored             a generated password could not be written to the secret sink
    └── ServiceError                a call to login, Graph, Exchange, CIPP or Partner Center failed
        ├── TemporaryError          retrying later may succeed; ``delay`` says when (seconds)
        │   ├── Throttled           429 / Retry-After
        │   ├── Transient           5xx, timeout, dropped connection
        │   └── PropagationPending  403 while a role propagates, 404 right after a create
        ├── PermanentError          retrying the same request will fail the same way
        │   ├── PermissionDenied    403 that is not propagation
        │   ├── NotFound            404
        │   ├── Conflict            the object already exists / already a member
        │   ├── BadRequest          400 with the service's own code
        │   ├── UnknownTenant       AADSTS90002
        │   └── ServiceFault        anything else the service answered that we cannot classify
        └── NeedsHuman              nothing retries this: a person has to act
            ├── ConsentMissing      AADSTS7000229 (no service principal) / 65001
            └── CredentialError     bad or expired secret (7000215 / 7000222), app not found (700016)

Messages never contain a secret, a token or a password: connectors redact payloads before
they build an error, and ``__str__`` only shows fields set here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Service = Literal["login", "graph", "exchange", "cipp", "partnerCenter"]

__all__ = [
    "ApplyLocked",
    "ApprovalError",
    "BadRequest",
    "Conflict",
    "ConsentMissing",
    "CredentialError",
    "DesiredStateError",
    "Diagnostic",
    "JournalError",
    "MissingSecrets",
    "NeedsHuman",
    "NotFound",
    "PermanentError",
    "PermissionDenied",
    "PropagationPending",
    "SecretError",
    "SecretNotStored",
    "Service",
    "ServiceError",
    "ServiceFault",
    "TemporaryError",
    "TenantctlError",
    "Throttled",
    "Transient",
    "UnknownTenant",
    "UsageError",
]


class TenantctlError(Exception):
    """Base of every error tenantctl raises on purpose."""


class UsageError(TenantctlError):
    """The operator asked for something that cannot be done as asked (a flag, a path)."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a desired-state file, located to the character.

    Rendered as ``file:line:col: path.to.field: message`` (lines and columns are 1-based).
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Literal["error", "warning"] = field(default="error", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class DesiredStateError(TenantctlError):
    """The desired state did not load or validate. All problems are reported together."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics)
        count = len(self.diagnostics)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the desired state")


class SecretError(TenantctlError):
    """A secret reference could not be resolved. The message names the reference, never a value."""


class MissingSecrets(SecretError):
    """The secrets a run needs that could not be resolved, reported together rather than one
    variable per attempt; ``problems`` holds one message per reference."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(
            f"{count} secret{'s' if count != 1 else ''} this run needs cannot be read:\n  "
            + "\n  ".join(self.problems)
        )


class ApprovalError(TenantctlError):
    """An approval record or a plan file is corrupt or was edited after tenantctl wrote it.

    Nothing is approved or executed on its strength; the message names the file.
    """


JournalProblem = Literal["locked", "full", "read-only", "unavailable"]


class JournalError(TenantctlError):
    """The apply journal could not record a write. ``problem`` says which kind: ``locked``
    (another process held the database past the busy timeout), ``full`` (no space left),
    ``read-only`` (file, directory or file system), ``unavailable`` (anything else sqlite
    reports). The message names the journal and what to do; apply reports it on the operation
    and the tenant it stopped, never as an internal error."""

    def __init__(self, message: str, *, problem: JournalProblem) -> None:
        super().__init__(message)
        self.problem: JournalProblem = problem


class ApplyLocked(TenantctlError):
    """Another ``tenantctl apply`` holds the lock of this journal; the message names its pid,
    host and start time."""


class SecretNotStored(TenantctlError):
    """A generated password could not be written whole to the secret sink (full, read-only,
    ...). Nothing was sent to a service: the operation is held, not failed."""


class ServiceError(TenantctlError):
    """A call to a Microsoft or CIPP service failed.

    ``code`` is the service's own error code (Graph's ``error.code``, an AADSTS number, an
    Exchange exception name); branch on it, never on ``message``.
    """

    def __init__(
        self,
        message: str,
        *,
        service: Service,
        tenant: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.service: Service = service
        self.tenant = tenant
        self.status = status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [f"{self.service}"]
        if self.tenant:
            parts.append(f"tenant {self.tenant}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        head = ", ".join(parts)
        tail = f" (request id {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}"


class TemporaryError(ServiceError):
    """Retrying later may succeed. ``delay`` is the suggested wait in seconds."""

    def __init__(
        self,
        message: str,
        *,
        service: Service,
        delay: float = 0.0,
        tenant: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message, service=service, tenant=tenant, status=status, code=code, request_id=request_id
        )
        self.delay = delay


class Throttled(TemporaryError):
    """The service answered 429; ``delay`` comes from Retry-After."""


class Transient(TemporaryError):
    """5xx, a timeout or a dropped connection."""


class PropagationPending(TemporaryError):
    """The service has not caught up yet: a 403 while the Exchange role propagates (30 minutes
    to 2 hours), or a 404 for an object created seconds ago. Not a failure: hold and re-run."""


class PermanentError(ServiceError):
    """Retrying the same request will fail the same way."""


class PermissionDenied(PermanentError):
    """403 that is not explained by propagation: the app lacks a role or permission."""


class NotFound(PermanentError):
    """404: the object does not exist (after replication delay has been ruled out)."""


class Conflict(PermanentError):
    """The object already exists, or the member is already a member."""


class BadRequest(PermanentError):
    """400: the service rejected the request; ``code`` says why."""


class UnknownTenant(PermanentError):
    """AADSTS90002: the tenant id or domain does not exist in this cloud."""


class ServiceFault(PermanentError):
    """An answer we cannot classify more precisely."""


class NeedsHuman(ServiceError):
    """Nothing automatic fixes this; the message says what a person must do."""


class ConsentMissing(NeedsHuman):
    """The app has no service principal in the tenant (AADSTS7000229) or lacks consent (65001)."""


class CredentialError(NeedsHuman):
    """The partner app's credential is wrong (7000215), expired (7000222), or the app id is
    unknown to the directory (700016)."""
