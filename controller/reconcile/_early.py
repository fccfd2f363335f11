"""The partner's GDAP relationships, read while the desired state loads.

Every plan reads them before it observes any tenant: OIDC discovery, the partner's token and
the list, three round trips (80 ms at 20 ms latency) in which the run did nothing else. Where
and as whom to read them is in ``msp.yaml`` alone, and loading the tenant files takes longer
(0.3 s of CPU for 200 tenants): :class:`EarlyPartner` reads them meanwhile, on a thread with
an event loop and connections of its own (the read needs 14 ms of CPU: it hardly slows the
load). The run takes them only when its own settings, built from the ``msp.yaml`` loaded with
the tenants, are the same partner's (:func:`same_partner`).

Anything unusual is left to the run, which then reads them itself as it always did: an
``msp.yaml`` that does not load or whose partner secret cannot be read (the run reports it,
all missing secrets at once), a read that raised, the sandbox (it starts with the run). A read
that failed the way a run's read fails (the credential refused, GDAP not permitted) is the
run's answer too: the same failed check, from the same diagnosis. CIPP's facts are never read
early: whether a run uses CIPP depends on the tenants it selects.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from controller.connectors import Accounting, Connections, ConnectionSettings, settings_from_msp
from controller.connectors._msal_http import Template
from controller.connectors._settings import ClientAssertion
from controller.loader import load_msp
from controller.observe import PartnerFacts, read_partner_facts
from controller.reconcile._secrets import without_cipp
from controller.reconcile._world import Where


@dataclass(frozen=True)
class EarlyRead:
    facts: PartnerFacts  # the GDAP relationships only
    accounting: Accounting  # what reading them cost, counted in the run's
    discovered: dict[str, Template]  # the login host's OIDC discovery, not read again


class EarlyPartner:
    """Reads the GDAP relationships with ``settings`` on a thread, from construction on."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._read: EarlyRead | None = None
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[EarlyRead | None] | None = None
        self._thread = threading.Thread(
            target=self._run, name="tenantctl-early-partner", daemon=True
        )
        self._thread.start()

    @classmethod
    @contextmanager
    def reading(cls, desired: Path, where: Where) -> Iterator[EarlyPartner | None]:
        """An early read of the partner named in ``desired``'s ``msp.yaml`` for the block
        (None where there is none to make); stopped and its thread joined when it ends."""
        early = cls.start(desired, where)
        try:
            yield early
        finally:
            if early is not None:
                early.close()

    @classmethod
    def start(cls, desired: Path, where: Where) -> EarlyPartner | None:
        if where.sandbox:
            return None
        try:
            msp = load_msp(desired)
            if msp is None:
                return None
            # Only the partner's credential is read: CIPP's secret may be one the run does
            # without (controller.reconcile._secrets).
            settings = settings_from_msp(without_cipp(msp))
        except Exception:  # the run loads msp.yaml again and reports it
            return None
        return cls(settings)

    def take(self, settings: ConnectionSettings) -> EarlyRead | None:
        """What was read, once the read is done, when ``settings`` name the same partner the
        same way; None when they do not, or the read raised (the run reads them itself)."""
        self._thread.join()
        if self._read is None or not same_partner(settings, self.settings):
            return None
        return self._read

    def close(self) -> None:
        """Stop a read still under way (a run that ended before it took it) and wait for the
        thread: none is left running after the run."""
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the read is over
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join()

    def _run(self) -> None:
        try:
            with asyncio.Runner() as runner:
                self._loop = runner.get_loop()
                self._read = runner.run(self._read_gdap())
        except BaseException:  # whatever it was, the run reads them itself
            self._read = None

    async def _read_gdap(self) -> EarlyRead | None:
        self._task = asyncio.current_task()
        if self._stopping.is_set():
            return None
        async with Connections(self.settings, connections_per_host=2) as connections:
            facts = await read_partner_facts(connections, cipp=False)
            return EarlyRead(facts, connections.accounting, connections.tokens.discovered())


def same_partner(run: ConnectionSettings, early: ConnectionSettings) -> bool:
    """Whether a run with ``run`` reads the relationships as ``early`` did: the endpoints, the
    CA, the partner tenant, the app and its credential (an assertion by where it is read
    from: it is read again for every token)."""
    if (run.endpoints, run.ca_bundle, run.partner_tenant_id, run.client_id) != (
        early.endpoints,
        early.ca_bundle,
        early.partner_tenant_id,
        early.client_id,
    ):
        return False
    if isinstance(run.credential, ClientAssertion) and isinstance(
        early.credential, ClientAssertion
    ):
        return run.credential.source == early.credential.source
    return run.credential == early.credential
