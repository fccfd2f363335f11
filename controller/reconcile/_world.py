"""Where a command's calls go: real Microsoft tenants, or the local sandbox.

With ``--sandbox`` a command starts the sandbox in-process, with its state kept in a local
directory (``.tenantctl/sandbox`` by default) so that ``plan``, ``approve``, ``apply`` and
``plan`` again behave as they would against real tenants. The MSP configuration is used as
written, except that every endpoint points at the sandbox, its CA is trusted, and the secret
references resolve to the sandbox's own secrets (nothing needs exporting). Against real
tenants, every secret the run needs is checked first and all that are missing are reported at
once (``_secrets``); CIPP is left out of a run that can do without it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from controller.connectors import ConnectionSettings, settings_from_msp
from controller.models import MSPConfig, SecretRef, TenantConfig
from controller.reconcile._secrets import msp_for_run

if TYPE_CHECKING:
    from controller.sandbox import Sandbox

DEFAULT_SANDBOX_STATE = Path(".tenantctl/sandbox")


@dataclass(frozen=True)
class Where:
    """Where a run's calls go: real tenants, or the sandbox with its state in ``state_dir``
    (and, for a fresh state, the world ``scenario`` describes; the demo world by default)."""

    sandbox: bool = False
    state_dir: Path = DEFAULT_SANDBOX_STATE
    scenario: Path | None = None


@dataclass
class World:
    """The settings a run connects with, and the sandbox behind them when there is one."""

    settings: ConnectionSettings
    sandbox: Sandbox | None = None
    notes: tuple[str, ...] = ()  # what the run does without (CIPP when its secret is missing)

    @property
    def uses_cipp(self) -> bool:
        return self.settings.cipp is not None

    def now(self) -> dt.datetime:
        """The current time as the services see it (the sandbox's virtual clock)."""
        if self.sandbox is not None:
            return dt.datetime.fromtimestamp(self.sandbox.clock.now(), dt.UTC)
        return dt.datetime.now(dt.UTC)


@contextmanager
def open_world(
    msp: MSPConfig, where: Where = Where(), tenants: Sequence[TenantConfig] | None = None
) -> Iterator[World]:
    """The world a run talks to, for as long as the block lasts. ``tenants``: those the run
    selected (what decides whether CIPP's secret is needed); ``None``: every connection."""
    if not where.sandbox:
        usable, notes = msp_for_run(msp, tenants)
        yield World(settings_from_msp(usable), notes=notes)
        return
    from controller.sandbox import Sandbox, default_scenario, load_scenario

    scenario = load_scenario(where.scenario) if where.scenario is not None else default_scenario()
    # Leaving the block stops the sandbox, which saves its state even when the command
    # failed: real tenants keep what was already written.
    with Sandbox(scenario, state_dir=where.state_dir) as running:
        yield World(sandbox_settings(msp, running), running)


def sandbox_settings(msp: MSPConfig, running: Sandbox) -> ConnectionSettings:
    """``msp.yaml``'s settings with every endpoint, the CA and the secrets of the sandbox."""
    secrets = running.secrets
    cipp_ref = msp.spec.cipp.secret if msp.spec.cipp is not None else None

    def resolve(ref: SecretRef) -> str:
        return secrets["cipp"] if ref == cipp_ref else secrets["partner"]

    endpoints = running.endpoints
    settings = settings_from_msp(
        msp,
        resolve=resolve,
        endpoint_overrides={
            "login": endpoints["login"],
            "graph": endpoints["graph"],
            "exchange": endpoints["exchange"],
            "partner_center": endpoints["partnerCenter"],
        },
        ca_bundle=running.ca_path,
    )
    if settings.cipp is not None:
        settings = dataclasses.replace(
            settings, cipp=dataclasses.replace(settings.cipp, base_url=endpoints["cipp"])
        )
    return settings
