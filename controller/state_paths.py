"""Where tenantctl keeps its state: anchored to the desired-state repository, never to the
directory a command happens to run in.

The repository is the parent of the desired-state directory (``--desired``, ``desired`` by
default), or ``$TENANTCTL_HOME`` when set. Under it:

- ``.tenantctl/sandbox/``: the sandbox's saved world (``--sandbox``);
- ``.tenantctl/journal.sqlite``: the journal of apply runs (``tenantctl history``);
- ``approvals/``: approval records, reviewed and merged like any change.

So ``tenantctl plan --desired /srv/estate/desired`` run from ``/tmp`` uses the sandbox and
journal of ``/srv/estate``, not a new one in ``/tmp``. A path that stays relative (the default
``desired`` gives ``.``) is kept relative, so messages show ``approvals/...`` rather than a long
absolute path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_VARIABLE = "TENANTCTL_HOME"
DEFAULT_DESIRED = Path("desired")

HELP = (
    "State lives in the desired-state repository: the parent of --desired, or $TENANTCTL_HOME "
    "when set (.tenantctl/sandbox, .tenantctl/journal.sqlite, approvals/)."
)


@dataclass(frozen=True)
class StatePaths:
    home: Path

    @classmethod
    def of(cls, desired: Path = DEFAULT_DESIRED) -> StatePaths:
        """The state paths of the repository that holds ``desired``."""
        given = os.environ.get(HOME_VARIABLE)
        if given:
            return cls(Path(given).expanduser())
        if desired.name in ("", ".", ".."):
            # ``--desired .`` run inside the directory: its parent is the repository.
            return cls(desired.resolve().parent)
        return cls(desired.parent)

    @property
    def sandbox(self) -> Path:
        return self.home / ".tenantctl" / "sandbox"

    @property
    def journal(self) -> Path:
        return self.home / ".tenantctl" / "journal.sqlite"

    @property
    def approvals(self) -> Path:
        return self.home / "approvals"
