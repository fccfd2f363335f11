"""Which journal a run writes or reads: ``--journal`` (a path or a ``postgresql://`` URL),
else msp.yaml's ``journal.postgres.dsn`` (a secret reference, resolved here; the location
remembers the DSN and its password for redaction), else the SQLite file in the desired-state repository's ``.tenantctl/``.

The DSN is infrastructure, not a service the sandbox emulates: a ``--sandbox`` run writes
the database msp.yaml names too.
"""

from __future__ import annotations

from pathlib import Path

from controller.apply.journal import JournalLocation
from controller.models import MSPConfig
from controller.secrets import resolve_secret
from controller.state_paths import StatePaths


def journal_location(
    given: JournalLocation | None, msp: MSPConfig | None, desired: Path
) -> JournalLocation:
    """The journal a command uses: ``given`` (``--journal``), msp.yaml's PostgreSQL journal,
    or the repository's SQLite file. An unreadable DSN secret is a
    :class:`~controller.errors.SecretError` naming its reference."""
    if given is not None:
        return given
    configured = msp.spec.journal.postgres if msp is not None else None
    if configured is not None:
        return JournalLocation(dsn=resolve_secret(configured.dsn))  # remembered for redaction
    return JournalLocation(path=StatePaths.of(desired).journal)
