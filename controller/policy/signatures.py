"""Signed approvals in OpenSSH's own signature format (``ssh-keygen -Y sign``), Ed25519 keys.

The format is OpenSSH's ``PROTOCOL.sshsig``, so nothing here is invented and anyone can check a
record without tenantctl::

    jq -j .signed_content record.json   # what tenantctl shows as the signed message
    ssh-keygen -Y verify -f allowed_signers -I NAME -n tenantctl-approval -s record.sig

The cryptography is the ``cryptography`` package's Ed25519; this module only lays out the
bytes (the "SSHSIG" blob and its armour). The namespace ``tenantctl-approval`` keeps a
signature made for anything else (a git commit, a file) from passing as an approval.

:func:`sign` needs an OpenSSH private key file (``~/.ssh/id_ed25519``; a passphrase comes from
``TENANTCTL_SIGNING_KEY_PASSPHRASE``). :func:`verify` returns the public key that made a
signature; whether that key belongs to a listed approver is for the caller to decide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from controller.errors import UsageError
from controller.regular_files import KIB, FileRefused, read_regular

# ``cryptography`` is imported where a signature is made or checked: every plan imports this
# module (through apply's journal and approvals) and signs nothing, and the import costs a
# plan about 30 ms of its start-up (tests/unit/test_cli_startup.py).
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = ["NAMESPACE", "PASSPHRASE_VARIABLE", "SignatureInvalid", "key_blob", "sign", "verify"]

NAMESPACE = "tenantctl-approval"
PASSPHRASE_VARIABLE = "TENANTCTL_SIGNING_KEY_PASSPHRASE"
_MAGIC = b"SSHSIG"
_VERSION = 1
_KEY_TYPE = b"ssh-ed25519"
_HASHES = {b"sha512": hashlib.sha512, b"sha256": hashlib.sha256}
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"


class SignatureInvalid(Exception):
    """A signature that is malformed, for another namespace or key type, or does not match
    the message. The message says which, never the signed content."""


# --- the SSH wire format ------------------------------------------------------------------


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise SignatureInvalid("the signature is truncated")
        chunk = self._data[self._at : self._at + size]
        self._at += size
        return chunk

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.uint32())

    def done(self) -> bool:
        return self._at == len(self._data)


def _public_blob(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(_KEY_TYPE) + _string(raw)


def key_blob(openssh_public_key: str) -> str:
    """The base64 key of an ``ssh-ed25519 AAAA... comment`` line: what identifies the key."""
    parts = openssh_public_key.split()
    return parts[1] if len(parts) >= 2 else ""


def _signed_data(message: bytes, hash_name: bytes) -> bytes:
    digest = _HASHES[hash_name](message).digest()
    return (
        _MAGIC + _string(NAMESPACE.encode()) + _string(b"") + _string(hash_name) + _string(digest)
    )


def _armour(blob: bytes) -> str:
    encoded = base64.b64encode(blob).decode()
    lines = [encoded[i : i + 70] for i in range(0, len(encoded), 70)]
    return "\n".join([_BEGIN, *lines, _END]) + "\n"


def _unarmour(text: str) -> bytes:
    body = text.strip()
    if not body.startswith(_BEGIN) or not body.endswith(_END):
        raise SignatureInvalid("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
    try:
        return base64.b64decode("".join(body[len(_BEGIN) : -len(_END)].split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the signature is not valid base64") from None


# --- signing and verifying ----------------------------------------------------------------


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An OpenSSH Ed25519 private key. Raises :class:`UsageError` saying what is wrong."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = read_regular(path.expanduser(), limit=64 * KIB)
    except FileRefused as refused:
        raise UsageError(f"--sign-with {path}: {refused}") from None
    except OSError as problem:
        raise UsageError(f"--sign-with {path}: cannot read ({problem.strerror})") from None
    passphrase = os.environ.get(PASSPHRASE_VARIABLE)
    try:
        key = serialization.load_ssh_private_key(
            data, password=passphrase.encode() if passphrase else None
        )
    except TypeError:
        raise UsageError(
            f"--sign-with {path}: the key is protected by a passphrase; put it in "
            f"{PASSPHRASE_VARIABLE} (or use a key without one)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError(
            f"--sign-with {path}: not an OpenSSH private key (or a wrong passphrase); "
            "create one with ssh-keygen -t ed25519"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(
            f"--sign-with {path}: only Ed25519 keys sign approvals (ssh-keygen -t ed25519)"
        )
    return key


def public_key_line(key: Ed25519PrivateKey) -> str:
    """``ssh-ed25519 AAAA...``, as it goes into msp.yaml's approvers."""
    from cryptography.hazmat.primitives import serialization

    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def sign(message: bytes, key: Ed25519PrivateKey) -> str:
    """An armoured SSH signature of ``message`` in the approval namespace (sha512)."""
    signature = key.sign(_signed_data(message, b"sha512"))
    blob = (
        _MAGIC
        + struct.pack(">I", _VERSION)
        + _string(_public_blob(key.public_key()))
        + _string(NAMESPACE.encode())
        + _string(b"")
        + _string(b"sha512")
        + _string(_string(_KEY_TYPE) + _string(signature))
    )
    return _armour(blob)


def verify(message: bytes, armoured: str) -> str:
    """The base64 public key (as in ``ssh-ed25519 <key>``) whose holder signed ``message``.
    Raises :class:`SignatureInvalid` when the signature does not hold."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    reader = _Reader(_unarmour(armoured))
    if reader.take(6) != _MAGIC or reader.uint32() != _VERSION:
        raise SignatureInvalid("not an SSH signature of version 1")
    public_blob = reader.string()
    namespace = reader.string()
    reader.string()  # reserved
    hash_name = reader.string()
    signature_blob = reader.string()
    if not reader.done():
        raise SignatureInvalid("the signature has trailing data")
    if namespace != NAMESPACE.encode():
        raise SignatureInvalid(
            f"the signature is for namespace {namespace.decode(errors='replace')!r}, "
            f"not {NAMESPACE!r}"
        )
    if hash_name not in _HASHES:
        raise SignatureInvalid("the signature uses an unknown hash")
    key_reader = _Reader(public_blob)
    if key_reader.string() != _KEY_TYPE:
        raise SignatureInvalid("only ssh-ed25519 signatures are accepted")
    raw_key = key_reader.string()
    signature_reader = _Reader(signature_blob)
    if signature_reader.string() != _KEY_TYPE:
        raise SignatureInvalid("only ssh-ed25519 signatures are accepted")
    raw_signature = signature_reader.string()
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw_key)
        public_key.verify(raw_signature, _signed_data(message, hash_name))
    except (InvalidSignature, ValueError):
        raise SignatureInvalid(
            "the signature does not match the record: it was changed after it was signed"
        ) from None
    return base64.b64encode(public_blob).decode()


def fingerprint(blob: str) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` shows a key."""
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
