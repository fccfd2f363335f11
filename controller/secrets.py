"""Resolving secret references: ``{env: NAME}`` and ``{file: PATH}`` from the desired state.

The only code that reads a secret's value, and only when a connection needs it (never while
loading or validating). A failure raises :class:`~controller.errors.SecretError` whose
message names the reference (``env:NAME`` / ``file:PATH``) and what to do, never the value
nor any byte of the file.

A file must be a regular file (a link is followed, and must lead to one): not a FIFO, which
would block the read, nor a device such as ``/dev/zero``, which would never end; and at most
:data:`MAX_SECRET_BYTES`. Its content is UTF-8 text of which exactly one trailing line break
(``\\n`` or ``\\r\\n``, as ``echo`` and editors write) is dropped; nothing else is stripped, so
a secret that starts or ends with a space keeps it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from controller.errors import SecretError
from controller.models import SecretRef
from controller.regular_files import KIB, FileRefused, read_regular

__all__ = ["MAX_SECRET_BYTES", "resolve_secret"]

#: A client secret is 40 characters, a PEM private key with its chain a few KiB.
MAX_SECRET_BYTES = 64 * KIB


def resolve_secret(ref: SecretRef, *, environ: Mapping[str, str] | None = None) -> str:
    """The secret's value. ``environ`` defaults to the process environment.

    A file's content loses one trailing newline (``echo secret > file`` writes one); a
    relative path is relative to the working directory, ``~`` is expanded.
    """
    name = ref.describe()
    if ref.env is not None:
        value = (os.environ if environ is None else environ).get(ref.env)
        if value is None:
            raise SecretError(
                f"{name}: the environment variable is not set; export it before running "
                "tenantctl (in CI, map the secret into the job's environment)"
            )
        if not value:
            raise SecretError(f"{name}: the environment variable is empty; set it to the secret")
        return value
    assert ref.file is not None  # SecretRef holds exactly one of env and file
    path = Path(ref.file).expanduser()
    try:
        raw = read_regular(path, limit=MAX_SECRET_BYTES)
    except FileRefused as refused:
        raise SecretError(
            f"{name}: {refused}; point the reference at the file holding the secret"
        ) from None
    except FileNotFoundError:
        raise SecretError(
            f"{name}: no such file; create it or point the reference at the file holding the secret"
        ) from None
    except PermissionError:
        raise SecretError(
            f"{name}: permission denied; let the user running tenantctl read it"
        ) from None
    except OSError as problem:
        raise SecretError(f"{name}: cannot read ({problem.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Not the decoder's message: it quotes the offending byte, a byte of the secret.
        raise SecretError(f"{name}: not UTF-8 text; store the secret as text") from None
    for newline in ("\r\n", "\n"):
        if text.endswith(newline):
            text = text[: -len(newline)]
            break
    if not text:
        raise SecretError(f"{name}: the file is empty; write the secret into it")
    return text
