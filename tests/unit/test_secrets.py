"""Resolving secret references: environment variables and files, one trailing newline
stripped, and errors that name the reference and what to do, never the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.errors import SecretError, TenantctlError
from controller.models import SecretRef
from controller.secrets import resolve_secret

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
        (lambda p: p.mkdir(), "is a directory; point the reference at a file"),
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
