"""``--notify URL``: post a run's summary to a Microsoft Teams or Slack incoming webhook.

Two halves, kept apart as everywhere in tenantctl:

- pure: :func:`summarize` (in ``_run_summary``, exported here) turns a
  :class:`~controller.plan.Plan` (and, after apply, each tenant's :class:`TenantOutcome`) into
  a :class:`RunSummary`; :func:`teams_message` and :func:`slack_message` render it;
  :func:`notification_payload` picks the renderer from the URL;
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

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx

from controller import redaction
from controller.connectors._headers import retry_after
from controller.errors import UsageError
from controller.gitops._run_summary import (
    RunSummary,
    TenantOutcome,
    TenantSummary,
    count,
    shorten,
    summarize,
    tenant_outcomes,
)

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
    "tenant_outcomes",
]

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
    return redaction.redact_url(url, unparsable="<webhook URL>")


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
    # Whoever holds the URL can post to the channel: no log line or message may show it.
    redaction.remember_url(url)
    return Webhook(url, flavour)


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
                "facts": [
                    {"title": _teams_escape(name), "value": _teams_escape(text)}
                    for name, text in lines
                ],
            }
        )
    if more:
        body.append(
            {
                "type": "TextBlock",
                "text": f"… and {count(more, 'more tenant')} to look at",
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


def _one_line(text: str) -> str:
    """Tenant and service text on one line: a line break (of any kind) or another character
    that is not printable becomes a visible escape, so it cannot start a list item or a fake
    line of the summary."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _teams_escape(text: str) -> str:
    # Teams renders a Markdown subset in TextBlocks and FactSets: a link needs `](`, and
    # there is no escape character, so the pair is split by a zero-width space.
    return _one_line(text).replace("](", "]\u200b(")


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters (links, mentions).
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
            text += f"\n… and {count(more, 'more tenant')} to look at"
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
    """A message another library (or the receiver) wrote, without the webhook URL, its path,
    credentials or anything else :func:`~controller.redaction.redact_text` hides. Redacted
    before it is shortened, so that no secret is cut where its pattern would not match."""
    redacted = redact_url(url)
    path = urlsplit(url).path
    text = text.replace(url, redacted)
    if len(path) > 1:
        text = text.replace(path, "/***")
    return redaction.redact_text(text)


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
        reason = shorten(_scrub(str(problem), webhook.url), 200) or type(problem).__name__
        return f"notification to {shown} not sent: {reason}"
    if 200 <= response.status_code < 300:
        return None
    # A receiver may echo the request (its URL, the Basic credentials of the URL's userinfo)
    # in its error page: what is shown of the answer is redacted first.
    detail = shorten(_scrub(response.text, webhook.url), 120)
    return f"notification to {shown} not sent: HTTP {response.status_code}" + (
        f" ({detail})" if detail else ""
    )
