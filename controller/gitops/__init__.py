"""GitOps in practice: what CI and schedulers need around plan and apply.

- :mod:`~controller.gitops.shard`: ``--shard K/N``, a deterministic split of the estate (pure);
- :mod:`~controller.gitops.changes`: ``--changed-since REF``, the tenants a branch touched (runs git);
- :mod:`~controller.gitops.checkout`: ``controller --git-url``, a branch kept checked out (runs git);
- :mod:`~controller.gitops.notify`: ``--notify URL``, a run's summary to Teams or Slack (HTTP);
- :mod:`~controller.gitops.templates`: checks that CI templates call only commands and flags
  that exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller._lazy import lazy_names

if TYPE_CHECKING:
    from controller.gitops.changes import ChangeSet, changed_tenants
    from controller.gitops.checkout import DEFAULT_GIT_TIMEOUT, sync_checkout
    from controller.gitops.notify import (
        Flavour,
        RunSummary,
        TenantOutcome,
        TenantSummary,
        Webhook,
        notification_payload,
        parse_webhook,
        redact_url,
        send_notification,
        slack_message,
        summarize,
        teams_message,
        tenant_outcomes,
    )
    from controller.gitops.shard import Shard, parse_shard, select, shard_of
    from controller.gitops.templates import (
        Invocation,
        TemplateProblem,
        check_invocation,
        check_template,
        find_invocations,
    )

__getattr__ = lazy_names(
    __name__,
    {
        "ChangeSet": "controller.gitops.changes",
        "changed_tenants": "controller.gitops.changes",
        "DEFAULT_GIT_TIMEOUT": "controller.gitops.checkout",
        "sync_checkout": "controller.gitops.checkout",
        "Flavour": "controller.gitops.notify",
        "RunSummary": "controller.gitops.notify",
        "TenantOutcome": "controller.gitops.notify",
        "TenantSummary": "controller.gitops.notify",
        "Webhook": "controller.gitops.notify",
        "notification_payload": "controller.gitops.notify",
        "parse_webhook": "controller.gitops.notify",
        "redact_url": "controller.gitops.notify",
        "send_notification": "controller.gitops.notify",
        "slack_message": "controller.gitops.notify",
        "summarize": "controller.gitops.notify",
        "teams_message": "controller.gitops.notify",
        "tenant_outcomes": "controller.gitops.notify",
        "Shard": "controller.gitops.shard",
        "parse_shard": "controller.gitops.shard",
        "select": "controller.gitops.shard",
        "shard_of": "controller.gitops.shard",
        "Invocation": "controller.gitops.templates",
        "TemplateProblem": "controller.gitops.templates",
        "check_invocation": "controller.gitops.templates",
        "check_template": "controller.gitops.templates",
        "find_invocations": "controller.gitops.templates",
    },
)

__all__ = [
    "DEFAULT_GIT_TIMEOUT",
    "ChangeSet",
    "Flavour",
    "Invocation",
    "RunSummary",
    "Shard",
    "TemplateProblem",
    "TenantOutcome",
    "TenantSummary",
    "Webhook",
    "changed_tenants",
    "check_invocation",
    "check_template",
    "find_invocations",
    "notification_payload",
    "parse_shard",
    "parse_webhook",
    "redact_url",
    "select",
    "send_notification",
    "shard_of",
    "slack_message",
    "summarize",
    "sync_checkout",
    "teams_message",
    "tenant_outcomes",
]
