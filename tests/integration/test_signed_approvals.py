"""Attributable approvals, end to end against the sandbox: with
``spec.policy.requireSignedApprovals`` apply honours only records signed (``approve
--sign-with``) by a key msp.yaml lists under the approver's own name. Unsigned records, keys
not listed and a listed key signing in someone else's name are held as pending approval and
said so; a record changed after signing (its digest recomputed) makes apply refuse to start;
the valid record runs, and ``history`` names the verified approver. The signatures are
OpenSSH's: ``ssh-keygen -Y verify`` accepts ours, and we accept ``ssh-keygen -Y sign``'s."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from controller.cli import cli
from controller.policy import signatures
from controller.policy._records import _sha256
from tests.integration.conftest import DESIRED


def _key(directory: Path, name: str) -> tuple[Path, str]:
    key = Ed25519PrivateKey.generate()
    path = directory / f"{name}_ed25519"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path, signatures.public_key_line(key)


class Estate:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.desired = tmp_path / "desired"
        shutil.copytree(DESIRED, self.desired)
        keys = tmp_path / "keys"
        keys.mkdir()
        self.dana, dana_public = _key(keys, "dana")
        self.bob, bob_public = _key(keys, "bob")
        self.mallory, _ = _key(keys, "mallory")
        self.dana_public = dana_public
        msp = yaml.safe_load((self.desired / "msp.yaml").read_text())
        msp["spec"]["policy"]["approvers"] = [
            {"name": "Dana Reviewer", "publicKey": dana_public + " dana@northwind"},
            {"name": "Bob Builder", "publicKey": bob_public},
        ]
        msp["spec"]["policy"]["requireSignedApprovals"] = True
        (self.desired / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
        self.world = [
            "--desired",
            str(self.desired),
            "--sandbox",
            "--sandbox-state",
            str(tmp_path / "sb"),
        ]
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        return self.runner.invoke(cli, list(args))

    def approve(self, plan: Path, directory: Path, by: str, key: Path | None) -> Path:
        args = ["approve", str(plan), "--by", by, "--approvals", str(directory)]
        if key is not None:
            args += ["--sign-with", str(key)]
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        (record,) = directory.iterdir()
        return record

    def apply(self, directory: Path) -> Result:
        return self.run(
            "apply", *self.world, "--tenant", "contoso", "--approvals", str(directory),
            "--journal", str(self.root / "journal.sqlite"), "--no-interactive",
        )  # fmt: skip


def test_only_records_signed_by_a_listed_approver_are_honoured(tmp_path: Path) -> None:
    estate = Estate(tmp_path)
    plan = tmp_path / "plan.json"
    planned = estate.run("plan", *estate.world, "--tenant", "contoso", "--out", str(plan))
    assert planned.exit_code == 2, planned.output

    held_because = {
        "unsigned": (None, "Dana Reviewer", "not signed, and msp.yaml requireSignedApprovals is true"),
        "unlisted": (estate.mallory, "Dana Reviewer", "which msp.yaml's approvers do not list"),
        "wrong-key": (estate.bob, "Dana Reviewer", "signed with the key of Bob Builder, but it names Dana Reviewer"),
    }  # fmt: skip
    for case, (key, by, why) in held_because.items():
        directory = tmp_path / case
        record = estate.approve(plan, directory, by, key)
        applied = estate.apply(directory)
        assert applied.exit_code == 2, (case, applied.output)
        assert f"warning: approval {record.name} not honoured: " in applied.stderr
        assert why in applied.stderr, (case, applied.stderr)
        assert "pending-approval: needs approval" in applied.stdout, case

    # Signed by Dana, then changed (a longer expiry) with the digest recomputed: the digest
    # alone is no protection, the signature is.
    tampered_dir = tmp_path / "tampered"
    tampered = estate.approve(plan, tampered_dir, "Dana Reviewer", estate.dana)
    content = json.loads(tampered.read_text())
    content["reason"] = "ticket 4711"
    unsigned = {k: v for k, v in content.items() if k not in ("recordDigest", "signature")}
    content["recordDigest"] = _sha256(
        json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    tampered.write_text(json.dumps(content, indent=2))
    refused = estate.apply(tampered_dir)
    assert refused.exit_code == 1
    assert "1 approval record cannot be trusted" in refused.stderr
    assert "the signature does not match the record: it was changed after it was signed" in (
        refused.stderr
    )

    valid_dir = tmp_path / "valid"
    record = estate.approve(plan, valid_dir, "Dana Reviewer", estate.dana)
    assert json.loads(record.read_text())["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    applied = estate.apply(valid_dir)
    assert applied.exit_code == 0, applied.output
    assert "not honoured" not in applied.stderr
    history = estate.run("history", "--run", "4", "--journal", str(tmp_path / "journal.sqlite"))
    assert history.exit_code == 0, history.output
    fingerprint = signatures.fingerprint(signatures.key_blob(estate.dana_public))
    assert f"approved in {record.name}, signed by Dana Reviewer ({fingerprint})" in history.stdout


ssh_keygen = shutil.which("ssh-keygen")


@pytest.mark.skipif(ssh_keygen is None, reason="OpenSSH's ssh-keygen is not installed")
def test_signatures_are_openssh_signatures(tmp_path: Path) -> None:
    key_path, public = _key(tmp_path, "dana")
    message = b'{"approved_by":"Dana Reviewer"}'
    (tmp_path / "allowed_signers").write_text(f"dana {public}\n")
    (tmp_path / "record.sig").write_text(
        signatures.sign(message, signatures.load_signing_key(key_path))
    )
    checked = subprocess.run(
        [str(ssh_keygen), "-Y", "verify", "-f", str(tmp_path / "allowed_signers"), "-I", "dana",
         "-n", signatures.NAMESPACE, "-s", str(tmp_path / "record.sig")],
        input=message, capture_output=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    (tmp_path / "message").write_bytes(message)
    made = subprocess.run(
        [str(ssh_keygen), "-Y", "sign", "-f", str(key_path), "-n", signatures.NAMESPACE,
         str(tmp_path / "message")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    theirs = (tmp_path / "message.sig").read_text()
    assert signatures.verify(message, theirs) == signatures.key_blob(public)
    with pytest.raises(signatures.SignatureInvalid):
        signatures.verify(message + b" ", theirs)
