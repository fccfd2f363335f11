"""Names of a package imported when first used (PEP 562).

A package whose ``__init__`` gathers its modules' names imports all of them the first time any
is needed. A command that uses one (``plan`` needs the planner, never the apply engine or the
report's templates) then pays for all at start-up. :func:`lazy_names` gives the package a
module ``__getattr__`` that imports a name's home module only when the name is first read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps each name to the module that
    defines it. The value is kept in the package once read."""
    namespace = importlib.import_module(package).__dict__

    def attribute(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return attribute
