"""The last step of a run: files written whole, and a summary sent to a webhook.

A notification that fails never changes a run's outcome: it becomes a warning to report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from controller.files import PRIVATE, write_atomically
from controller.gitops import RunSummary, Webhook, notification_payload, send_notification
from controller.models import DesiredState
from controller.models.declared import estate_declarations
from controller.models.observed import ObservedTenant
from controller.plan import Plan

R = TypeVar("R")


@dataclass(frozen=True)
class Outputs:
    """What a run writes and sends besides its result (each optional): the plan or results as
    JSON (the plan is what ``approve`` reads) and as Markdown for a pull request, and a summary
    to a webhook; ``drift`` words a plan's summary as drift (a scheduled report-only run);
    ``observations``: the plan with what was observed, from which ``tenantctl report`` builds
    the estate report without a run of its own."""

    json: Path | None = None
    markdown: Path | None = None
    webhook: Webhook | None = None
    shard: str | None = None
    drift: bool = False
    observations: Path | None = None


@dataclass(frozen=True)
class Delivered:
    """What the outputs step did: the files it wrote, in order, and what went wrong."""

    written: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run(Generic[R]):
    """A run's result, what its outputs step delivered, and notes for the operator (what the
    run did without, and why)."""

    result: R
    delivered: Delivered
    notes: tuple[str, ...] = ()


def write_output(path: Path, text: str) -> Path:
    """Plans and results name the tenants' users: written whole, readable only by their
    owner."""
    write_atomically(path, text, mode=PRIVATE)
    return path


def notify(webhook: Webhook | None, summary: Callable[[], RunSummary]) -> tuple[str, ...]:
    """Send ``summary`` to ``webhook`` (nothing without one); the warning when it failed."""
    if webhook is None:
        return ()
    warning = send_notification(webhook.url, notification_payload(webhook.url, summary()))
    return (warning,) if warning else ()


def save_observations(
    path: Path, state: DesiredState, plan: Plan, observed: Mapping[str, ObservedTenant]
) -> Path:
    """The plan with what was observed and what git declares (``plan --observations``): what
    ``tenantctl report`` builds the estate report from."""
    # Here, not at the top: a plan run that saves no observations does not load their renderer.
    from controller.render.observations import observations_json, saved_observations

    saved = saved_observations(plan, observed, estate_declarations(state))
    return write_output(path, observations_json(saved))
