"""Which tenants a command works on: --tenant, --selector, --changed-since and --shard, in
that order."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from controller.cli.terminal import Terminal
from controller.errors import UsageError
from controller.gitops import changed_tenants, parse_shard
from controller.loader import load_desired
from controller.models import DesiredState
from controller.models.tenant import LABEL_PATTERN, LABEL_VALUE_PATTERN
from controller.reconcile import select_tenants

_LABEL = re.compile(LABEL_PATTERN)
_LABEL_VALUE = re.compile(LABEL_VALUE_PATTERN)

selector_option = click.option(
    "--selector",
    "-l",
    "selectors",
    multiple=True,
    metavar="LABEL=VALUE",
    help="Only tenants whose metadata.labels match (LABEL=VALUE[,LABEL=VALUE]; repeatable; "
    "all must match).",
)


def parse_selector(selectors: Sequence[str]) -> dict[str, str]:
    """``tier=gold,region=eu`` (and ``--selector`` given again) -> the labels to match."""
    wanted: dict[str, str] = {}
    for selector in selectors:
        for term in selector.split(","):
            name, equals, value = term.strip().partition("=")
            value = value.removeprefix("=")  # kubectl also takes ==
            if not equals or not _LABEL.fullmatch(name) or not _LABEL_VALUE.fullmatch(value):
                raise UsageError(
                    f"--selector {selector!r}: write LABEL=VALUE, e.g. tier=gold (labels and "
                    "values: letters, digits, '.', '_' and '-')"
                )
            if wanted.get(name, value) != value:
                raise UsageError(f"--selector asks for {name}={wanted[name]} and {name}={value}")
            wanted[name] = value
    return wanted


def matches(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(labels.get(name) == value for name, value in wanted.items())


def chosen_tenants(
    terminal: Terminal,
    desired: Path,
    names: Sequence[str] = (),
    *,
    selectors: Sequence[str] = (),
    changed_since: str | None = None,
    shard: str | None = None,
) -> DesiredState:
    """Load the desired state and keep the tenants the options select. Bad options fail
    before anything is loaded or observed."""
    chosen_shard = parse_shard(shard) if shard else None
    wanted = parse_selector(selectors)
    state = select_tenants(load_desired(desired), names)
    if wanted:
        state = select_tenants(state, predicate=lambda t: matches(t.metadata.labels, wanted))
        if not state.tenants:
            shown = ",".join(f"{k}={v}" for k, v in wanted.items())
            terminal.info(f"no tenant has the labels {shown}")
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
