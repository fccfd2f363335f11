"""``tenantctl controller --git-url URL --branch NAME``: keep a checkout of the desired-state
repository's branch up to date (runs git).

:func:`sync_checkout` brings ``directory`` to the branch's newest commit: ``git init`` the
first time, then ``git fetch --depth 1`` of that one branch and ``git checkout --force
--detach`` of what was fetched, so edits or a half-finished earlier checkout never survive a
refresh. Each git call is a subprocess without a shell, with a timeout, and never asks
for credentials (``GIT_TERMINAL_PROMPT=0``): a URL's own token, a credential helper, or an
SSH key from the environment are what git uses.

A URL may carry a token (``https://x-access-token:TOKEN@github.com/...``): its parts are
remembered as secrets before git runs, and every message shows the scheme and host only.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from controller import redaction
from controller.errors import SourceError, UsageError

__all__ = ["DEFAULT_GIT_TIMEOUT", "sync_checkout"]

#: Seconds one git call may take before it is stopped (a hung fetch must not stop the loop).
DEFAULT_GIT_TIMEOUT = 120.0

# A branch name git accepts and that cannot be read as an option (git check-ref-format).
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,200}(?<![./])$")


def sync_checkout(
    url: str, branch: str, directory: Path, *, timeout: float = DEFAULT_GIT_TIMEOUT
) -> str:
    """Check out the newest commit of ``branch`` of ``url`` in ``directory`` (created when
    missing); the commit's id. Raises :class:`SourceError` saying what failed."""
    if not _BRANCH.match(branch):
        raise UsageError(f"--branch: not a branch name: {branch[:60]!r}")
    redaction.remember_url(url)
    shown = redaction.redact_url(url, unparsable="<git URL>")
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / ".git").exists():
        _git(directory, timeout, shown, "init", "--quiet")
    remote = f"refs/remotes/origin/{branch}"
    # `--` ends the options: a URL that starts with `-` is a URL, never an option of git.
    _git(
        directory,
        timeout,
        shown,
        "fetch",
        "--quiet",
        "--depth",
        "1",
        "--no-tags",
        "--",
        url,
        f"+refs/heads/{branch}:{remote}",
    )
    _git(directory, timeout, shown, "checkout", "--quiet", "--force", "--detach", remote)
    return _git(directory, timeout, shown, "rev-parse", "HEAD").strip()


def _git(directory: Path, timeout: float, shown: str, *args: str) -> str:
    env = {
        **os.environ,
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",  # never wait for a password nobody will type
        "GIT_OPTIONAL_LOCKS": "0",
    }
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError("--git-url needs git, which is not installed here") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"git {args[0]} of {shown} did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        said = redaction.redact_text(" ".join(done.stderr.split()))[:300]
        raise SourceError(
            f"git {args[0]} of {shown} failed (exit {done.returncode})"
            + (f": {said}" if said else "")
        )
    return done.stdout
