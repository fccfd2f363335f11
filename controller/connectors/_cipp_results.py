"""What CIPP's change endpoints answer, read as results.

Several change endpoints answer 200 even when an item failed, with free-text results whose
wording changes between CIPP versions (API-NOTES.md). These pure functions read them as well
as words allow: a write is judged by reading it back (``CippClient``), and these results only
explain a write that the read-back does not show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from controller.redaction import redact_text

#: ``not-visible``: CIPP could not find the object it was to change because it was created
#: moments ago and has not replicated yet; the change did not run, and will once it has.
Outcome = Literal["success", "failure", "unconfirmed", "not-visible"]

# ExecEditMailboxPermissions reads the mailbox's id from Graph first and passes it as
# -Identity; for a mailbox CIPP created seconds ago Graph has no user yet, the id is null and
# each change fails with this text (CIPP-API Invoke-ExecEditMailboxPermissions.ps1 as of
# 3bbfe4435: ``$userid = (New-GraphGetRequest .../users/$username).id``).
_NOT_VISIBLE_YET = ("cannot bind argument to parameter 'identity' because it is null",)

_FAILURE_STARTS = ("error", "failed", "could not", "unable", "cannot", "we could not")
_FAILURE_WORDS = ("could not", "failed to", "error:", "exception", "not found", "denied")
_SUCCESS_STARTS = (
    "success",
    "successfully",
    "granted",
    "added",
    "removed",
    "created",
    "set ",
    "updated",
    "blocked",
    "queued",
    "deploying",
    "the new password",
)


@dataclass(frozen=True)
class CippResult:
    """One item of a change endpoint's ``Results``."""

    text: str
    outcome: Outcome


def classify(text: str) -> Outcome:
    """``Error - ...`` and free-text failures ("Could not add ...") are failures, but those
    that say the object has not replicated yet are ``not-visible``; known success wording is
    success; anything else is unconfirmed (a read-back decides)."""
    lowered = text.strip().lower()
    if any(words in lowered for words in _NOT_VISIBLE_YET):
        return "not-visible"
    if lowered.startswith(_FAILURE_STARTS) or any(word in lowered for word in _FAILURE_WORDS):
        return "failure"
    if lowered.startswith(_SUCCESS_STARTS):
        return "success"
    return "unconfirmed"


def parse_results(body: Any) -> list[CippResult]:
    """The per-item results of a change endpoint (``{"Results": str | [str | {...}]}``)."""
    results = body.get("Results") if isinstance(body, dict) else body
    if results is None:
        return []
    items = results if isinstance(results, list) else [results]
    parsed: list[CippResult] = []
    for item in items:
        if isinstance(item, dict):
            text = str(item.get("resultText") or item.get("message") or item.get("Results") or "")
            state = str(item.get("state") or "").lower()
            if state in ("success", "error", "failed"):
                parsed.append(CippResult(text, "success" if state == "success" else "failure"))
            else:
                parsed.append(CippResult(text, classify(text)))
        else:
            parsed.append(CippResult(str(item), classify(str(item))))
    return parsed


@dataclass(frozen=True)
class PasswordReset:
    results: list[CippResult]
    #: the new password when CIPP returns it; goes to the secret sink, never to a log
    password: str | None = field(default=None, repr=False)


def redact_results(results: Sequence[CippResult]) -> list[CippResult]:
    """Results safe to log or show: a password in "The new password is ..." is masked, and
    the rest passes :func:`~controller.redaction.redact_text`."""
    masked: list[CippResult] = []
    for r in results:
        marker = r.text.lower().find("password is ")
        text = r.text if marker < 0 else r.text[: marker + len("password is ")] + "***"
        masked.append(CippResult(redact_text(text), r.outcome))
    return masked


def permissions_by_user(rows: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for row in rows:
        user = str(row.get("User") or row.get("user") or "").lower()
        permissions = row.get("Permissions") or row.get("AccessRights") or []
        if isinstance(permissions, str):
            permissions = [p.strip() for p in permissions.replace(";", ",").split(",")]
        held.setdefault(user, set()).update(str(p).lower() for p in permissions if p)
    return held
