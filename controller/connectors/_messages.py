"""The plain data the HTTP core hands back: one answer (:class:`ServiceResponse`), and the
items of a Graph ``$batch`` with what each item came to (:class:`BatchRequest`,
:data:`BatchOutcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.errors import ServiceError


@dataclass(frozen=True)
class ServiceResponse:
    """One answer: of a whole request, or of one ``$batch`` item."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class BatchRequest:
    """One item of a Graph ``$batch``. ``url`` is relative to the version (``/users?...``)."""

    id: str
    method: str
    url: str
    body: Any = field(default=None, repr=False)
    headers: Mapping[str, str] | None = None
    depends_on: tuple[str, ...] = ()


BatchOutcome = ServiceResponse | ServiceError
