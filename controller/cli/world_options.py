"""Options that say where a command's calls go: real tenants or the local sandbox."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from controller.concurrency import TENANTS_AT_ONCE
from controller.reconcile import Where
from controller.state_paths import DEFAULT_DESIRED, StatePaths

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class WorldOptions:
    sandbox: bool
    state: Path
    concurrency: int

    @property
    def where(self) -> Where:
        return Where(sandbox=self.sandbox, state_dir=self.state)


def world_options(command: F) -> F:
    """Adds --sandbox, --sandbox-state and --concurrency, passed on as ``world``."""

    @click.option(
        "--sandbox",
        is_flag=True,
        help="Run against the local sandbox (an emulator of Graph, Exchange and CIPP) "
        "instead of real tenants. No credentials needed.",
    )
    @click.option(
        "--sandbox-state",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Where the sandbox keeps its state between commands  "
        "[default: .tenantctl/sandbox in the desired-state repository].",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(1, 256),
        default=TENANTS_AT_ONCE,
        show_default=True,
        help="Tenants observed at once (each with at most 4 requests in flight).",
    )
    @functools.wraps(command)
    def wrapper(
        *args: Any, sandbox: bool, sandbox_state: Path | None, concurrency: int, **kwargs: Any
    ) -> Any:
        state = sandbox_state or StatePaths.of(kwargs.get("desired", DEFAULT_DESIRED)).sandbox
        kwargs["world"] = WorldOptions(sandbox, state, concurrency)
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
