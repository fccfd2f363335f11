"""``--notify URL``: post a run's summary to a Microsoft Teams or Slack incoming webhook.

Two halves, kept apart as everywhere in tenantctl:

- pure: :func:`summarize` turns a :class:`~controller.plan.Plan` (and, after apply, each
  tenant's :class:`TenantOutcome`) into a :class:`RunSummary`; :func:`teams_message` and
  :func:`slack_message` render it; :func:`notification_payload` picks the renderer from the URL;
- I/O: :func:`send_notification` posts a payload with httpx through an injectable transport.

Notifying is best effort. A run's outcome never depends on it: :func:`send_notification`
returns a warning string instead of raising, and retries once on 429 or 5xx.

The webhook URL is a secret (anyone holding it can post to the channel): it comes from a CI
secret, and every message here shows only its scheme and host (:func:`redact_url`).

Flavour: ``hooks.slack.com`` is Slack; anything else is Teams (a Teams channel's incoming
webhook or a Power Automate "post to a channel when a webhook request is received" flow, both
of which take an Adaptive Card message). ``slack+https://`` and ``teams+https://`` force one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from controller.connectors._headers import retry_after
from controller.errors import UsageError
from controller.models import Decision
from controller.plan.types import Plan, TenantPlan

__all__ = [
    "Flavour",
    "RunSummary",
    "TenantOutcome",
    "TenantSummary",
    "Webhook",
    "notification_payload",
    "parse_webhook",
    "redact_url",
    "send_notification",
    "slack_message",
    "summarize",
    "teams_message",
]

Mode = Literal["plan", "drift", "apply"]

# Teams rejects messages above about 28 KB and Slack takes at most 50 blocks and 3,000
# characters per text: list the tenants that need attention first, and only that many.
MAX_TENANT_LINES = 20
MAX_ERROR_CHARS = 200
MAX_RETRY_AFTER = 30.0  # seconds; a notification is not worth holding a CI job longer


class Flavour(StrEnum):
    TEAMS = "teams"
    SLACK = "slack"


@dataclass(frozen=True)
class Webhook:
    """A webhook to post to: ``url`` without any ``slack+``/``teams+`` prefix.

    ``str()`` is the redacted form, so a webhook can be put in a message safely.
    """

    url: str
    flavour: Flavour

    def __str__(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Webhook({redact_url(self.url)!r}, {self.flavour.value})"


def redact_url(url: str) -> str:
    """Scheme and host only: a webhook's path and query are its secret."""
    for prefix in ("slack+", "teams+"):
        if url.startswith(prefix):
            url = url[len(prefix) :]
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<webhook URL>"
    if not parts.scheme or not host:
        return "<webhook URL>"
    hidden = "/***" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def parse_webhook(url: str) -> Webhook:
    """Validate ``--notify URL`` and detect its flavour. Call it before the run starts, so a
    mistyped URL is a usage error up front rather than a warning at the end."""
    flavour: Flavour | None = None
    for forced in Flavour:
        if url.startswith(f"{forced.value}+"):
            flavour, url = forced, url[len(forced.value) + 1 :]
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise UsageError(f"--notify: not a URL: {redact_url(url)}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(
            f"--notify expects an https:// webhook URL (optionally slack+https:// or "
            f"teams+https://), got {redact_url(url)}"
        )
    # Plain http would send the secret URL and the summary in clear; only a local receiver
    # (tests, a relay on the same host) may use it.
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise UsageError(f"--notify: use https for {redact_url(url)}; http only for localhost")
    if flavour is None:
        flavour = Flavour.SLACK if host == "hooks.slack.com" else Flavour.TEAMS
    return Webhook(url, flavour)


# --- the summary (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class TenantOutcome:
    """What apply did in one tenant; the apply engine reports one per tenant it ran.

    ``held``: operations not executed because they await approval, their approval is stale,
    policy denies them, or they wait for propagation. ``error``: the tenant failed as a whole
    (already redacted: it comes from tenantctl's error tree).
    """

    applied: int = 0
    failed: int = 0
    held: int = 0
    error: str | None = None


@dataclass(frozen=True)
class TenantSummary:
    name: str
    changes: int
    manual_steps: int
    findings: int
    high_findings: int
    observation: Literal["complete", "partial", "failed"]
    denied: int = 0
    guard_violations: int = 0
    problems: int = 0
    outcome: TenantOutcome | None = None

    @property
    def failed(self) -> bool:
        return bool(
            self.observation == "failed"
            or self.problems
            or (self.outcome and (self.outcome.failed or self.outcome.error))
        )

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.failed
            or self.changes
            or self.manual_steps
            or self.findings
            or self.observation != "complete"
            or self.denied
            or self.guard_violations
        )

    def describe(self, mode: Mode) -> str:
        """One line, the same for every flavour: ``3 changes (2 applied, 1 failed), ...``."""
        parts: list[str] = []
        if self.changes:
            text = _count(self.changes, "change")
            if mode == "drift":
                text += " to match git"
            if self.outcome is not None:
                done = [
                    f"{self.outcome.applied} applied" if self.outcome.applied else "",
                    f"{self.outcome.failed} failed" if self.outcome.failed else "",
                    f"{self.outcome.held} held" if self.outcome.held else "",
                ]
                if any(done):
                    text += f" ({', '.join(d for d in done if d)})"
            parts.append(text)
        if self.outcome is not None and self.outcome.error:
            parts.append(f"error: {_truncate(self.outcome.error)}")
        if self.denied:
            parts.append(f"{self.denied} denied by policy")
        if self.guard_violations:
            parts.append(_count(self.guard_violations, "guard exceeded", "guards exceeded"))
        if self.problems:
            parts.append(_count(self.problems, "object in error", "objects in error"))
        if self.manual_steps:
            parts.append(_count(self.manual_steps, "manual step"))
        if self.findings:
            text = _count(self.findings, "finding")
            if self.high_findings:
                text += f" ({self.high_findings} high)"
            parts.append(text)
        if self.observation == "partial":
            parts.append("observation incomplete")
        elif self.observation == "failed":
            parts.append("not observed")
        return ", ".join(parts) if parts else "no changes"


@dataclass(frozen=True)
class RunSummary:
    mode: Mode
    plan_id: str
    created_at: dt.datetime
    tenants: tuple[TenantSummary, ...]
    link: str | None = None
    shard: str | None = None

    @property
    def changes(self) -> int:
        return sum(t.changes for t in self.tenants)

    @property
    def changed_tenants(self) -> int:
        return sum(1 for t in self.tenants if t.changes)

    def _outcome_total(self, pick: Callable[[TenantOutcome], int]) -> int:
        return sum(pick(t.outcome) for t in self.tenants if t.outcome is not None)

    @property
    def applied(self) -> int:
        return self._outcome_total(lambda o: o.applied)

    @property
    def failed(self) -> int:
        return self._outcome_total(lambda o: o.failed)

    @property
    def held(self) -> int:
        return self._outcome_total(lambda o: o.held)

    @property
    def status(self) -> Literal["good", "warning", "attention"]:
        """``attention`` when something failed; ``warning`` when something waits on a person
        (changes to review, held operations, manual steps, policy refusals, high findings) or
        is unknown; ``good`` otherwise."""
        if any(t.failed for t in self.tenants):
            return "attention"
        waiting = self.held or (self.mode != "apply" and self.changes)
        if waiting or any(
            t.observation != "complete"
            or t.manual_steps
            or t.high_findings
            or t.denied
            or t.guard_violations
            for t in self.tenants
        ):
            return "warning"
        return "good"

    @property
    def title(self) -> str:
        total = len(self.tenants)
        of = f"{self.changed_tenants} of {_count(total, 'tenant')}"
        if self.mode == "plan":
            head = (
                f"{_count(self.changes, 'change')} in {of}"
                if self.changes
                else f"no changes in {_count(total, 'tenant')}"
            )
        elif self.mode == "drift":
            head = (
                f"{of} differ from git" if self.changed_tenants != 1 else f"{of} differs from git"
            )
            if not self.changes:
                head = f"{_count(total, 'tenant')} match git"
        else:
            done = [f"{self.applied} applied"]
            if self.failed:
                done.append(f"{self.failed} failed")
            if self.held:
                done.append(f"{self.held} held")
            head = (
                f"{', '.join(done)} in {of}"
                if self.changes
                else f"nothing to apply in {_count(total, 'tenant')}"
            )
        shard = f" (shard {self.shard})" if self.shard else ""
        return f"tenantctl {self.mode}: {head}{shard}"

    @property
    def subtitle(self) -> str:
        when = self.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"plan {self.plan_id[:12]} · {when}"

    def facts(self) -> list[tuple[str, str]]:
        """The totals, in a fixed order per mode."""
        findings = sum(t.findings for t in self.tenants)
        high = sum(t.high_findings for t in self.tenants)
        incomplete = sum(1 for t in self.tenants if t.observation != "complete")
        facts = [("Tenants", str(len(self.tenants)))]
        if self.mode == "drift":
            facts.append(("Drifted tenants", str(self.changed_tenants)))
        facts.append(("Changes", str(self.changes)))
        if self.mode == "apply":
            facts += [
                ("Applied", str(self.applied)),
                ("Failed", str(self.failed)),
                ("Held", str(self.held)),
            ]
        facts += [
            ("Manual steps", str(sum(t.manual_steps for t in self.tenants))),
            ("Findings", f"{findings} ({high} high)" if high else str(findings)),
            ("Incomplete observation", str(incomplete)),
        ]
        return facts

    def lines(self) -> tuple[list[tuple[str, str]], int]:
        """(tenant, description) for the tenants needing attention, worst first, at most
        :data:`MAX_TENANT_LINES`; and how many more were left out."""
        worth = [t for t in self.tenants if t.needs_attention]
        worth.sort(key=lambda t: (_rank(t), t.name))
        shown = worth[:MAX_TENANT_LINES]
        return [(t.name, t.describe(self.mode)) for t in shown], len(worth) - len(shown)


def _rank(tenant: TenantSummary) -> int:
    if tenant.failed:
        return 0
    if tenant.observation != "complete" or tenant.denied or tenant.guard_violations:
        return 1
    if tenant.changes or tenant.manual_steps:
        return 2
    return 3


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _truncate(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summarize_tenant(tenant: TenantPlan, outcome: TenantOutcome | None) -> TenantSummary:
    return TenantSummary(
        name=tenant.name,
        changes=sum(1 for op in tenant.operations if not op.is_manual),
        manual_steps=len(tenant.manual_steps),
        findings=len(tenant.findings),
        high_findings=sum(1 for f in tenant.findings if f.severity == "high"),
        observation=tenant.observation,
        denied=sum(1 for op in tenant.operations if op.decision is Decision.DENY),
        guard_violations=len(tenant.guard_violations),
        problems=len(tenant.problems),
        outcome=outcome,
    )


def summarize(
    plan: Plan,
    outcomes: Mapping[str, TenantOutcome] | None = None,
    *,
    mode: Mode | None = None,
    link: str | None = None,
    shard: str | None = None,
) -> RunSummary:
    """The summary of a run. ``outcomes`` (tenant name -> what apply did) makes it an apply
    summary; ``mode="drift"`` words a scheduled report-only plan as drift."""
    chosen: Mode = mode or ("apply" if outcomes is not None else "plan")
    if chosen == "apply" and outcomes is None:
        outcomes = {}
    return RunSummary(
        mode=chosen,
        plan_id=plan.plan_id,
        created_at=plan.created_at,
        tenants=tuple(
            _summarize_tenant(
                t,
                (outcomes.get(t.name, TenantOutcome()) if outcomes is not None else None),
            )
            for t in sorted(plan.tenants, key=lambda t: t.name)
        ),
        link=link,
        shard=shard,
    )


# --- rendering (pure) ------------------------------------------------------------------------

_TEAMS_COLOUR = {"good": "Good", "warning": "Warning", "attention": "Attention"}


def teams_message(summary: RunSummary) -> dict[str, Any]:
    """An Adaptive Card 1.4 message, as Teams incoming webhooks and Workflows take it."""
    lines, more = summary.lines()
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": summary.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": _TEAMS_COLOUR[summary.status],
        },
        {
            "type": "TextBlock",
            "text": summary.subtitle,
            "isSubtle": True,
            "spacing": "None",
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [{"title": title, "value": value} for title, value in summary.facts()],
        },
    ]
    if lines:
        body.append(
            {
                "type": "FactSet",
                "separator": True,
                "facts": [{"title": name, "value": text} for name, text in lines],
            }
        )
    if more:
        body.append(
            {
                "type": "TextBlock",
                "text": f"… and {_count(more, 'more tenant')} to look at",
                "isSubtle": True,
                "wrap": True,
            }
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    if summary.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the run", "url": summary.link}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters (links, mentions).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(summary: RunSummary) -> dict[str, Any]:
    """A Block Kit message; ``text`` is the fallback shown in notifications."""
    lines, more = summary.lines()
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary.title[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{title}*\n{_slack_escape(value)}"}
                for title, value in summary.facts()
            ],
        },
    ]
    if lines:
        text = "\n".join(f"• *{_slack_escape(name)}*: {_slack_escape(d)}" for name, d in lines)
        if more:
            text += f"\n… and {_count(more, 'more tenant')} to look at"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    context = _slack_escape(summary.subtitle)
    if summary.link:
        context += f" · <{summary.link}|Open the run>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": summary.title, "blocks": blocks}


def notification_payload(url: str, summary: RunSummary) -> dict[str, Any]:
    """The payload for ``url``'s flavour (raises :class:`UsageError` for a bad URL)."""
    webhook = parse_webhook(url)
    return slack_message(summary) if webhook.flavour is Flavour.SLACK else teams_message(summary)


# --- sending (I/O) ---------------------------------------------------------------------------


def _wait(response: httpx.Response, now: Callable[[], float]) -> float:
    """Retry-After (seconds or an HTTP date) up to 30 s; a second when it gives none."""
    wait = retry_after(response.headers, now=now())
    return 1.0 if wait is None else min(wait, MAX_RETRY_AFTER)


def _scrub(text: str, url: str) -> str:
    """Remove the webhook URL (and its path) from a message another library wrote."""
    redacted = redact_url(url)
    path = urlsplit(url).path
    text = text.replace(url, redacted)
    return text.replace(path, "/***") if len(path) > 1 else text


def send_notification(
    url: str,
    payload: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> str | None:
    """Post ``payload`` to the webhook. ``None`` when delivered, else a warning to report.

    Retries once on 429 or 5xx, after Retry-After (capped at 30 s). Never raises: a failed
    notification must not change the outcome of the run it reports.
    """
    try:
        webhook = parse_webhook(url)
    except UsageError as problem:
        return f"notification not sent: {problem}"
    shown = str(webhook)
    try:
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client:
            response = client.post(webhook.url, json=dict(payload))
            if response.status_code == 429 or response.status_code >= 500:
                sleep(_wait(response, now))
                response = client.post(webhook.url, json=dict(payload))
    # Best effort by design (module docstring): whatever went wrong becomes a warning.
    except Exception as problem:
        reason = _scrub(str(problem), webhook.url) or type(problem).__name__
        return f"notification to {shown} not sent: {reason}"
    if 200 <= response.status_code < 300:
        return None
    detail = _scrub(_truncate(response.text, 120), webhook.url)
    return f"notification to {shown} not sent: HTTP {response.status_code}" + (
        f" ({detail})" if detail else ""
    )
