"""msp.yaml's approvers and requireSignedApprovals: public keys in OpenSSH's Ed25519 form, each
name and key listed once, and requiring signatures only with someone to sign; signing keys
that cannot sign are clear usage errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from controller.errors import UsageError
from controller.models import Policy
from controller.policy import signatures


def _public() -> str:
    return signatures.public_key_line(Ed25519PrivateKey.generate())


def _policy(**fields: Any) -> Policy:
    return Policy.model_validate(fields)


def test_listed_approvers_and_the_requirement() -> None:
    dana, bob = _public(), _public()
    policy = _policy(
        approvers=[{"name": "Dana", "publicKey": dana + " dana@laptop"}, {"name": "Bob", "publicKey": bob}],
        requireSignedApprovals=True,
    )  # fmt: skip
    assert [a.name for a in policy.approvers] == ["Dana", "Bob"]
    assert policy.require_signed_approvals is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requireSignedApprovals": True}, "no approvers are listed"),
        ({"approvers": [{"name": "D", "publicKey": "ssh-rsa AAAAB3Nza"}]}, "not an OpenSSH Ed25519"),
        ({"approvers": [{"name": "D", "publicKey": "ssh-ed25519 short"}]}, "not an OpenSSH Ed25519"),
        ({"requireSignedApprovals": "yes"}, "valid boolean"),
    ],
)  # fmt: skip
def test_bad_approver_settings(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _policy(**fields)


def test_a_name_or_key_listed_twice() -> None:
    key = _public()
    with pytest.raises(ValidationError, match="each public key may be listed once"):
        _policy(approvers=[{"name": "A", "publicKey": key}, {"name": "B", "publicKey": key}])
    with pytest.raises(ValidationError, match="each name may be listed once"):
        _policy(
            approvers=[{"name": "Dana R", "publicKey": _public()}, {"name": "dana  r", "publicKey": _public()}]
        )  # fmt: skip


def test_keys_that_cannot_sign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signatures.PASSPHRASE_VARIABLE, raising=False)
    ecdsa = tmp_path / "ecdsa"
    ecdsa.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(UsageError, match="only Ed25519 keys sign approvals"):
        signatures.load_signing_key(ecdsa)
    locked = tmp_path / "locked"
    locked.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(b"correct horse"),
        )
    )
    with pytest.raises(UsageError, match="protected by a passphrase; put it in"):
        signatures.load_signing_key(locked)
    monkeypatch.setenv(signatures.PASSPHRASE_VARIABLE, "correct horse")
    assert isinstance(signatures.load_signing_key(locked), Ed25519PrivateKey)
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key")
    with pytest.raises(UsageError, match="not an OpenSSH private key"):
        signatures.load_signing_key(garbage)


@pytest.mark.parametrize(
    "signature",
    ["", "-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----", "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----"],
)  # fmt: skip
def test_malformed_signatures_are_invalid_not_crashes(signature: str) -> None:
    with pytest.raises(signatures.SignatureInvalid):
        signatures.verify(b"x", signature)


def test_a_signature_for_another_namespace_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    good = signatures.sign(b"x", key)
    assert signatures.verify(b"x", good) == signatures.key_blob(signatures.public_key_line(key))
    other = good.replace("dGVuYW50Y3RsLWFwcHJvdmFs", "dGVuYW50Y3RsLWFwcHJvdmFt")
    with pytest.raises(signatures.SignatureInvalid):
        signatures.verify(b"x", other)
