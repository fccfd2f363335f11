"""GitOps in practice: what CI and schedulers need around plan and apply.

- :mod:`~controller.gitops.shard`: ``--shard K/N``, a deterministic split of the estate (pure);
- :mod:`~controller.gitops.changes`: ``--changed-since REF``, the tenants a branch touched (runs git);
- :mod:`~controller.gitops.notify`: ``--notify URL``, a run's summary to Teams or Slack (HTTP);
- :mod:`~controller.gitops.templates`: checks that CI templates call only commands and flags
  that exist.
"""
