"""Resolving secret references: environment variables and files, one trailing newline
stripped, and errors that name the reference and what to do, never the value; files that are
devices, FIFOs, too large or not UTF-8 refused without showing a byte; and connections
resolving through this one resolver."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from controller.connectors import settings_from_msp
from controller.errors import SecretError, TenantctlError
from controller.models import MSPConfig, SecretRef
from controller.secrets import MAX_SECRET_BYTES, resolve_secret

DESIRED = Path(__file__).resolve().parents[2] / "desired"

VALUE = "s3cr3t-V4lue"


def env(name: str) -> SecretRef:
    return SecretRef.model_validate({"env": name})


def file(path: Path | str) -> SecretRef:
    return SecretRef.model_validate({"file": str(path)})


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANTCTL_TEST_SECRET", VALUE)
    assert resolve_secret(env("TENANTCTL_TEST_SECRET")) == VALUE


def test_from_a_given_environment() -> None:
    assert resolve_secret(env("A"), environ={"A": VALUE}) == VALUE


def test_unset_variable() -> None:
    with pytest.raises(SecretError) as raised:
        resolve_secret(env("TENANTCTL_NOT_SET"), environ={})
    assert str(raised.value) == (
        "env:TENANTCTL_NOT_SET: the environment variable is not set; export it before running "
        "tenantctl (in CI, map the secret into the job's environment)"
    )
    assert isinstance(raised.value, TenantctlError)


def test_empty_variable() -> None:
    with pytest.raises(SecretError, match=r"^env:A: the environment variable is empty; set it"):
        resolve_secret(env("A"), environ={"A": ""})


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (VALUE, VALUE),
        (VALUE + "\n", VALUE),
        (VALUE + "\r\n", VALUE),
        (VALUE + "\n\n", VALUE + "\n"),
        ("-----BEGIN KEY-----\nabc\n-----END KEY-----\n", "-----BEGIN KEY-----\nabc\n-----END KEY-----"),
        (" " + VALUE + " \n", " " + VALUE + " "),
    ],
)  # fmt: skip
def test_from_a_file_one_trailing_newline_stripped(
    tmp_path: Path, content: str, value: str
) -> None:
    path = tmp_path / "secret"
    path.write_bytes(content.encode())
    assert resolve_secret(file(path)) == value


def test_relative_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text(VALUE)
    monkeypatch.chdir(tmp_path)
    assert resolve_secret(file("secret")) == VALUE


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text(VALUE)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_secret(file("~/secret")) == VALUE


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file; create it or point the reference at the file holding the secret"),
        (lambda p: p.mkdir(), "is a directory, not a regular file; point the reference at the file holding the secret"),
        (lambda p: p.write_bytes(b""), "the file is empty; write the secret into it"),
        (lambda p: p.write_bytes(b"\n"), "the file is empty; write the secret into it"),
        (lambda p: p.write_bytes(b"\xff" + VALUE.encode()), "not UTF-8 text; store the secret as text"),
    ],
)  # fmt: skip
def test_file_problems_name_the_reference_not_the_value(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "secret"
    make(path)  # type: ignore[operator]
    with pytest.raises(SecretError) as raised:
        resolve_secret(file(path))
    assert str(raised.value) == f"file:{path}: {message}"
    assert VALUE not in str(raised.value)


# --- files that are not what they seem ------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "kind"),
    [("/dev/zero", "a character device"), ("/dev/null", "a character device")],
)
def test_a_device_is_refused_before_it_is_read(tmp_path: Path, target: str, kind: str) -> None:
    link = tmp_path / "secret"
    link.symlink_to(target)
    for ref in (file(target), file(link)):
        with pytest.raises(SecretError) as raised:
            resolve_secret(ref)
        assert f"is {kind}, not a regular file" in str(raised.value)


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_and_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    with pytest.raises(SecretError) as raised:
        resolve_secret(file(fifo))
    assert str(raised.value) == (
        f"file:{fifo}: is a FIFO (named pipe), not a regular file; point the reference at the "
        "file holding the secret"
    )


def test_a_file_larger_than_a_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"x" * (MAX_SECRET_BYTES + 1))
    with pytest.raises(SecretError, match="is larger than 64 KiB"):
        resolve_secret(file(path))
    path.write_bytes(b"x" * MAX_SECRET_BYTES)
    assert len(resolve_secret(file(path))) == MAX_SECRET_BYTES


def test_a_non_utf8_file_shows_no_byte_of_it(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"ab\xe9cd-the-rest")
    with pytest.raises(SecretError) as raised:
        resolve_secret(file(path))
    message = str(raised.value)
    assert "0xe9" not in message and "\\xe9" not in message and "the-rest" not in message


def test_connections_resolve_through_the_documented_resolver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """settings_from_msp reads secrets with resolve_secret: the README's whitespace rule and
    its messages, not a resolver of its own."""
    secret_file = tmp_path / "cipp"
    secret_file.write_bytes(b" cipp secret with spaces \n")
    document = yaml.safe_load((DESIRED / "msp.yaml").read_text())
    document["spec"]["cipp"]["secret"] = {"file": str(secret_file)}
    msp = MSPConfig.model_validate(document)
    monkeypatch.delenv("TENANTCTL_CLIENT_SECRET", raising=False)
    with pytest.raises(SecretError, match=r"^env:TENANTCTL_CLIENT_SECRET: the environment"):
        settings_from_msp(msp)
    monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", "partner-value")
    settings = settings_from_msp(msp)
    assert settings.cipp is not None
    assert settings.cipp.secret.value == " cipp secret with spaces "
