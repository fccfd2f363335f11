"""The retry decision of the HTTP core (``_retry.decide``), with no HTTP at all: the table of
its module docstring case by case, a body classification plugged in for one service, the
``$batch`` item rule, and properties over generated answers (a create is never re-sent after
an unclear answer without a look-up first, a safe request is never looked up, a throttled
answer costs no attempt, and every request ends after a bounded number of sends)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.connectors import BatchRequest, RetryPolicy, ServiceResponse
from controller.connectors._retry import (
    Attempts,
    Call,
    Decision,
    LookUp,
    NoAnswer,
    Raise,
    Reading,
    Retry,
    Return,
    Verdict,
    batch_round,
    by_cipp_body,
    by_status,
    classifier,
    decide,
    is_safe,
    read_status,
    retry_item,
)
from controller.errors import (
    PermissionDenied,
    PropagationPending,
    ServiceError,
    ServiceFault,
    Transient,
)

TENANT = "6f1c0d4e-0000-4000-8000-000000000001"
POLICY = RetryPolicy()  # 5 attempts, 8 throttled, replication budget 60 s
GRAPH = by_status("graph", TENANT)

GET = Call("GET", "/users/u", safe=True)
DELETE = Call("DELETE", "/users/u", safe=True)
NEW = Call("GET", "/groups/g", safe=True, expect_new=True)
CREATE = Call("POST", "/groups", safe=False, can_look_up=True)
BLIND_CREATE = Call("POST", "/groups", safe=False)
SAFE_POST = Call("POST", "/adminapi/beta/InvokeCommand", safe=True)  # an Exchange Get-*

RAN = Attempts(counted=1, maybe_ran=True)  # an earlier send of the create got no clear answer


def answer(status: int, code: str = "someCode", **headers: str) -> ServiceResponse:
    body = {"error": {"code": code, "message": "boom"}}
    return ServiceResponse(status, {"request-id": "req-1", **headers}, body)


def lost(*, reached: bool) -> NoAnswer:
    error = Transient("POST /groups: ReadTimeout", service="graph", tenant=TENANT)
    return NoAnswer(error, reached=reached)


def shape(decision: Decision) -> tuple[Any, ...]:
    """A decision as plain data (errors do not compare by value)."""
    if isinstance(decision, Return):
        return ("return", decision.response.status)
    if isinstance(decision, Raise):
        return ("raise", type(decision.error).__name__)
    if isinstance(decision, Retry):
        return ("retry", decision.after, decision.backoff, decision.attempts)
    return ("look up", shape(decision.otherwise))


def facts(error: ServiceError) -> tuple[Any, ...]:
    return (error.service, error.tenant, error.status, error.code, error.request_id)


def retry(after: float | None, backoff: int, **attempts: Any) -> tuple[Any, ...]:
    return ("retry", after, backoff, Attempts(**attempts))


# (case, call, answer, earlier attempts, elapsed seconds, expected decision)
TABLE: list[tuple[str, Call, ServiceResponse | NoAnswer, Attempts, float, tuple[Any, ...]]] = [
    # 2xx
    ("200 is the answer", GET, ServiceResponse(200, {}, {}), Attempts(), 0, ("return", 200)),
    ("201 of a create", CREATE, ServiceResponse(201, {}, {}), Attempts(), 0, ("return", 201)),
    ("204 after retries", DELETE, ServiceResponse(204, {}, None), Attempts(2, 3), 0, ("return", 204)),
    # 429: every method, Retry-After, costs no attempt
    ("429 waits Retry-After", GET, answer(429, **{"Retry-After": "7"}), Attempts(), 0,
     retry(7.0, 1, throttled=1)),
    ("429 of a create is re-sent: it did not run", BLIND_CREATE, answer(429), Attempts(), 0,
     retry(None, 1, throttled=1)),
    ("429 backs off by this attempt's number", GET, answer(429), Attempts(counted=2), 0,
     retry(None, 3, counted=2, throttled=1)),
    ("429 with a fractional Retry-After", GET, answer(429, **{"Retry-After": "1.5"}),
     Attempts(), 0, retry(1.5, 1, throttled=1)),
    ("429 with Retry-After 0 does not back off", GET, answer(429, **{"Retry-After": "0"}),
     Attempts(), 0, retry(0.0, 1, throttled=1)),
    ("429 with an unreadable Retry-After backs off", GET,
     answer(429, **{"Retry-After": "soon"}), Attempts(), 0, retry(None, 1, throttled=1)),
    ("429 with an HTTP-date measured from the answer's Date", GET,
     answer(429, **{"Retry-After": "Thu, 26 Nov 2026 09:30:05 GMT",
                    "Date": "Thu, 26 Nov 2026 09:30:00 GMT"}),
     Attempts(), 0, retry(5.0, 1, throttled=1)),
    ("the 8th 429 gives up", GET, answer(429), Attempts(throttled=7), 0, ("raise", "Throttled")),
    ("the 7th 429 still waits", GET, answer(429), Attempts(throttled=6), 0,
     retry(None, 1, throttled=7)),
    # unclear answers to safe requests
    ("503 backs off", GET, answer(503), Attempts(), 0, retry(None, 1, counted=1)),
    ("503 waits Retry-After", GET, answer(503, **{"Retry-After": "4"}), Attempts(), 0,
     retry(4.0, 1, counted=1)),
    ("500 backs off", GET, answer(500), Attempts(), 0, retry(None, 1, counted=1)),
    ("502 backs off", GET, answer(502), Attempts(), 0, retry(None, 1, counted=1)),
    ("504 backs off", GET, answer(504), Attempts(), 0, retry(None, 1, counted=1)),
    ("408 backs off", GET, answer(408), Attempts(), 0, retry(None, 1, counted=1)),
    ("the 3rd 503 is attempt 3", GET, answer(503), Attempts(counted=2, throttled=4), 0,
     retry(None, 3, counted=3, throttled=4)),
    ("the 5th 503 gives up", GET, answer(503), Attempts(counted=4), 0, ("raise", "Transient")),
    ("501 is not transient", GET, answer(501), Attempts(), 0, ("raise", "ServiceFault")),
    ("a POST marked idempotent is retried", SAFE_POST, answer(503), Attempts(), 0,
     retry(None, 1, counted=1)),
    ("a dropped connection on a read", GET, lost(reached=True), Attempts(), 0,
     retry(None, 1, counted=1)),
    ("a dropped connection, last attempt", GET, lost(reached=True), Attempts(counted=4), 0,
     ("raise", "Transient")),
    # connection never made: nothing reached the service, any method is re-sent
    ("connect error on a create", BLIND_CREATE, lost(reached=False), Attempts(), 0,
     retry(None, 1, counted=1)),
    ("connect error on a create, last attempt", CREATE, lost(reached=False), Attempts(counted=4),
     0, ("raise", "Transient")),
    # unclear answers to creates: look up first, never repeat blindly
    ("503 to a create without a look-up", BLIND_CREATE, answer(503), Attempts(), 0,
     ("raise", "Transient")),
    ("503 to a create: look up, then re-send", CREATE, answer(503), Attempts(), 0,
     ("look up", retry(None, 1, counted=1, maybe_ran=True))),
    ("503 to a create: Retry-After after the look-up", CREATE,
     answer(503, **{"Retry-After": "3"}), Attempts(), 0,
     ("look up", retry(3.0, 1, counted=1, maybe_ran=True))),
    ("503 to a create, last attempt: look up, then give up", CREATE, answer(503),
     Attempts(counted=4), 0, ("look up", ("raise", "Transient"))),
    ("408 to a create", CREATE, answer(408), Attempts(), 0,
     ("look up", retry(None, 1, counted=1, maybe_ran=True))),
    ("lost after sending a create", CREATE, lost(reached=True), Attempts(), 0,
     ("look up", retry(None, 1, counted=1, maybe_ran=True))),
    ("lost after sending a create without a look-up", BLIND_CREATE, lost(reached=True),
     Attempts(), 0, ("raise", "Transient")),
    # 404
    ("404 to a first DELETE", DELETE, answer(404), Attempts(), 0, ("raise", "NotFound")),
    ("404 to a DELETE after a lost attempt: deleted", DELETE, answer(404), Attempts(counted=1),
     0, ("return", 204)),
    ("404 to a DELETE after throttling only", DELETE, answer(404), Attempts(throttled=3), 0,
     ("raise", "NotFound")),
    ("404 to an ordinary read", GET, answer(404), Attempts(), 0, ("raise", "NotFound")),
    ("404 to a read of a new object backs off", NEW, answer(404), Attempts(), 0,
     retry(None, 1, counted=1)),
    ("404 to a new object ignores Retry-After", NEW, answer(404, **{"Retry-After": "9"}),
     Attempts(counted=2), 30.0, retry(None, 3, counted=3)),
    ("404 to a new object just inside the budget", NEW, answer(404), Attempts(counted=6), 59.9,
     retry(None, 7, counted=7)),
    ("404 to a new object after the budget", NEW, answer(404), Attempts(counted=6), 60.0,
     ("raise", "PropagationPending")),
    # clashes after a create that may have run
    ("400 after a lost create: look up, else raise", CREATE, answer(400), RAN, 0,
     ("look up", ("raise", "BadRequest"))),
    ("409 after a lost create: look up, else raise", CREATE, answer(409), RAN, 0,
     ("look up", ("raise", "Conflict"))),
    ("412 after a lost create", CREATE, answer(412), RAN, 0, ("look up", ("raise", "Conflict"))),
    ("400 to a first create", CREATE, answer(400), Attempts(), 0, ("raise", "BadRequest")),
    ("403 after a lost create is not a clash", CREATE, answer(403), RAN, 0,
     ("raise", "PermissionDenied")),
    ("a clash with nobody to ask", BLIND_CREATE, answer(409), RAN, 0, ("raise", "Conflict")),
    # everything else stands
    ("401", GET, answer(401), Attempts(), 0, ("raise", "PermissionDenied")),
    ("403", GET, answer(403), Attempts(), 0, ("raise", "PermissionDenied")),
    ("409", GET, answer(409), Attempts(), 0, ("raise", "Conflict")),
    ("302: redirects are not followed", GET, answer(302), Attempts(), 0, ("raise", "ServiceFault")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "reply", "attempts", "elapsed", "expected"),
    [case[1:] for case in TABLE],
    ids=[case[0] for case in TABLE],
)
def test_the_decision_table(
    call: Call,
    reply: ServiceResponse | NoAnswer,
    attempts: Attempts,
    elapsed: float,
    expected: tuple[Any, ...],
) -> None:
    decision = decide(call, reply, attempts, POLICY, elapsed=elapsed, classify=GRAPH)
    assert shape(decision) == expected


def test_the_answer_returned_is_the_answer_received() -> None:
    reply = ServiceResponse(200, {"request-id": "r"}, {"id": "u"})
    decision = decide(GET, reply, Attempts(), POLICY, elapsed=0, classify=GRAPH)
    assert isinstance(decision, Return) and decision.response is reply


def test_errors_raised_are_the_services_own_translation() -> None:
    reply = answer(503, "serviceNotAvailable", **{"Retry-After": "2"})
    decision = decide(GET, reply, Attempts(counted=4), POLICY, elapsed=0, classify=GRAPH)
    assert isinstance(decision, Raise)
    error = decision.error
    assert isinstance(error, Transient)
    assert facts(error) == ("graph", TENANT, 503, "serviceNotAvailable", "req-1")
    assert error.delay == 2.0


def test_a_lost_answer_raises_the_error_the_sender_made() -> None:
    reply = lost(reached=True)
    decision = decide(BLIND_CREATE, reply, Attempts(), POLICY, elapsed=0, classify=GRAPH)
    assert isinstance(decision, Raise) and decision.error is reply.error


def test_a_new_object_still_missing_is_propagation_pending_with_the_404s_facts() -> None:
    reply = answer(404, "Request_ResourceNotFound")
    decision = decide(NEW, reply, Attempts(counted=9), POLICY, elapsed=61.0, classify=GRAPH)
    assert isinstance(decision, Raise)
    error = decision.error
    assert isinstance(error, PropagationPending)
    assert facts(error) == ("graph", TENANT, 404, "Request_ResourceNotFound", "req-1")
    assert error.delay == 60.0
    assert (
        error.message == "/groups/g still answers 404 60 s after it was created (replication delay)"
    )


def test_the_policy_sets_the_limits() -> None:
    policy = RetryPolicy(max_attempts=2, max_throttled_attempts=2, replication_budget=5.0)
    assert shape(
        decide(GET, answer(503), Attempts(counted=1), policy, elapsed=0, classify=GRAPH)
    ) == (
        "raise",
        "Transient",
    )
    assert shape(
        decide(GET, answer(429), Attempts(throttled=1), policy, elapsed=0, classify=GRAPH)
    ) == ("raise", "Throttled")
    assert shape(decide(NEW, answer(404), Attempts(), policy, elapsed=5.0, classify=GRAPH)) == (
        "raise",
        "PropagationPending",
    )


@pytest.mark.parametrize(
    ("method", "idempotent", "safe"),
    [
        ("GET", None, True),
        ("get", None, True),
        ("HEAD", None, True),
        ("OPTIONS", None, True),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("PATCH", None, True),
        ("POST", None, False),
        ("POST", True, True),
        ("GET", False, False),
    ],
)
def test_which_requests_are_safe_to_repeat(
    method: str, idempotent: bool | None, safe: bool
) -> None:
    assert is_safe(method, idempotent) is safe


def test_status_readings() -> None:
    assert read_status(429) is Reading.THROTTLED
    assert {s for s in range(100, 600) if read_status(s) is Reading.UNCLEAR} == {
        408,
        500,
        502,
        503,
        504,
    }
    assert read_status(404) is Reading.ANSWERED


# --- a service's own reading of the body -------------------------------------------------------


def cipp_like(reply: ServiceResponse) -> Verdict:
    """How a service that says "Failed..." in a 500 body could classify: the create ran and
    failed, so it is neither unclear nor worth a look-up."""
    if reply.status == 500 and str(reply.body).startswith("Failed"):
        fault = ServiceFault(str(reply.body), service="cipp", tenant=TENANT, status=500)
        return Verdict(fault, Reading.ANSWERED)
    return by_status("cipp", TENANT)(reply)


def test_a_service_can_classify_a_failed_answer_by_its_body() -> None:
    failed = ServiceResponse(500, {}, "Failed to create group sales@contoso.com")
    decision = decide(CREATE, failed, Attempts(), POLICY, elapsed=0, classify=cipp_like)
    assert shape(decision) == ("raise", "ServiceFault")
    # An unclear 500 stays unclear: the same create is looked up as before.
    bare = ServiceResponse(500, {}, None)
    decision = decide(CREATE, bare, Attempts(), POLICY, elapsed=0, classify=cipp_like)
    assert shape(decision) == ("look up", retry(None, 1, counted=1, maybe_ran=True))


CIPP = by_cipp_body(TENANT)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # AddGroup and ExecGroupsDelete: the endpoint ran and failed, in its own words.
        (500, {"Results": ["Failed to create group. Sales for contoso.com boom"]}, "answered"),
        (500, {"Results": "Could not delete Sales. Error: gone"}, "answered"),
        # A 5xx without CIPP's words (the Functions host, a proxy): unclear, as for any service.
        (500, None, "unclear"),
        (502, "<html>Bad Gateway</html>", "unclear"),
        # AddSharedMailbox and the lists answer their failures 403.
        (403, {"Results": ["Failed to create shared mailbox. taken"]}, "answered"),
        (403, ["The operation couldn't be performed"], "answered"),
        (403, "Resource 'x' does not exist", "answered"),
        # CIPP's access check: the API client lacks a role, or the tenant is not CIPP's.
        (403, "Access to this tenant is not allowed", "refused"),
        (403, "Access to this CIPP API endpoint is not allowed, the 'readonly' ...", "refused"),
        (403, None, "refused"),
        (429, {"Results": "slow down"}, "throttled"),
    ],
)
def test_cipp_failures_are_read_from_their_body(status: int, body: Any, expected: str) -> None:
    verdict = CIPP(ServiceResponse(status, {}, body))
    got = {
        Reading.ANSWERED: "refused" if isinstance(verdict.error, PermissionDenied) else "answered",
        Reading.UNCLEAR: "unclear",
        Reading.THROTTLED: "throttled",
        Reading.NOT_SENT: "not sent",
    }[verdict.reading]
    assert got == expected
    if expected == "answered":
        assert isinstance(verdict.error, ServiceFault) and verdict.error.status == status
        assert verdict.error.code and verdict.error.code in str(body)


def test_a_cipp_create_that_failed_in_its_own_words_is_never_looked_up_or_resent() -> None:
    failed = ServiceResponse(500, {}, {"Results": ["Failed to create group. Sales boom"]})
    decision = decide(CREATE, failed, Attempts(), POLICY, elapsed=0, classify=CIPP)
    assert shape(decision) == ("raise", "ServiceFault")
    assert classifier("cipp", TENANT)(failed).reading is Reading.ANSWERED
    assert classifier("graph", TENANT)(failed).reading is Reading.UNCLEAR


def test_a_service_can_read_throttling_from_the_body() -> None:
    def busy(reply: ServiceResponse) -> Verdict:
        error = Transient("busy", service="cipp", tenant=TENANT, status=reply.status)
        return Verdict(error, Reading.THROTTLED)

    decision = decide(CREATE, answer(503), Attempts(), POLICY, elapsed=0, classify=busy)
    assert shape(decision) == retry(None, 1, throttled=1)


# --- $batch items ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "again"),
    [
        ("GET", 429, True),
        ("POST", 429, True),
        ("GET", 503, True),
        ("patch", 500, True),
        ("POST", 503, False),
        ("GET", 408, False),  # a whole request retries 408; an item does not
        ("GET", 404, False),
        ("GET", 424, False),
        ("GET", 200, False),
    ],
)
def test_which_batch_items_go_again(method: str, status: int, again: bool) -> None:
    assert retry_item(method, ServiceResponse(status, {}, None)) is again


def test_a_batch_round_retries_dependents_and_waits_the_longest_retry_after() -> None:
    items = [
        BatchRequest("a", "PATCH", "/users/a", body={}),
        BatchRequest("b", "PATCH", "/users/b", body={}, depends_on=("a",)),
        BatchRequest("c", "PATCH", "/users/c", body={}, depends_on=("b",)),
        BatchRequest("d", "GET", "/users/d"),
        BatchRequest("e", "GET", "/users/e"),
        BatchRequest("f", "GET", "/users/f", depends_on=("d",)),
    ]
    results: dict[str, ServiceResponse | ServiceError] = {
        "a": ServiceResponse(429, {"Retry-After": "3"}, None),
        "b": ServiceResponse(424, {}, None),
        "c": ServiceResponse(424, {}, None),  # depends on b, which goes again with a
        "d": ServiceResponse(503, {"Retry-After": "9"}, None),
        "e": Transient("envelope lost", service="graph", tenant=TENANT),
        "f": ServiceResponse(200, {}, None),
    }
    next_round = batch_round(items, results)
    assert sorted(next_round.items) == ["a", "b", "c", "d"]
    assert next_round.after == 9.0


def test_a_batch_round_without_retry_after_backs_off() -> None:
    items = [BatchRequest("a", "GET", "/users/a"), BatchRequest("b", "GET", "/users/b")]
    results: dict[str, ServiceResponse | ServiceError] = {
        "a": ServiceResponse(503, {}, None),
        "b": ServiceResponse(404, {}, None),
    }
    next_round = batch_round(items, results)
    assert list(next_round.items) == ["a"] and next_round.after is None
    assert not batch_round(items[1:], results).items


# --- properties ----------------------------------------------------------------------------------

STATUSES = st.sampled_from(
    [200, 201, 204, 302, 400, 401, 403, 404, 408, 409, 412, 424, 429, 500, 501, 502, 503, 504]
)
RETRY_AFTER = st.sampled_from(
    [None, "0", "3", "1.5", "-2", "soon", "inf", "Thu, 26 Nov 2026 09:30:05 GMT"]
)


@st.composite
def replies(draw: st.DrawFn) -> ServiceResponse | NoAnswer:
    if draw(st.integers(0, 5)) == 0:
        return lost(reached=draw(st.booleans()))
    headers = {"Date": "Thu, 26 Nov 2026 09:30:00 GMT"}
    wait = draw(RETRY_AFTER)
    if wait is not None:
        headers["Retry-After"] = wait
    return answer(draw(STATUSES), **headers)


@st.composite
def calls(draw: st.DrawFn) -> Call:
    method = draw(st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]))
    idempotent = draw(st.sampled_from([None, True, False]))
    return Call(
        method,
        "/x",
        safe=is_safe(method, idempotent),
        can_look_up=draw(st.booleans()),
        expect_new=draw(st.booleans()),
    )


def unclear(reply: ServiceResponse | NoAnswer) -> bool:
    if isinstance(reply, NoAnswer):
        return reply.reached
    return reply.status in (408, 500, 502, 503, 504)


@settings(max_examples=300, deadline=None)
@given(
    call=calls(),
    reply=replies(),
    counted=st.integers(0, 8),
    throttled=st.integers(0, 9),
    maybe_ran=st.booleans(),
    elapsed=st.floats(0, 120),
)
def test_every_decision_keeps_the_rules(
    *,
    call: Call,
    reply: ServiceResponse | NoAnswer,
    counted: int,
    throttled: int,
    maybe_ran: bool,
    elapsed: float,
) -> None:
    attempts = Attempts(counted, throttled, maybe_ran)
    decision = decide(call, reply, attempts, POLICY, elapsed=elapsed, classify=GRAPH)
    if isinstance(decision, LookUp):
        assert call.can_look_up  # nobody is asked who cannot answer
        assert not call.safe or maybe_ran
    if not call.safe and unclear(reply):
        # The property that keeps a second group from being made: after an unclear answer a
        # create is re-sent only if a look-up, asked first, found nothing.
        assert isinstance(decision, LookUp | Raise)
    if isinstance(decision, Return):
        status = decision.response.status
        assert (isinstance(reply, ServiceResponse) and reply.ok and decision.response is reply) or (
            status == 204 and call.method == "DELETE" and counted >= 1
        )
    final = decision.otherwise if isinstance(decision, LookUp) else decision
    if isinstance(final, Retry):
        assert final.attempts.sent == attempts.sent + 1
        if isinstance(reply, ServiceResponse) and reply.status == 429:
            assert final.attempts.counted == counted  # a throttled request did not run
        else:
            assert final.attempts.counted == counted + 1
        assert final.after is None or (final.after >= 0 and math.isfinite(final.after))
        assert final.backoff == counted + 1


@settings(max_examples=300, deadline=None)
@given(call=calls(), script=st.lists(replies(), min_size=1, max_size=60))
def test_a_request_ends_and_a_safe_one_is_never_looked_up(
    call: Call, script: list[ServiceResponse | NoAnswer]
) -> None:
    """Send by ``script`` (repeating it as needed), with look-ups that never find anything
    and waits of at least half the backoff: every request ends, within the limits."""
    attempts, elapsed, sends = Attempts(), 0.0, 0
    budget_rounds = math.ceil(POLICY.replication_budget / (0.5 * POLICY.backoff_base))
    limit = POLICY.max_attempts + POLICY.max_throttled_attempts + budget_rounds
    while True:
        reply = script[sends % len(script)]
        sends += 1
        assert sends <= limit
        decision = decide(call, reply, attempts, POLICY, elapsed=elapsed, classify=GRAPH)
        if isinstance(decision, LookUp):
            assert not call.safe
            decision = decision.otherwise
        if not isinstance(decision, Retry):
            return
        step = min(POLICY.backoff_cap, POLICY.backoff_base * 2.0 ** (decision.backoff - 1))
        elapsed += decision.after if decision.after is not None else 0.5 * step
        attempts = decision.attempts
