"""The retry rules of the HTTP core, as pure decisions: no I/O, no clock, no randomness.

:class:`~controller.connectors._http.HttpCore` sends, hands what came back to :func:`decide`
and does what the :data:`Decision` says. ``decide`` reads the facts of one request
(:class:`Call`), what its earlier sends came to (:class:`Attempts`), the time since the first
send and the answer, and returns one of:

- :class:`Return`: this is the answer;
- :class:`Raise`: give up with this typed error (its class says whether a later run may
  succeed: :class:`~controller.errors.TemporaryError` with ``delay``,
  :class:`~controller.errors.PermanentError`, :class:`~controller.errors.NeedsHuman`);
- :class:`Retry`: send again after ``after`` seconds (the service's ``Retry-After``) or, when
  the service gave none, after the jittered backoff of step ``backoff``;
- :class:`LookUp`: the request was a create that may have run; ask the caller's look-up
  whether its object exists (that object is then the answer) and otherwise do ``otherwise``.

The table, checked top to bottom (API-NOTES.md; "attempt" counts every send but throttled ones):

============================================  ===================================================
answer                                        decision
============================================  ===================================================
2xx                                           Return it.
429, to any request                           Retry after Retry-After (else backoff); a
                                              throttled request did not run, so it costs no
                                              attempt. The ``max_throttled_attempts``-th 429
                                              raises :class:`~controller.errors.Throttled`.
no connection made (connect error or          Retry with backoff, whatever the method (nothing
timeout, no pooled connection free)           reached the service); at ``max_attempts`` raise
                                              :class:`~controller.errors.Transient`.
500, 502, 503, 504, 408 (read as unclear:     Retry after Retry-After (else backoff); at
not CIPP's 5xx with its own Results), or a    ``max_attempts`` raise the error.
connection lost after sending, when the
request is safe
the same, when it is not safe (a create)      LookUp when the caller can look up, otherwise
                                              Raise: a create is never repeated blindly.
                                              If the look-up finds nothing it is re-sent (or
                                              raises at ``max_attempts``). This repeat is
                                              deliberate: the look-up has waited out the
                                              replication budget before it says "nothing".
404 to a DELETE after an earlier attempt      Return 204: the earlier attempt deleted it.
404 while ``expect_new``                      Retry with backoff while less than the
                                              ``replication_budget`` has passed since the first
                                              send, then raise
                                              :class:`~controller.errors.PropagationPending`.
Conflict or BadRequest after a send of this   LookUp, otherwise Raise: the repeat clashed with
create that may have run                      what the lost attempt made.
anything else                                 Raise the service's typed error.
============================================  ===================================================

"Safe" is GET, HEAD, OPTIONS, PUT, DELETE and PATCH unless the caller says otherwise
(``idempotent=``): a read sent as POST (an Exchange ``Get-*`` cmdlet) is safe, and a caller
whose read-back judges the write may mark a POST safe.

Whether a failed answer is throttled, unclear or a plain answer is its :class:`Reading`;
with it comes the typed error; :func:`classifier` picks the reading of each service.
:func:`by_status` reads both from the status (and the service's error translation): Graph,
Exchange, Partner Center. CIPP's failures must be read from the body (:func:`by_cipp_body`):
its endpoints catch what failed and answer with their own words and a status of their
choosing, so a CIPP 500 that carries them (``AddGroup``, ``ExecGroupsDelete``) is the
endpoint's answer, not an unclear one, and a create so answered is neither looked up nor
sent again.

``$batch`` items have their own, smaller rule (:func:`retry_item`, :func:`batch_round`):
an item answered 429, or 500/502/503/504 when its method is safe, is sent again in the next
round with the dependents that got 424 because of it, after the longest Retry-After of the
round (else backoff of the round number). Items have no look-up and no ``idempotent=``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from controller.connectors._headers import retry_after
from controller.connectors._messages import BatchOutcome, BatchRequest, ServiceResponse
from controller.connectors._translate import TRANSIENT_STATUSES, cipp_text, translate
from controller.errors import (
    BadRequest,
    Conflict,
    PropagationPending,
    Service,
    ServiceError,
    ServiceFault,
)
from controller.redaction import redact_text

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


@dataclass(frozen=True)
class RetryPolicy:
    #: attempts for 5xx / timeouts / dropped connections (safe requests only)
    max_attempts: int = 5
    #: attempts for 429 answers
    max_throttled_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    #: how long a read of a just-created object retries 404 (replication delay)
    replication_budget: float = 60.0
    #: rounds of ``$batch`` item retries
    batch_rounds: int = 8


def is_safe(method: str, idempotent: bool | None = None) -> bool:
    """May the request be sent again without asking whether it ran?"""
    return idempotent if idempotent is not None else method.upper() in SAFE_METHODS


# -- the facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """What ``decide`` needs to know about one request: its method (upper case), its path
    (for messages), whether it is safe to repeat, whether the caller can look up the object a
    create makes, and whether it reads an object created moments ago."""

    method: str
    path: str
    safe: bool
    can_look_up: bool = False
    expect_new: bool = False


@dataclass(frozen=True)
class Attempts:
    """What the earlier sends of one request came to."""

    #: sends that count against ``max_attempts``: all but the throttled ones
    counted: int = 0
    #: sends answered 429
    throttled: int = 0
    #: a send of this create got an unclear answer: it may have run
    maybe_ran: bool = False

    @property
    def sent(self) -> int:
        return self.counted + self.throttled


@dataclass(frozen=True)
class NoAnswer:
    """A send that got no HTTP answer. ``reached`` is False when the connection was never
    made, so nothing reached the service; True when it broke after the request went out."""

    error: ServiceError
    reached: bool


class Reading(Enum):
    """What a failed send says about whether the request ran."""

    #: refused before it ran (429): send again after Retry-After, costs no attempt
    THROTTLED = "throttled"
    #: never reached the service: sending again is always harmless
    NOT_SENT = "not sent"
    #: may have run (5xx, 408, a connection lost after sending)
    UNCLEAR = "unclear"
    #: the service judged the request and said no: the answer stands
    ANSWERED = "answered"


@dataclass(frozen=True)
class Verdict:
    """A failed answer, classified: the typed error it means and its :class:`Reading`."""

    error: ServiceError
    reading: Reading


#: Classifies a failed answer (status, headers, body) of one service.
Classify = Callable[[ServiceResponse], Verdict]


def read_status(status: int) -> Reading:
    """The :class:`Reading` of a failed answer from its status alone."""
    if status == 429:
        return Reading.THROTTLED
    if status in TRANSIENT_STATUSES or status == 408:
        return Reading.UNCLEAR
    return Reading.ANSWERED


def by_status(service: Service, tenant: str | None) -> Classify:
    """The service's own error translation (``_translate``) and the reading of the status."""

    def classify(answer: ServiceResponse) -> Verdict:
        error = translate(service, answer.status, answer.headers, answer.body, tenant=tenant)
        return Verdict(error, read_status(answer.status))

    return classify


#: How CIPP's own access check begins when it refuses the API client (the ``throw`` texts of
#: CIPP-API ``Modules/CIPPCore/Public/Authentication/Test-CIPPAccess.ps1``, answered 403 by
#: ``New-CippCoreRequest.ps1``), and the 403 CIPP answers once its subscription has ended.
CIPP_ACCESS_REFUSED = ("access to this", "access denied", "your cipp subscription has ended")


def by_cipp_body(tenant: str | None) -> Classify:
    """CIPP's failures, read from the body as well as the status (API-NOTES.md, "CIPP API").

    - A 403 whose words are not CIPP's access check is the endpoint reporting that the call it
      made for us failed (``AddSharedMailbox`` and every ``List*`` answer their failures 403):
      a :class:`~controller.errors.ServiceFault` with CIPP's words, not a missing role.
    - A 5xx carrying CIPP's ``Results`` is the endpoint's own answer (``AddGroup`` and
      ``ExecGroupsDelete`` answer 500 "Failed…" / "Could not delete…"): answered, never
      unclear, so a create is neither looked up nor sent again.
    - Anything else reads as every service's does (:func:`by_status`): a 403 of the access
      check is :class:`~controller.errors.PermissionDenied`, a 5xx without CIPP's words (the
      Functions host, a proxy) is unclear.
    """
    plain = by_status("cipp", tenant)

    def classify(answer: ServiceResponse) -> Verdict:
        text = cipp_text(answer.body)
        if text is None:
            return plain(answer)
        body = answer.body
        results = isinstance(body, list) or (isinstance(body, dict) and "Results" in body)
        refused = text.lower().startswith(CIPP_ACCESS_REFUSED)
        if not (
            (answer.status == 403 and not refused)
            or (answer.status in TRANSIENT_STATUSES and results)
        ):
            return plain(answer)
        words = redact_text(text)
        fault = ServiceFault(
            words,
            service="cipp",
            tenant=tenant,
            status=answer.status,
            code=words[:200],
        )
        return Verdict(fault, Reading.ANSWERED)

    return classify


def classifier(service: Service, tenant: str | None) -> Classify:
    """How failed answers of ``service`` are read: CIPP's by its body, the others' by status."""
    return by_cipp_body(tenant) if service == "cipp" else by_status(service, tenant)


# -- the decisions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Return:
    """This is the answer."""

    response: ServiceResponse


@dataclass(frozen=True)
class Raise:
    """Give up with ``error``."""

    error: ServiceError


@dataclass(frozen=True)
class Retry:
    """Send again after ``after`` seconds or, when ``after`` is None, after the jittered
    backoff of step ``backoff``. ``attempts`` is what the next send starts from; ``error``
    is what this send came to (for the log)."""

    error: ServiceError
    attempts: Attempts
    after: float | None = None
    backoff: int = 1


@dataclass(frozen=True)
class LookUp:
    """Ask the caller's look-up whether the create ran; if its object is not found, do
    ``otherwise``."""

    error: ServiceError
    otherwise: Retry | Raise


Decision = Return | Raise | Retry | LookUp


def decide(
    call: Call,
    answer: ServiceResponse | NoAnswer,
    attempts: Attempts,
    policy: RetryPolicy,
    *,
    elapsed: float,
    classify: Classify,
) -> Decision:
    """What to do with ``answer`` to ``call`` (the table in the module docstring).
    ``elapsed``: seconds since the first send of ``call``."""
    if isinstance(answer, ServiceResponse):
        if answer.ok:
            return Return(answer)
        verdict = classify(answer)
        status: int | None = answer.status
        wait = retry_after(answer.headers)
    else:
        verdict = Verdict(answer.error, Reading.UNCLEAR if answer.reached else Reading.NOT_SENT)
        status, wait = None, None
    error, reading = verdict.error, verdict.reading
    attempt = attempts.counted + 1  # this send's number; throttled sends do not count
    counted = replace(attempts, counted=attempt)

    if reading is Reading.THROTTLED:
        if attempts.throttled + 1 >= policy.max_throttled_attempts:
            return Raise(error)
        throttled = replace(attempts, throttled=attempts.throttled + 1)
        return Retry(error, throttled, after=wait, backoff=attempt)
    if reading is Reading.NOT_SENT or (reading is Reading.UNCLEAR and call.safe):
        return _again(error, counted, wait, policy)
    if reading is Reading.UNCLEAR:
        if not call.can_look_up:
            return Raise(error)  # nobody can tell whether the create ran
        ran = replace(counted, maybe_ran=True)
        return LookUp(error, otherwise=_again(error, ran, wait, policy))

    if status == 404 and call.method == "DELETE" and attempt > 1:
        return Return(ServiceResponse(204, {}, None))  # an earlier attempt ran and deleted it
    if status == 404 and call.expect_new:
        if elapsed < policy.replication_budget:
            return Retry(error, counted, backoff=attempt)
        return Raise(
            PropagationPending(
                f"{call.path} still answers 404 {policy.replication_budget:.0f} s "
                "after it was created (replication delay)",
                service=error.service,
                tenant=error.tenant,
                status=404,
                code=error.code,
                request_id=error.request_id,
                delay=60.0,
            )
        )
    if attempts.maybe_ran and call.can_look_up and isinstance(error, Conflict | BadRequest):
        return LookUp(error, otherwise=Raise(error))
    return Raise(error)


def _again(
    error: ServiceError, attempts: Attempts, wait: float | None, policy: RetryPolicy
) -> Retry | Raise:
    if attempts.counted >= policy.max_attempts:
        return Raise(error)
    return Retry(error, attempts, after=wait, backoff=attempts.counted)


# -- $batch items ---------------------------------------------------------------------------


def retry_item(method: str, answer: ServiceResponse) -> bool:
    """Is a ``$batch`` item sent again in the next round? 429 always (it did not run);
    500/502/503/504 only when its method is safe to repeat."""
    return answer.status == 429 or (
        answer.status in TRANSIENT_STATUSES and method.upper() in SAFE_METHODS
    )


@dataclass(frozen=True)
class BatchRound:
    """The items of the next ``$batch`` round, by id, and the wait before it: the longest
    Retry-After among the retried items, ``None`` when none gave one (back off)."""

    items: Mapping[str, BatchRequest]
    after: float | None


def batch_round(pending: Sequence[BatchRequest], results: Mapping[str, BatchOutcome]) -> BatchRound:
    """Which of ``pending`` go again, given this round's ``results`` (ids of ``pending`` to
    an answer, or the error that sank the item's envelope: an envelope is not retried here,
    :meth:`HttpCore.request` already did)."""
    again: dict[str, BatchRequest] = {}
    waits: list[float] = []
    for item in pending:
        answer = results[item.id]
        if isinstance(answer, ServiceResponse) and retry_item(item.method, answer):
            again[item.id] = item
            wait = retry_after(answer.headers)
            if wait is not None:
                waits.append(wait)
    # 424: "a request this one depends on failed". Re-issue it with its dependency.
    grew = True
    while grew:
        grew = False
        for item in pending:
            answer = results[item.id]
            if (
                item.id not in again
                and isinstance(answer, ServiceResponse)
                and answer.status == 424
                and any(dep in again for dep in item.depends_on)
            ):
                again[item.id] = item
                grew = True
    return BatchRound(again, max(waits) if waits else None)
