"""The sandbox: a faithful, stateful HTTPS emulator of Entra login, Microsoft Graph, Exchange
admin REST, CIPP and Partner Center, seeded from a scenario (see ``README.md``).

It listens on 127.0.0.1 only and never connects anywhere. Tests and ``--sandbox`` runs start it
in-process; ``tenantctl sandbox serve`` runs it for other processes::

    from controller.sandbox import Sandbox, default_scenario

    with Sandbox(default_scenario()) as sb:
        sb.endpoints["graph"], sb.ca_path, sb.secrets["partner"]
"""

from controller.sandbox._behaviour import FaultRule, Faults, RequestRecord, Throttle
from controller.sandbox._clock import VirtualClock
from controller.sandbox._sandbox import SERVICES, Sandbox
from controller.sandbox._scenario import (
    Scenario,
    default_scenario,
    generate_scenario,
    load_scenario,
)

__all__ = [
    "SERVICES",
    "FaultRule",
    "Faults",
    "RequestRecord",
    "Sandbox",
    "Scenario",
    "Throttle",
    "VirtualClock",
    "default_scenario",
    "generate_scenario",
    "load_scenario",
]
