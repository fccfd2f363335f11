"""GitOps in practice: what CI and schedulers need around plan and apply.

- :mod:`~controller.gitops.shard`: ``--shard K/N``, a deterministic split of the estate (pure);
- :mod:`~controller.gitops.changes`: ``--changed-since REF``, the tenants a branch touched (runs git);
- :mod:`~controller.gitops.checkout`: ``controller --git-url``, a branch kept checked out (runs git);
- :mod:`~controller.gitops.notify`: ``--notify URL``, a run's summary to Teams or Slack (HTTP);
- :mod:`~controller.gitops.templates`: checks that CI templates call only commands and flags
  that exist.
"""

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
