"""Resolving secret references: ``{env: NAME}`` and ``{file: PATH}`` from the desired state.

The only code that reads a secret's value, and only when a connection needs it (never while
loading or validating). A failure raises :class:`~controller.errors.SecretError` whose
message names the reference (``env:NAME`` / ``file:PATH``) and what to do, never the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from controller.errors import SecretError
from controller.models import SecretRef

__all__ = ["resolve_secret"]


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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretError(
            f"{name}: no such file; create it or point the reference at the file holding the secret"
        ) from None
    except IsADirectoryError:
        raise SecretError(f"{name}: is a directory; point the reference at a file") from None
    except PermissionError:
        raise SecretError(
            f"{name}: permission denied; let the user running tenantctl read it"
        ) from None
    except UnicodeDecodeError:
        raise SecretError(f"{name}: not UTF-8 text; store the secret as text") from None
    except OSError as problem:
        raise SecretError(f"{name}: cannot read ({problem.strerror})") from None
    for newline in ("\r\n", "\n"):
        if text.endswith(newline):
            text = text[: -len(newline)]
            break
    if not text:
        raise SecretError(f"{name}: the file is empty; write the secret into it")
    return text
