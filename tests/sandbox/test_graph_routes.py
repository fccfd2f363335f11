"""The Graph route table as a reader relies on it: every route is listed in the docstring of
the module that serves it, and no two routes answer the same request (so the table's order
does not matter)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import pytest

from controller.sandbox._graph._routes import ROUTES, Route

_DOCUMENTED = re.compile(r"``([A-Z]+) (/[^`\s]*)``")  # ``GET /users/{id}``
_DOC_PARAMETER = re.compile(r"\{[^}]*\}")  # {id}
_ROUTE_PARAMETER = re.compile(r"\(\[\^[^]]*\]\+\)")  # ([^/]+)


def _path(route: Route, parameter: Callable[[int], str]) -> str:
    """The route's path with each parameter written by ``parameter(n)``, n counting from 1."""
    count = iter(range(1, 10))
    pattern = route.pattern.pattern.removeprefix("^").removesuffix("$")
    return _ROUTE_PARAMETER.sub(lambda _: parameter(next(count)), pattern).replace("\\", "")


def _endpoint(route: Route) -> str:
    """The route as the module docstrings write it, with ``{}`` for each path parameter."""
    return f"{route.method} {_path(route, lambda n: '{}')}"


def _documented(module_name: str) -> set[str]:
    doc = sys.modules[module_name].__doc__ or ""
    return {
        f"{method} {_DOC_PARAMETER.sub('{}', path)}" for method, path in _DOCUMENTED.findall(doc)
    }


@pytest.mark.parametrize("route", ROUTES, ids=_endpoint)
def test_each_route_is_listed_by_the_module_that_serves_it(route: Route) -> None:
    assert _endpoint(route) in _documented(route.handler.__module__)


@pytest.mark.parametrize("route", ROUTES, ids=_endpoint)
def test_no_other_route_answers_the_same_request(route: Route) -> None:
    example = _path(route, lambda n: f"x{n}")
    assert route.pattern.match(example), example
    matching = [
        _endpoint(other)
        for other in ROUTES
        if other.method == route.method and other.pattern.match(example)
    ]
    assert matching == [_endpoint(route)]
