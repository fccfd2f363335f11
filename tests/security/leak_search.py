"""The leak tests' shared tools: run ``tenantctl -vv`` as its own process (its logging set up
as a user's run sets it up), collect everything it printed and wrote, and say where a secret
or any JSON Web Token (every access token Entra and the sandbox issue is one) appears; and a
small estate for ``--sandbox`` runs that generate passwords (:func:`contoso_estate`).

A SQLite journal is searched as its SQL dump too: a long text spills over to overflow pages,
so a value may be split in the file's bytes."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from controller.sandbox import Sandbox, default_scenario
from tests.integration.test_key_vault_sink import BOB, CAROL, vault_desired

__all__ = [
    "JWT",
    "SandboxEstate",
    "clean_environment",
    "contoso_estate",
    "leaks",
    "tenantctl",
    "written_files",
]

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def tenantctl(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[bytes]:
    """``tenantctl -vv ARGS``, stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-c", "from controller.cli import main; main()", "-vv", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def written_files(root: Path, *, outside: Iterable[Path] = ()) -> dict[str, bytes]:
    """Every file under ``root`` but those under (or equal to) a path in ``outside``, by path;
    each SQLite database once more as its SQL dump."""
    skipped = tuple(outside)
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(path == s or path.is_relative_to(s) for s in skipped):
            continue
        content = path.read_bytes()
        found[str(path)] = content
        if content.startswith(b"SQLite format 3\x00"):
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
                found[f"{path} (dump)"] = "\n".join(database.iterdump()).encode()
            database.close()
    return found


def leaks(haystacks: Mapping[str, bytes], secrets: Iterable[str]) -> list[str]:
    """``where: 'secr...'`` for each secret, and each JSON Web Token, found in a haystack."""
    needles = [secret.encode() for secret in secrets]
    return [
        f"{where}: {needle[:4]!r}..."
        for where, content in haystacks.items()
        for needle in [*needles, *JWT.findall(content)]
        if needle in content
    ]


@dataclass(frozen=True)
class SandboxEstate:
    desired: Path
    sandbox_state: Path
    partner_secret: str
    env: dict[str, str]

    @property
    def options(self) -> list[str]:
        """``--desired`` and the sandbox, for plan, apply and controller."""
        return [
            "--desired",
            str(self.desired),
            "--sandbox",
            "--sandbox-state",
            str(self.sandbox_state),
        ]

    def passwords(self) -> list[str]:
        """Every password the runs stored in the sandbox's vault."""
        with Sandbox(default_scenario(), state_dir=self.sandbox_state) as after:
            stored = after.world.vault.secrets
        return [version.value for name in (CAROL, BOB) for version in stored.get(name, [])]


def contoso_estate(tmp_path: Path) -> SandboxEstate:
    """contoso with a new user (carol) and a password reset (bob), passwords to msp.yaml's Key
    Vault (the sandbox's), policy allowing everything (no approval step), in a sandbox whose
    new users are readable at once (apply does not wait for replication)."""
    vault_desired(tmp_path)
    desired = tmp_path / "desired"
    msp = yaml.safe_load((desired / "msp.yaml").read_text())
    msp["spec"]["policy"] = {"default": "allow"}
    (desired / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
    state = tmp_path / "sandbox-state"
    with Sandbox(default_scenario(), state_dir=state) as prepared:
        prepared.replication_delay = 0
        partner_secret = prepared.secrets["partner"]
    return SandboxEstate(desired, state, partner_secret, clean_environment(tmp_path))


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """This process's environment (faketime's clock included: the sandbox's certificate was
    made under it) without tenantctl's, libpq's or a TLS library's settings, HOME in
    ``tmp_path``."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TENANTCTL_", "CIPP_", "PG", "REQUESTS_", "CURL_", "SSL_"))
    }
    return {**kept, "HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
