"""``--notify URL``: the Teams and Slack payloads, as a local receiver gets them, and sending.

Covers: the exact Adaptive Card (plan) and Block Kit (apply) messages received over HTTP on
127.0.0.1; drift wording; flavour detection and the ``slack+``/``teams+`` prefixes; the
tenant list capped and worst first; the webhook URL never shown beyond scheme and host; one
retry on 429/5xx honouring Retry-After (with a fake sleep); and a failed notification coming
back as a warning, never as an exception.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from controller.errors import UsageError
from controller.gitops._run_summary import MAX_TENANT_LINES
from controller.gitops.notify import (
    Flavour,
    TenantOutcome,
    notification_payload,
    parse_webhook,
    redact_url,
    send_notification,
    summarize,
)
from controller.models import Decision, OperationKind
from controller.plan import Backend, Badges, Finding, ManualStep, Operation, Plan, TenantPlan
from tests.fixtures.operation_params import example_params

SECRET_PATH = "/webhookb2/0a1b2c3d@4e5f/IncomingWebhook/9f8e7d6c5b4a/s3cr3t-t0ken"

# --- a local receiver ----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    content_type: str
    body: Any


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    # Answers to give, in order: (status, headers, body); 200 "1" (what Teams says) after that.
    answers: list[tuple[int, dict[str, str], str]] = field(default_factory=list)

    def url(self, path: str = SECRET_PATH, *, prefix: str = "") -> str:
        return f"{prefix}http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                Received(
                    self.path,
                    self.headers.get("Content-Type", ""),
                    json.loads(self.rfile.read(length)),
                )
            )
            status, headers, body = state.answers.pop(0) if state.answers else (200, {}, "1")
            encoded = body.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# --- plans built by hand (the planner is built elsewhere) ---------------------------------------

CREATED = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
OK = Badges(gdap="active", consent="granted", exchange="working (direct)")


def operation(
    tenant: str, n: int, kind: OperationKind = OperationKind.USER_CREATE, **extra: Any
) -> Operation:
    return Operation(
        id=f"{tenant}-{n}",
        tenant=tenant,
        tenant_id="6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
        kind=kind,
        target=f"user:u{n}@{tenant}.com",
        backend=extra.pop("backend", Backend.GRAPH),
        params=example_params(kind),
        fingerprint=f"fp-{tenant}-{n}",
        **extra,
    )


def consent_step(tenant: str) -> Operation:
    return operation(
        tenant,
        99,
        OperationKind.CONSENT_GRANT,
        backend=Backend.MANUAL,
        manual=ManualStep(
            title="Grant admin consent",
            instructions="A Global Administrator of the customer opens the link.",
            link="https://login.microsoftonline.com/x/adminconsent?client_id=y",
        ),
    )


def tenant_plan(name: str, **fields: Any) -> TenantPlan:
    return TenantPlan(
        name=name, tenant_id="6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f", badges=OK, **fields
    )


def demo_plan() -> Plan:
    return Plan(
        plan_id="3b9f0c2a7d1e4f5a6b7c8d9e0f1a2b3c",
        created_at=CREATED,
        desired_digest="d" * 64,
        tenants=(
            tenant_plan("woodgrove", observation="complete"),
            tenant_plan(
                "contoso",
                observation="complete",
                operations=(operation("contoso", 1), operation("contoso", 2)),
                findings=(
                    Finding(
                        check="mfa", severity="high", subject="bob@contoso.com", message="no MFA"
                    ),
                    Finding(
                        check="licences", severity="warning", subject="SPE_E3", message="1 short"
                    ),
                ),
            ),
            tenant_plan(
                "adatum",
                observation="partial",
                operations=(consent_step("adatum"),),
            ),
            tenant_plan(
                "fabrikam",
                observation="complete",
                operations=(operation("fabrikam", 1, decision=Decision.DENY),),
            ),
        ),
    )


# --- payloads, as received ----------------------------------------------------------------------


def test_a_plan_reaches_teams_as_an_adaptive_card(receiver: Receiver) -> None:
    url = receiver.url()
    summary = summarize(demo_plan(), link="https://github.com/northwind/estate/actions/runs/42")
    assert send_notification(url, notification_payload(url, summary)) is None
    [received] = receiver.requests
    assert received.path == SECRET_PATH
    assert received.content_type == "application/json"
    assert received.body == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "tenantctl plan: 3 changes in 2 of 4 tenants",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                            "color": "Warning",
                        },
                        {
                            "type": "TextBlock",
                            "text": "plan 3b9f0c2a7d1e · 2026-11-26 09:30 UTC",
                            "isSubtle": True,
                            "spacing": "None",
                            "wrap": True,
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "Tenants", "value": "4"},
                                {"title": "Changes", "value": "3"},
                                {"title": "Manual steps", "value": "1"},
                                {"title": "Findings", "value": "2 (1 high)"},
                                {"title": "Incomplete observation", "value": "1"},
                            ],
                        },
                        {
                            "type": "FactSet",
                            "separator": True,
                            "facts": [
                                {
                                    "title": "adatum",
                                    "value": "1 manual step, observation incomplete",
                                },
                                {"title": "fabrikam", "value": "1 change, 1 denied by policy"},
                                {"title": "contoso", "value": "2 changes, 2 findings (1 high)"},
                            ],
                        },
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "Open the run",
                            "url": "https://github.com/northwind/estate/actions/runs/42",
                        }
                    ],
                },
            }
        ],
    }


def test_an_apply_reaches_slack_as_blocks(receiver: Receiver) -> None:
    url = receiver.url("/services/T000/B000/XXXXXXXX", prefix="slack+")
    outcomes = {
        "contoso": TenantOutcome(applied=1, failed=1),
        "fabrikam": TenantOutcome(held=1),
        "adatum": TenantOutcome(error="consent: AADSTS7000229 <no service principal> & more"),
    }
    summary = summarize(demo_plan(), outcomes, shard="2/4")
    assert send_notification(url, notification_payload(url, summary)) is None
    [received] = receiver.requests
    assert received.path == "/services/T000/B000/XXXXXXXX"
    title = "tenantctl apply: 1 applied, 1 failed, 1 held in 2 of 4 tenants (shard 2/4)"
    assert received.body == {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Tenants*\n4"},
                    {"type": "mrkdwn", "text": "*Changes*\n3"},
                    {"type": "mrkdwn", "text": "*Applied*\n1"},
                    {"type": "mrkdwn", "text": "*Failed*\n1"},
                    {"type": "mrkdwn", "text": "*Held*\n1"},
                    {"type": "mrkdwn", "text": "*Manual steps*\n1"},
                    {"type": "mrkdwn", "text": "*Findings*\n2 (1 high)"},
                    {"type": "mrkdwn", "text": "*Incomplete observation*\n1"},
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "• *adatum*: error: consent: AADSTS7000229 &lt;no service principal&gt; "
                    "&amp; more, 1 manual step, observation incomplete\n"
                    "• *contoso*: 2 changes (1 applied, 1 failed), 2 findings (1 high)\n"
                    "• *fabrikam*: 1 change (1 held), 1 denied by policy",
                },
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "plan 3b9f0c2a7d1e · 2026-11-26 09:30 UTC"}
                ],
            },
        ],
    }


def test_a_link_in_slack_is_a_link_in_the_context() -> None:
    summary = summarize(
        demo_plan(), link="https://dev.azure.com/northwind/_build/results?buildId=7"
    )
    payload = notification_payload("https://hooks.slack.com/services/T/B/X", summary)
    assert payload["blocks"][-1]["elements"][0]["text"] == (
        "plan 3b9f0c2a7d1e · 2026-11-26 09:30 UTC · "
        "<https://dev.azure.com/northwind/_build/results?buildId=7|Open the run>"
    )


def test_drift_is_worded_as_drift() -> None:
    summary = summarize(demo_plan(), mode="drift")
    assert summary.title == "tenantctl drift: 2 of 4 tenants differ from git"
    assert summary.facts()[:3] == [("Tenants", "4"), ("Drifted tenants", "2"), ("Changes", "3")]
    assert dict(summary.lines()[0])["contoso"] == "2 changes to match git, 2 findings (1 high)"


def test_quiet_runs_say_so() -> None:
    quiet = Plan(
        plan_id="0" * 32,
        created_at=CREATED,
        desired_digest="d" * 64,
        tenants=(tenant_plan("contoso", observation="complete"),),
    )
    assert summarize(quiet).title == "tenantctl plan: no changes in 1 tenant"
    assert summarize(quiet, mode="drift").title == "tenantctl drift: 1 tenant match git"
    assert summarize(quiet, {}).title == "tenantctl apply: nothing to apply in 1 tenant"
    assert summarize(quiet).status == "good"
    assert summarize(quiet).lines() == ([], 0)


def test_status_colours() -> None:
    assert summarize(demo_plan()).status == "warning"
    failed = summarize(demo_plan(), {"contoso": TenantOutcome(applied=2)})
    assert failed.status == "warning"  # adatum partially observed, a denied operation
    assert summarize(demo_plan(), {"contoso": TenantOutcome(failed=1)}).status == "attention"


def test_many_tenants_are_capped_worst_first() -> None:
    busy = [
        tenant_plan(f"t{n:03}", observation="complete", operations=(operation(f"t{n:03}", 1),))
        for n in range(MAX_TENANT_LINES + 5)
    ]
    tenants = (*busy, tenant_plan("zz-broken", observation="failed"))
    plan = Plan(plan_id="1" * 32, created_at=CREATED, desired_digest="d" * 64, tenants=tenants)
    lines, more = summarize(plan).lines()
    assert len(lines) == MAX_TENANT_LINES
    assert more == 6
    assert lines[0] == ("zz-broken", "not observed")
    body = notification_payload("https://example.webhook.office.com/x", summarize(plan))
    card = body["attachments"][0]["content"]["body"]
    assert card[-1]["text"] == "… and 6 more tenants to look at"
    assert card[0]["color"] == "Attention"


# --- flavour and redaction -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "flavour", "posted_to"),
    [
        (
            "https://hooks.slack.com/services/T/B/X",
            Flavour.SLACK,
            "https://hooks.slack.com/services/T/B/X",
        ),
        (
            "https://contoso.webhook.office.com/webhookb2/x",
            Flavour.TEAMS,
            "https://contoso.webhook.office.com/webhookb2/x",
        ),
        (
            "https://prod-12.westeurope.logic.azure.com/workflows/x?sig=y",
            Flavour.TEAMS,
            "https://prod-12.westeurope.logic.azure.com/workflows/x?sig=y",
        ),
        (
            "slack+https://relay.northwind.example/slack",
            Flavour.SLACK,
            "https://relay.northwind.example/slack",
        ),
        ("teams+https://hooks.slack.com/odd", Flavour.TEAMS, "https://hooks.slack.com/odd"),
        ("http://localhost:8080/x", Flavour.TEAMS, "http://localhost:8080/x"),
    ],
)
def test_the_flavour_comes_from_the_url(url: str, flavour: Flavour, posted_to: str) -> None:
    webhook = parse_webhook(url)
    assert (webhook.flavour, webhook.url) == (flavour, posted_to)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.slack.com/x", "expects an https:// webhook URL"),
        ("hooks.slack.com/services/x", "expects an https:// webhook URL"),
        ("http://hooks.slack.com/services/T/B/X", "use https for http://hooks.slack.com/\\*\\*\\*"),
        ("", "expects an https:// webhook URL"),
    ],
)
def test_bad_urls_are_usage_errors_without_the_secret(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        parse_webhook(url)
    assert "services/T" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com/***"),
        ("slack+https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com/***"),
        ("https://h.example:8443/?sig=abc", "https://h.example:8443/***"),
        ("https://h.example", "https://h.example"),
        ("not a url", "<webhook URL>"),
    ],
)
def test_redaction_keeps_scheme_and_host_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_webhook_never_prints_its_secret() -> None:
    webhook = parse_webhook("https://hooks.slack.com/services/T/B/X")
    assert "services" not in str(webhook)
    assert "services" not in repr(webhook)


# --- sending: failures, retries ------------------------------------------------------------------


def test_a_rejected_payload_is_a_warning_without_the_secret(receiver: Receiver) -> None:
    receiver.answers = [(400, {}, f"invalid_payload for {SECRET_PATH}")]
    sleep = FakeSleep()
    warning = send_notification(receiver.url(), {"text": "x"}, sleep=sleep)
    assert warning == (
        f"notification to http://127.0.0.1:{receiver.port}/*** not sent: HTTP 400 "
        "(invalid_payload for /***)"
    )
    assert len(receiver.requests) == 1  # a 4xx is not retried
    assert sleep.calls == []


def test_a_server_error_is_retried_once_after_retry_after(receiver: Receiver) -> None:
    receiver.answers = [(503, {"Retry-After": "7"}, "busy")]
    sleep = FakeSleep()
    assert send_notification(receiver.url(), {"text": "x"}, sleep=sleep) is None
    assert [r.body for r in receiver.requests] == [{"text": "x"}, {"text": "x"}]
    assert sleep.calls == [7.0]


def test_throttling_twice_gives_up_with_a_warning(receiver: Receiver) -> None:
    receiver.answers = [(429, {"Retry-After": "120"}, ""), (429, {"Retry-After": "120"}, "")]
    sleep = FakeSleep()
    warning = send_notification(receiver.url(), {"text": "x"}, sleep=sleep)
    assert warning == f"notification to http://127.0.0.1:{receiver.port}/*** not sent: HTTP 429"
    assert len(receiver.requests) == 2
    assert sleep.calls == [30.0]  # Retry-After is honoured up to 30 s


def test_retry_after_as_an_http_date(receiver: Receiver) -> None:
    receiver.answers = [(500, {"Retry-After": "Thu, 26 Nov 2026 09:30:05 GMT"}, "")]
    sleep = FakeSleep()
    now = dt.datetime(2026, 11, 26, 9, 30, 0, tzinfo=dt.UTC).timestamp()
    assert send_notification(receiver.url(), {}, sleep=sleep, now=lambda: now) is None
    assert sleep.calls == [5.0]


def test_a_retry_without_retry_after_waits_a_second(receiver: Receiver) -> None:
    receiver.answers = [(502, {}, "")]
    sleep = FakeSleep()
    assert send_notification(receiver.url(), {}, sleep=sleep) is None
    assert sleep.calls == [1.0]


def test_an_unreachable_receiver_is_a_warning() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    url = "https://hooks.slack.com/services/T/B/X"
    warning = send_notification(url, {}, transport=httpx.MockTransport(refuse))
    assert warning == (
        "notification to https://hooks.slack.com/*** not sent: "
        "cannot connect to https://hooks.slack.com/***"
    )


def test_a_timeout_is_a_warning() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    warning = send_notification(
        "https://contoso.webhook.office.com/webhookb2/x", {}, transport=httpx.MockTransport(slow)
    )
    assert warning == "notification to https://contoso.webhook.office.com/*** not sent: timed out"


def test_nothing_escapes_from_sending() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("")

    warning = send_notification(
        "https://h.example/x", {}, transport=httpx.MockTransport(broken), sleep=FakeSleep()
    )
    assert warning == "notification to https://h.example/*** not sent: RuntimeError"
    assert send_notification("ftp://h.example/secret", {}) == (
        "notification not sent: --notify expects an https:// webhook URL (optionally "
        "slack+https:// or teams+https://), got ftp://h.example/***"
    )


def test_redirects_are_not_followed() -> None:
    # Following a redirect would hand the payload to wherever the answer points.
    seen: list[str] = []

    def moved(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://elsewhere.example/"})

    warning = send_notification("https://h.example/x", {}, transport=httpx.MockTransport(moved))
    assert warning == "notification to https://h.example/*** not sent: HTTP 302"
    assert seen == ["https://h.example/x"]
