"""``tenantctl sandbox serve|reset``: run the local emulator of the Microsoft endpoints and CIPP."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
import yaml

from controller.cli.options import desired_option
from controller.cli.terminal import Terminal
from controller.errors import UsageError
from controller.files import SHARED, write_atomically
from controller.models.msp import MSPConfig
from controller.sandbox import Sandbox, Scenario, default_scenario, load_scenario
from controller.state_paths import StatePaths

scenario_option = click.option(
    "--scenario",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Scenario YAML (default: the world behind the desired/ demo estate).",
)
state_option = click.option(
    "--state",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory where the sandbox keeps its state (and CA) between runs  [default: "
    ".tenantctl/sandbox in the desired-state repository, where --sandbox looks too].",
)


def _scenario(path: Path | None) -> Scenario:
    if path is None:
        return default_scenario()
    return load_scenario(path)


def _stop_serving(signum: int, frame: object) -> None:
    sys.exit(0)


def msp_document(sb: Sandbox) -> dict[str, Any]:
    """An msp.yaml pointing every endpoint at the running sandbox (secrets from env)."""
    partner = sb.world.partner
    endpoints = sb.endpoints
    spec: dict[str, Any] = {
        "cloud": "global",
        "endpoints": {
            "login": endpoints["login"],
            "graph": endpoints["graph"],
            "exchange": endpoints["exchange"],
            "partnerCenter": endpoints["partnerCenter"],
            "keyVault": endpoints["keyVault"],
        },
        "caBundle": str(sb.ca_path.resolve()),
        "partner": {
            "tenantId": partner.tenant_id,
            "clientId": partner.app.client_id,
            "credential": {"secret": {"env": "TENANTCTL_CLIENT_SECRET"}},
        },
    }
    if partner.cipp is not None:
        spec["cipp"] = {
            "baseUrl": endpoints["cipp"],
            "tenantId": partner.tenant_id,
            "clientId": partner.cipp.client_id,
            "secret": {"env": "CIPP_CLIENT_SECRET"},
        }
    document = {
        "apiVersion": "tenantctl/v1",
        "kind": "MSP",
        "metadata": {"name": "sandbox"},
        "spec": spec,
    }
    MSPConfig.model_validate(document)  # what we write must load
    return document


@click.group(
    epilog="\b\nExamples:\n  tenantctl sandbox serve\n  tenantctl sandbox serve --port 8443 "
    "--write-msp sandbox-msp.yaml\n  tenantctl sandbox reset"
)
def sandbox() -> None:
    """Run the local sandbox: Entra login, Graph, Exchange, CIPP and Partner Center on 127.0.0.1."""


@sandbox.command(
    epilog="\b\nExamples:\n  tenantctl sandbox serve\n  tenantctl sandbox serve --scenario big.yaml "
    "--port 9443 --state /tmp/sb --write-msp /tmp/sb/msp.yaml"
)
@scenario_option
@click.option(
    "--port",
    type=click.IntRange(0, 65530),
    default=0,
    show_default=True,
    help="First port (login); the other services take the next four. 0 = free ports.",
)
@state_option
@desired_option
@click.option(
    "--write-msp",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write an msp.yaml whose endpoints point at this sandbox.",
)
@click.option(
    "--epoch",
    type=click.Choice(["now", "scenario"]),
    default="now",
    show_default=True,
    help="Where a new world's clock starts: now (its clients read the wall clock, as against "
    "the real services) or the scenario's fixed epoch. A saved world keeps its own clock.",
)
@click.pass_obj
def serve(
    terminal: Terminal,
    scenario: Path | None,
    port: int,
    state: Path | None,
    desired: Path,
    write_msp: Path | None,
    epoch: str,
) -> None:
    """Serve the sandbox until interrupted (Ctrl-C), printing its endpoints and CA.

    State is saved to --state on exit, so the next serve continues where this one stopped.
    """
    state = state or StatePaths.of(desired).sandbox
    start = time.time() if epoch == "now" else None
    sb = Sandbox(_scenario(scenario), state_dir=state, port=port, epoch=start)
    try:
        sb.start()
    except OSError as problem:
        raise UsageError(f"cannot listen on 127.0.0.1 port {port}: {problem}") from problem
    try:
        for name, url in sb.endpoints.items():
            terminal.out(f"{name:<14} {url}")
        terminal.out(f"{'ca':<14} {sb.ca_path.resolve()}")
        terminal.out(f"{'state':<14} {state.resolve()}")
        terminal.info(
            "secrets: export TENANTCTL_CLIENT_SECRET="
            f"{sb.secrets['partner']} CIPP_CLIENT_SECRET={sb.secrets.get('cipp', '')}"
        )
        if write_msp is not None:
            document = yaml.safe_dump(msp_document(sb), sort_keys=False)
            write_atomically(write_msp, document, mode=SHARED)
            terminal.out(f"{'msp':<14} {write_msp.resolve()}")
        terminal.info("serving; press Ctrl-C to stop")
        # SIGTERM (a container stop, `kill`) ends the wait like Ctrl-C, so state is saved.
        signal.signal(signal.SIGTERM, _stop_serving)
        threading.Event().wait()
    finally:
        sb.stop()


@sandbox.command(
    epilog="\b\nExamples:\n  tenantctl sandbox reset\n  tenantctl sandbox reset --state /tmp/sb --scenario big.yaml"
)
@scenario_option
@state_option
@desired_option
@click.pass_obj
def reset(terminal: Terminal, scenario: Path | None, state: Path | None, desired: Path) -> None:
    """Return the sandbox's saved state to the scenario (tenants, clock, everything)."""
    state = state or StatePaths.of(desired).sandbox
    sb = Sandbox(_scenario(scenario), state_dir=state)
    sb.reset()
    terminal.info(f"sandbox state in {state} reset to the scenario")
