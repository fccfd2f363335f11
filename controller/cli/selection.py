"""Which tenants a command works on: --tenant, --changed-since and --shard, in that order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from controller.cli.terminal import Terminal
from controller.gitops import changed_tenants, parse_shard
from controller.loader import load_desired
from controller.models import DesiredState
from controller.reconcile import select_tenants


def chosen_tenants(
    terminal: Terminal,
    desired: Path,
    names: Sequence[str] = (),
    *,
    changed_since: str | None = None,
    shard: str | None = None,
) -> DesiredState:
    """Load the desired state and keep the tenants the options select. Bad options fail
    before anything is loaded or observed."""
    chosen_shard = parse_shard(shard) if shard else None
    state = select_tenants(load_desired(desired), names)
    if changed_since:
        changes = changed_tenants(desired, changed_since)
        if not changes.all_tenants:
            touched = sorted(changes.changed)
            terminal.info(f"changed since {changed_since}: {', '.join(touched) or 'no tenant'}")
            state = select_tenants(state, predicate=lambda t: changes.selects(t.metadata.name))
    if chosen_shard is not None:
        state = select_tenants(state, predicate=lambda t: chosen_shard.holds(t.metadata.tenant_id))
        terminal.info(f"shard {chosen_shard}: {len(state.tenants)} tenant(s)")
    return state
