"""Where each cycle reads the desired state from: a directory, or a branch of a git
repository kept checked out in a work directory.

:meth:`DesiredSource.refresh` is cheap when nothing changed: in git mode it fetches and
compares the commit; in directory mode it compares the size and modification time of every
file under the desired-state and approvals directories. Only a change loads the desired state
again (the loader's full validation), and the tenants of this replica's shard are kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from controller.gitops import DEFAULT_GIT_TIMEOUT, Shard, sync_checkout
from controller.loader import load_desired
from controller.models import DesiredState
from controller.reconcile import select_tenants
from controller.state_paths import StatePaths

__all__ = ["DesiredSource", "GitRepository", "Snapshot"]


@dataclass(frozen=True)
class GitRepository:
    """``--git-url`` and ``--branch``, checked out into ``checkout``."""

    url: str
    branch: str
    checkout: Path
    timeout: float = DEFAULT_GIT_TIMEOUT


@dataclass(frozen=True)
class Snapshot:
    """The desired state a cycle works from (this shard's tenants), where its approvals are,
    and the revision it was read at (a commit, or a digest of the files' sizes and times)."""

    state: DesiredState
    approvals: Path
    revision: str
    changed: bool  # since the previous refresh


class DesiredSource:
    """``desired``: the desired-state directory (with a repository: its path inside the
    checkout). ``approvals``: the approval records (default: ``approvals/`` of the checkout,
    or where ``apply`` finds them for ``desired``)."""

    def __init__(
        self,
        desired: Path,
        *,
        approvals: Path | None = None,
        git: GitRepository | None = None,
        shard: Shard | None = None,
    ) -> None:
        self.git = git
        self.desired = git.checkout / desired if git is not None else desired
        default = (
            git.checkout / "approvals" if git is not None else StatePaths.of(desired).approvals
        )
        self.approvals = approvals if approvals is not None else default
        self.shard = shard
        self._last: Snapshot | None = None

    @property
    def last(self) -> Snapshot | None:
        """The last desired state read (kept when a later refresh fails)."""
        return self._last

    def refresh(self) -> Snapshot:
        """Fetch (with a repository) and load the desired state again if it changed. Raises
        :class:`~controller.errors.SourceError` (git) or
        :class:`~controller.errors.DesiredStateError` (the files); :attr:`last` stays."""
        if self.git is not None:
            git = self.git
            revision = sync_checkout(git.url, git.branch, git.checkout, timeout=git.timeout)
        else:
            revision = _files_revision((self.desired, self.approvals))
        last = self._last
        if last is not None and last.revision == revision:
            self._last = Snapshot(last.state, last.approvals, revision, changed=False)
            return self._last
        state = load_desired(self.desired)
        shard = self.shard
        if shard is not None:
            state = select_tenants(state, predicate=lambda t: shard.holds(t.metadata.tenant_id))
        self._last = Snapshot(state, self.approvals, revision, changed=True)
        return self._last


def _files_revision(directories: tuple[Path, ...]) -> str:
    """Every file's path, size and modification time under ``directories``, as one text: a
    file added, removed or written changes it."""
    import hashlib

    digest = hashlib.sha256()
    for directory in directories:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return "files:" + digest.hexdigest()
